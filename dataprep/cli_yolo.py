"""``dataprep coco-from-yolo`` and ``dataprep yolo-from-coco``: thin click layer over :mod:`converters.yolo`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError


def _splits(ctx, param, value):
    out = tuple(s for item in value for s in item.replace(",", " ").split())
    return out or None


@click.command(name="coco-from-yolo", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("root", type=click.Path())
@click.argument("more_splits", nargs=-1, metavar="")
@click.option("--splits", multiple=True, callback=_splits,
              help="Splits to convert: --splits train2017 val2017, comma-separated, or repeated "
                   "[default: every folder under ROOT/images].")
@click.option("--names", type=click.Path(dir_okay=False), default=None,
              help="Class names: an ultralytics data YAML (names: list or {index: name}) or a text file, one "
                   "name per line [default: the ROOT/*.yaml with names; the 80 COCO names for COCO split names].")
@click.option("--task", type=click.Choice(["auto", "detect", "segment"]), default="auto", show_default=True,
              help="auto: per line, 5 numbers = box, odd >= 7 = polygon; detect: every object as its box "
                   "(area w*h, no segmentation); segment: as auto, and box lines get their 4-corner polygon.")
@click.option("--category-ids", type=click.Choice(["auto", "coco91", "contiguous"]), default="auto",
              show_default=True,
              help="auto: COCO's ids (80->91 map) when the names are the 80 COCO names, else 1..N.")
@click.option("--outside", type=click.Choice(["clip", "skip"]), default="clip", show_default=True,
              help="Coordinates outside [0, 1]: clip them, or skip the line (reported either way).")
@click.option("--decimals", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Round pixel coordinates to this many decimals (COCO's own have 2).")
@click.option("--source", type=click.Choice(["auto", "folder", "list"]), default="auto", show_default=True,
              help="Images of a split: ROOT/images/<split>/ (folder) or the list file ROOT/<split>.txt; "
                   "auto: the folder when it exists.")
@click.option("--verify-images", is_flag=True, help="Decode every image fully; corrupt ones are reported and skipped.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes (chunks of images each).")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder for instances_<split>.json [default: ROOT/annotations].")
@click.option("--strict", is_flag=True, help="Any problem (bad line, orphan label, unreadable image...) is fatal.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary; print only the paths written.")
def coco_from_yolo_command(root, more_splits, splits, names, task, category_ids, outside, decimals, source,
                           verify_images, workers, out_dir, strict, quiet) -> None:
    """Convert the YOLO (ultralytics) dataset ROOT (images/<split>/, labels/<split>/) to
    ROOT/annotations/instances_<split>.json, one COCO file per split."""
    from converters.yolo import CocoFromYoloOptions, save_coco_from_yolo

    if more_splits:  # `--splits train2017 val2017`: click hands the names after the first one over here
        if not splits:
            raise click.UsageError(f"unexpected extra argument(s) {' '.join(more_splits)}; to name splits use "
                                   "--splits NAME [NAME ...]")
        splits = tuple(splits) + tuple(s for item in more_splits for s in item.replace(",", " ").split())

    options = CocoFromYoloOptions(splits=splits, names=names, task=task, category_ids=category_ids,
                                  outside=outside, decimals=decimals, verify_images=verify_images, source=source,
                                  workers=workers, strict=strict)
    try:
        summaries = save_coco_from_yolo(root, out_dir, options, progress=not quiet)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for s in summaries:
        if quiet:
            if s.out:
                click.echo(f"wrote {s.out}")
        else:
            click.echo("\n".join(s.lines()))
    if not any(s.out for s in summaries):
        click.echo("error: nothing usable was converted (no readable image, or every label line was bad); "
                   "nothing written. Fix: see the problems listed above.", err=True)
        sys.exit(1)


@click.command(name="yolo-from-coco", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("ann_json", type=click.Path(dir_okay=False))
@click.option("--out", "-o", "out_root", type=click.Path(file_okay=False), required=True,
              help="Dataset root: writes OUT/labels/<split>/*.txt (replacing that folder) and OUT/data.yaml.")
@click.option("--segments", is_flag=True,
              help="Polygon lines (multi-part objects merged into one ring as ultralytics does); objects without "
                   "a polygon get their box line.")
@click.option("--category-ids", type=click.Choice(["auto", "coco91", "contiguous"]), default="auto",
              show_default=True,
              help="Class index of a category: auto = COCO 91->80 map when the categories are COCO's 80, else "
                   "the rank of the id among the sorted ids (contiguous).")
@click.option("--split", default=None, help="Split name [default: the JSON stem without 'instances_'].")
@click.option("--strict", is_flag=True, help="Any problem (unknown category, RLE written as box...) is fatal.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary; print only the paths written.")
def yolo_from_coco_command(ann_json, out_root, segments, category_ids, split, strict, quiet) -> None:
    """Write YOLO label files (as ultralytics' convert_coco / JSON2YOLO: crowd skipped, %g numbers) for the
    COCO instances file ANN_JSON. Images are not copied: put them in OUT/images/<split>/."""
    from converters.yolo import YoloFromCocoOptions, save_yolo_from_coco

    options = YoloFromCocoOptions(segments=segments, category_ids=category_ids, split=split, strict=strict)
    try:
        summary = save_yolo_from_coco(ann_json, out_root, options, progress=not quiet)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if quiet:
        click.echo(f"wrote {summary.out}\nwrote {summary.yaml}")
    else:
        click.echo("\n".join(summary.summary_lines()))
