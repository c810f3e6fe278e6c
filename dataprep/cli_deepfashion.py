"""``dataprep coco-from-deepfashion``: thin click layer over :func:`converters.deepfashion.save_coco_from_deepfashion`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError

from .cli_report import echo_conversion


@click.command(name="coco-from-deepfashion", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("root", type=click.Path())
@click.option("--source", type=click.Choice(["bbox", "segmentation"]), default="bbox", show_default=True,
              help="bbox: Anno/list_bbox_inshop.txt + Eval/list_eval_partition.txt (+ landmarks as keypoints); "
                   "segmentation: validate and normalise Anno/segmentation/DeepFashion_segmentation_*.json.")
@click.option("--out", "-o", type=click.Path(), default=None,
              help="Output folder, or a .json path ({split} in it for several partitions) "
                   "[default: ROOT/annotations/deepfashion_<split>.json, "
                   "deepfashion_segmentation_<split>.json for --source segmentation].")
@click.option("--strict", is_flag=True, help="Stop at the first reported problem (nothing is written).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary: print only the paths written.")
def coco_from_deepfashion_command(root, source, out, strict, quiet) -> None:
    """Convert DeepFashion In-shop annotations under ROOT to COCO JSON, one file per partition
    (train, query, gallery)."""
    from converters.deepfashion import DeepFashionOptions, save_coco_from_deepfashion

    try:
        conversion = save_coco_from_deepfashion(root, out, DeepFashionOptions(source, progress=not quiet),
                                                strict=strict)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    echo_conversion(list(conversion.summaries.values()), conversion.problems, conversion.warnings, quiet)
