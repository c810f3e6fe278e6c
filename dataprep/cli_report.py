"""What a converter command prints at the end: warnings, the paths written, summary lines, problems."""
from __future__ import annotations

from typing import Iterable, Sequence

import click

from converters.problems import ProblemLog


def echo_conversion(summaries: Sequence, problems: ProblemLog, warnings: Iterable[str] = (),
                    quiet: bool = False) -> None:
    """Warnings to stderr; ``wrote PATH`` per summary (``.out``); unless ``quiet``, each summary's ``line()``
    and the problem report (counts per kind with located examples)."""
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for summary in summaries:
        click.echo(f"wrote {summary.out}")
    if quiet:
        return
    for summary in summaries:
        click.echo(summary.line())
    lines = problems.summary_lines()
    if lines:
        click.echo(f"problems ({problems.total}):")
        click.echo("\n".join(f"  {line}" for line in lines))
