"""Small click helpers shared by the converter commands."""
from __future__ import annotations

from typing import Any, Iterable, Sequence, Tuple

import click


class ChoicesOption(click.Option):
    """A ``multiple=True`` option that also takes several values after one flag when each is one of
    ``choices`` (``--splits train val``), besides repeats (``--splits train --splits val``) and commas
    (``--splits train,val``). A following positional argument that is not a choice is left alone."""

    def __init__(self, *args: Any, choices: Sequence[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("multiple", True)
        super().__init__(*args, **kwargs)
        self.greedy_choices = tuple(choices)

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        tables = [getattr(parser, "_long_opt", {}), getattr(parser, "_short_opt", {})]
        for name in self.opts:
            opt = next((t[name] for t in tables if name in t), None)
            if opt is None:  # click internals changed: repeats and commas still work
                continue
            process = opt.process

            def greedy(value: Any, state: Any, process: Any = process) -> None:
                process(value, state)
                while state.rargs and all(p in self.greedy_choices for p in state.rargs[0].split(",") if p):
                    process(state.rargs.pop(0), state)

            opt.process = greedy


def split_choices(values: Iterable[str], choices: Sequence[str], what: str) -> Tuple[str, ...]:
    """Flatten repeated / comma-separated values, keeping order and dropping repeats; unknown ones raise
    :class:`click.BadParameter` naming the allowed values."""
    out = []
    for item in values:
        for part in item.replace(",", " ").split():
            if part not in choices:
                raise click.BadParameter(f"{part!r} is not a {what}; use {', '.join(choices)}")
            if part not in out:
                out.append(part)
    return tuple(out)
