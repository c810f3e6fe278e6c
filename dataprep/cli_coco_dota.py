"""``dataprep coco-from-dota``: thin click layer over :func:`converters.dota.save_coco_from_dota`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError


@click.command(name="coco-from-dota", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("src", type=click.Path())
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None,
              help="Output JSON [default: SRC/annotations/dota_coco.json].")
@click.option("--images", "images_dir", type=click.Path(file_okay=False), default=None,
              help="Images folder [default: SRC/images, or ../images beside a label folder].")
@click.option("--classes", default="dota-v1.0", show_default=True,
              help="Categories: dota-v1.0, dota-v1.5, dota-v2.0, found (sorted names in the labels), "
                   "or comma-separated names. Objects of other classes are skipped and reported.")
@click.option("--no-images", is_flag=True,
              help="Do not read images: width/height = ceil of the largest polygon coordinates, file_name = <stem>.png.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the path written.")
def coco_from_dota_command(src, out, images_dir, classes, no_images, quiet) -> None:
    """Convert DOTA labels in SRC (a split root with images/ and labelTxt/ or annfiles/, or a label folder)
    to COCO-style JSON with float polygons, difficulty and le90 rboxes."""
    from converters.dota import save_coco_from_dota

    try:
        summary = save_coco_from_dota(src, out, images_dir=images_dir, classes=classes, no_images=no_images)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"wrote {summary.out}")
    if not quiet:
        click.echo(summary.line())
