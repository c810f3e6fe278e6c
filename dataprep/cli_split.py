"""``dataprep dota-split``: thin click layer over :func:`dataprep.dota_split.split_dota`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError


def _pad_value(ctx, param, value):
    if value is None:
        return None
    try:
        vals = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: give one integer or three comma-separated integers (B,G,R), "
                                 "e.g. 104,116,124") from None
    if len(vals) not in (1, 3) or any(not 0 <= v <= 255 for v in vals):
        raise click.BadParameter(f"{value!r}: give one integer or three (B,G,R), each in 0..255")
    return vals


def _rates(ctx, param, value):
    out = []
    for item in value:
        for v in item.replace(",", " ").split():
            try:
                r = float(v)
            except ValueError:
                raise click.BadParameter(f"{v!r} is not a number; give e.g. --rates 0.5,1.0,1.5") from None
            if not r > 0:
                raise click.BadParameter(f"{v!r}: rates must be > 0")
            out.append(r)
    if not out:
        raise click.BadParameter("give at least one rate, e.g. --rates 1.0")
    return tuple(out)


def _class_list(value):
    """None, or the names of a known list (dota-v1.0, dota-v1.5, dota-v2.0) or of a comma-separated list."""
    if not value or value == "found":
        return None
    from evaluators.data.dota import DOTA_V15_CLASSES, DOTA_V1_CLASSES, DOTA_V2_CLASSES

    named = {"dota-v1.0": DOTA_V1_CLASSES, "dota-v1.5": DOTA_V15_CLASSES, "dota-v2.0": DOTA_V2_CLASSES}
    return list(named.get(value, [c.strip() for c in value.split(",") if c.strip()]))


@click.command(name="dota-split", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("srcs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "-o", required=True, type=click.Path(),
              help="Output folder: images/, annfiles/ (devkit: labelTxt/, ultralytics: labels/), split_args.json.")
@click.option("--style", type=click.Choice(["mmrotate", "devkit", "ultralytics"]), default="mmrotate",
              show_default=True,
              help="Which tool to reproduce: mmrotate img_split.py, DOTA_devkit ImgSplit_multi_process "
                   "(clipped int polygons, all partial objects, black padding, real resize per rate, tiles "
                   "{id}__{rate}__x___y), or ultralytics split_dota (no padding, .jpg, YOLO-OBB labels/).")
@click.option("--size", type=click.IntRange(min=1), default=1024, show_default=True, help="Window size in pixels.")
@click.option("--gap", type=click.IntRange(min=0), default=200, show_default=True, help="Overlap between windows.")
@click.option("--rates", multiple=True, default=("1.0",), show_default=True, callback=_rates,
              help="Multi-scale rates, comma-separated or repeated (--rates 0.5,1.0,1.5): "
                   "window int(size/rate), gap int(gap/rate); tiles are not resized "
                   "(devkit style: the image is resized by each rate).")
@click.option("--img-rate-thr", type=click.FloatRange(0, 1, max_open=True), default=0.6, show_default=True,
              help="Keep windows whose image-covered fraction is above this.")
@click.option("--iof-thr", type=click.FloatRange(0, 1, max_open=True), default=0.7, show_default=True,
              help="Keep an object in a window when area(object ∩ window)/area(object) >= this.")
@click.option("--padding/--no-padding", default=None,
              help="Pad edge tiles of small images to the full window size [default: on; off for ultralytics].")
@click.option("--pad-value", default=None, callback=_pad_value,
              help="Padding value in BGR order (one value or B,G,R) [default: 104,116,124; 0 for devkit].")
@click.option("--ext", type=click.Choice([".png", ".jpg", ".bmp", ".tif"]), default=None,
              help="Tile image format [default: .png; .jpg for ultralytics].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes (one image each).")
@click.option("--coco", is_flag=True,
              help="Also write a COCO-style JSON of the tiles to OUT/annotations/dota_coco.json (as coco-from-dota).")
@click.option("--classes", default=None,
              help="Write only objects of these classes (dota-v1.0, dota-v1.5, dota-v2.0 or comma-separated names); "
                   "the others are counted in the summary. Also the --coco categories ('found': every class in "
                   "the labels, nothing dropped) [default: all objects; --coco: dota-v1.0].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar on stderr.")
def dota_split_command(srcs, out, style, size, gap, rates, img_rate_thr, iof_thr, padding, pad_value, ext, workers,
                       coco, classes, quiet) -> None:
    """Split DOTA folders SRC... (each with images/ and optional labelTxt/) into overlapping tiles exactly like
    mmrotate's tools/data/dota/split/img_split.py (or, with --style, DOTA_devkit's or ultralytics' splitter).
    A re-run with the same arguments resumes."""
    from .dota_split import split_dota

    class_list = _class_list(classes)
    if coco and style == "ultralytics":
        raise click.UsageError("--coco reads DOTA label files; the ultralytics style writes YOLO-OBB labels instead.")
    try:
        summary = split_dota(list(srcs), out, size=size, gap=gap, rates=tuple(rates), img_rate_thr=img_rate_thr,
                             iof_thr=iof_thr, padding=padding, pad_value=pad_value, ext=ext, workers=workers,
                             progress=not quiet, style=style, classes=class_list)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if summary.missing_labels and not quiet:
        shown = ", ".join(summary.missing_labels[:5]) + (", ..." if len(summary.missing_labels) > 5 else "")
        click.echo(f"[dota-split] {len(summary.missing_labels)} image(s) have no label file, split as empty: {shown}",
                   err=True)
    click.echo(summary.line())
    if coco:
        from converters.dota import save_coco_from_dota

        try:
            conv = save_coco_from_dota(out, classes=class_list or ("found" if classes == "found" else "dota-v1.0"))
        except DataprepError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        click.echo(f"wrote {conv.out}: {conv.line()}")
