"""``dataprep check-layout``: thin click layer over :func:`dataprep.layouts.check_layout`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError


@click.command(name="check-layout", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("name", required=False)
@click.argument("path", required=False, type=click.Path())
@click.option("--splits", default=None,
              help="Comma-separated splits to check, all required (e.g. train2017 or train,val; '.' = PATH is one "
                   "split folder) [default: the layout's default splits required, its other splits optional].")
@click.option("--list", "list_", is_flag=True, help="List the layouts and exit.")
def check_layout_command(name, path, splits, list_) -> None:
    """Check the dataset folder PATH against layout NAME (coco, ultralytics-coco, lvis, cityscapes, widerface,
    deepfashion-inshop, voc, dota, or a layout .yaml file) and print what is present (✓), missing (✗),
    optional and absent (–) or misplaced (!) as a tree, with the fixes. Exit status: 0 when every required
    part is present, 1 when some are missing, 2 on an error."""
    from .layouts import check_layout, list_layouts

    try:
        if list_:
            rows = list_layouts()
            width = max(len(n) for n, _ in rows)
            for n, title in rows:
                click.echo(f"{n:<{width}}  {title}")
            return
        if not name or not path:
            raise click.UsageError("give a layout NAME and a dataset PATH (or --list).")
        chosen = None if splits is None else [s.strip() for s in splits.split(",")]
        report = check_layout(name, path, chosen)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)
