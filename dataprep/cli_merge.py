"""``dataprep dota-merge``: thin click layer over :func:`dataprep.dota_merge.merge_folder`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError


@click.command(name="dota-merge", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("tile_preds", type=click.Path(exists=True))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False),
              help="Folder for the merged Task1_<class>.txt files (a .zip beside it for the evaluation server).")
@click.option("--nms-iou", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="Suppress a detection when IoU with a kept one is above this.")
@click.option("--nms", type=click.Choice(["poly", "rotated"]), default="poly", show_default=True,
              help="poly: the devkit's polygon IoU; rotated: IoU of minimum-area rectangles (mmrotate).")
@click.option("--name-style", type=click.Choice(["auto", "devkit", "mmrotate"]), default="auto", show_default=True,
              help="How to read the number after the image name: devkit rate (P1__1__x___y) or window size (P1__1024__x___y).")
@click.option("--classes", default="dota-v1.0", show_default=True,
              help="Write empty files for the classes of this list that have no input: dota-v1.0, dota-v1.5, dota-v2.0, "
                   "none, or comma-separated names.")
@click.option("--no-zip", is_flag=True, help="Do not write the zip.")
@click.option("--device", default="cpu", show_default=True, help="auto, cpu, cuda or cuda:K.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="CPU threads for the torch kernels.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def dota_merge_command(tile_preds, out, nms_iou, nms, name_style, classes, no_zip, device, workers, quiet) -> None:
    """Merge tile-level detections in TILE_PREDS (a folder of Task1_<class>.txt files, or a JSON list of
    {image_name, category, score, poly|rbox} records) into whole-image Task1 files (class-wise NMS)."""
    import torch

    from evaluators.data import dota

    from .dota_merge import merge_folder

    lists = {"dota-v1.0": dota.DOTA_V1_CLASSES, "dota-v1.5": dota.DOTA_V15_CLASSES, "dota-v2.0": dota.DOTA_V2_CLASSES,
             "none": ()}
    class_list = lists.get(classes, tuple(c for c in classes.split(",") if c))
    if workers:
        torch.set_num_threads(workers)
    log = None if quiet else (lambda msg: click.echo(f"[dota-merge] {msg}", err=True))
    try:
        summary = merge_folder(tile_preds, out, nms_iou=nms_iou, nms=nms, name_style=name_style, classes=class_list,
                               make_zip=not no_zip, device=device, log=log, progress=not quiet and sys.stderr.isatty())
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(summary.line())
    click.echo(f"wrote {len(summary.files)} files to {out}" + (f" and {summary.zip_path}" if summary.zip_path else ""))
