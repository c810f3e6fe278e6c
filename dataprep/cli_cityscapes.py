"""``dataprep coco-from-cityscapes``: thin click layer over :func:`converters.cityscapes.save_coco_from_cityscapes`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError

from .cli_report import echo_conversion

from .click_helpers import ChoicesOption, split_choices

SPLIT_NAMES = ("train", "val", "test")


@click.command(name="coco-from-cityscapes", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("root", type=click.Path())
@click.option("--splits", cls=ChoicesOption, choices=SPLIT_NAMES, default=SPLIT_NAMES, show_default=True,
              help="Splits to convert (--splits train val, or train,val); absent ones are skipped with a warning.")
@click.option("--source", type=click.Choice(["instance-ids", "polygons"]), default="instance-ids", show_default=True,
              help="Read *_gtFine_instanceIds.png (as mmdetection) or rasterise *_gtFine_polygons.json "
                   "(as cityscapesScripts' json2instanceImg; ~0.6% of pixels differ from the released PNGs).")
@click.option("--mmdet-compat", is_flag=True,
              help="Write mmdetection's file: 0-based ids, file names relative to leftImg8bit/<split>/, "
                   "its key order and json.dumps bytes.")
@click.option("--out", "-o", type=click.Path(), default=None,
              help="Output folder, or a .json path ({split} in it for several splits) "
                   "[default: ROOT/annotations/instancesonly_filtered_gtFine_<split>.json].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes (one frame each at a time).")
@click.option("--strict", is_flag=True, help="Stop at the first reported problem (nothing is written).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary: print only the paths written.")
def coco_from_cityscapes_command(root, splits, source, mmdet_compat, out, workers, strict, quiet) -> None:
    """Convert the Cityscapes fine annotations under ROOT (gtFine/ and leftImg8bit/) to COCO instance JSON,
    one file per split: the 8 evaluated instance classes with their Cityscapes ids, RLE masks, crowd groups
    as iscrowd=1."""
    from converters.cityscapes import CityscapesOptions, save_coco_from_cityscapes

    try:
        options = CityscapesOptions(splits=split_choices(splits, SPLIT_NAMES, "Cityscapes split"), source=source,
                                    mmdet_compat=mmdet_compat, workers=workers, progress=not quiet)
        conversion = save_coco_from_cityscapes(root, out, options, strict=strict)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    echo_conversion(list(conversion.summaries.values()), conversion.problems, conversion.warnings, quiet)
