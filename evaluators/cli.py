"""``evaluate`` command line: a thin click layer over :func:`evaluators.evaluate`.

Results go to stdout (the pycocotools block, optionally a per-class table); progress and errors go to
stderr. Exit codes: 0 success, 1 bad input (one line: file, record, fix), 2 usage error (click).
"""
from __future__ import annotations

import os
import sys
import time
from typing import List, Optional

import click

from .errors import DataprepError


def _floats(ctx, param, value: Optional[str]) -> Optional[List[float]]:
    if value is None:
        return None
    try:
        return [float(v) for v in value.replace(",", " ").split()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}") from None


def _ints(ctx, param, value: Optional[str]) -> Optional[List[int]]:
    if value is None:
        return None
    try:
        return [int(v) for v in value.replace(",", " ").split()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None


@click.command(name="evaluate", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("preds", type=click.Path())
@click.option("--gt", required=True, type=click.Path(),
              help="Ground truth: COCO/LVIS JSON; for --metric rotated a DOTA labelTxt folder or polygon JSON; "
                   "for --protocol voc07|voc12 a COCO JSON or a VOC year folder (VOCdevkit/VOC2007, with --imageset).")
@click.option("--metric", type=click.Choice(["bbox", "segm", "proposal", "rotated"]), default="bbox", show_default=True)
@click.option("--protocol", type=click.Choice(["coco", "lvis", "voc07", "voc12", "dota-v1.0", "dota-v1.5", "mmrotate"]),
              default=None, help="Evaluation rules [default: lvis for LVIS files, else coco; rotated: dota-v1.0]. "
                                 "voc07 / voc12: PASCAL VOC mAP (11-point / area AP) of boxes.")
@click.option("--device", default="auto", show_default=True,
              help="auto, cpu, cuda or cuda:K; numpy (rotated and VOC only: no torch import). auto: cuda if usable, "
                   "else cpu (rotated and VOC: numpy).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write {metric, stats, per_class} JSON here.")
@click.option("--per-class", is_flag=True, help="Also print a per-category table.")
@click.option("--iou-thrs", callback=_floats,
              help="IoU thresholds, e.g. 0.5,0.75 (default 0.50:0.05:0.95; voc07/voc12: 0.5).")
@click.option("--max-dets", callback=_ints,
              help="Three maxDets, e.g. 1,10,100 (proposal: 100,300,1000); LVIS: the per-image cap (300).")
@click.option("--img-ids", callback=_ints, help="Evaluate only these image ids.")
@click.option("--cat-ids", callback=_ints, help="Evaluate only these category ids.")
@click.option("--class-agnostic", is_flag=True, help="Ignore categories (pycocotools useCats=0).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="CPU threads for the torch kernels [default: all cores torch sees].")
@click.option("--eval-mode", type=click.Choice(["11points", "area"]), default=None,
              help="Rotated: VOC07 11-point or area AP [default: 11points].")
@click.option("--iou-thr", type=click.FloatRange(0, 1), default=0.5, show_default=True, help="Rotated: IoU threshold.")
@click.option("--classes", default=None,
              help="Rotated / VOC: comma-separated class names [default: the protocol's DOTA classes; VOC: the 20 "
                   "VOC classes for a folder, the JSON's categories].")
@click.option("--imageset", default=None,
              help="Rotated: image-set file (one image name per line) [default: every label file]. VOC folder GT: "
                   "a split of ImageSets/Main (test, trainval, ...) or a list file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def evaluate_command(preds, gt, metric, protocol, device, output, per_class, iou_thrs, max_dets, img_ids, cat_ids,
                     class_agnostic, workers, eval_mode, iou_thr, classes, imageset, quiet) -> None:
    """Evaluate detections in PREDS against --gt with the reference tool's exact numbers.

    PREDS is a COCO results JSON (bbox, segm, proposal), or for --metric rotated a folder of
    Task1_<class>.txt files or a results JSON with poly / rbox records, or for --protocol voc07|voc12 a
    COCO results JSON or a folder of the VOC devkit's comp4_det_<set>_<class>.txt files.
    """
    from .api import evaluate

    start = time.perf_counter()
    log = None if quiet else (lambda msg: click.echo(f"[evaluate] {msg}", err=True))
    _check_options(metric, protocol, iou_thrs, max_dets, img_ids, cat_ids, class_agnostic, eval_mode)
    try:
        result = evaluate(gt, preds, metric, device=device, iou_thrs=iou_thrs, max_dets=max_dets, img_ids=img_ids,
                          cat_ids=cat_ids, use_cats=False if class_agnostic else None, protocol=protocol, log=log,
                          progress=not quiet and sys.stderr.isatty(), workers=workers, eval_mode=eval_mode,
                          iou_thr=iou_thr, classes=[c for c in classes.split(",") if c] if classes else None,
                          imageset=imageset)
        if output:
            from dataprep.atomic import write_json_atomic

            write_json_atomic(output, result.to_dict())
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if result.protocol == "lvis":
        click.echo(f"# LVIS protocol (lvis-api 0.5.3 rules){'' if protocol else ', recognised from the annotation file'}")
    click.echo(result.summary())
    if per_class and metric != "rotated" and protocol not in VOC_PROTOCOLS:
        click.echo("")
        click.echo(result.per_class_table())
    if log:
        info = result.info
        log(f"done: {info['images']} images, {info['detections']} detections, metric {metric}, device "
            f"{info['device']}, {time.perf_counter() - start:.2f}s" + (f"; wrote {output}" if output else ""))


VOC_PROTOCOLS = ("voc07", "voc12")


def _check_options(metric, protocol, iou_thrs, max_dets, img_ids, cat_ids, class_agnostic, eval_mode=None) -> None:
    """Refuse options that do not apply to the chosen metric (usage error, exit code 2)."""
    rotated_protocols = ("dota-v1.0", "dota-v1.5", "mmrotate")
    if protocol in VOC_PROTOCOLS:
        if metric != "bbox":
            raise click.UsageError(f"--protocol {protocol} evaluates boxes: use --metric bbox (the default).")
        coco_only = {"--max-dets": max_dets, "--img-ids": img_ids, "--cat-ids": cat_ids,
                     "--class-agnostic": class_agnostic or None, "--eval-mode": eval_mode}
        given = [k for k, v in coco_only.items() if v is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} do(es) not apply to --protocol {protocol} "
                                   "(it fixes the AP rule; use --iou-thrs, --classes, --imageset).")
        return
    if metric == "rotated":
        coco_only = {"--iou-thrs": iou_thrs, "--max-dets": max_dets, "--img-ids": img_ids, "--cat-ids": cat_ids,
                     "--class-agnostic": class_agnostic or None}
        given = [k for k, v in coco_only.items() if v is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} do(es) not apply to --metric rotated (use --iou-thr, --classes, --imageset).")
        if protocol is not None and protocol not in rotated_protocols:
            raise click.UsageError(f"--protocol {protocol} is not a rotated protocol; use dota-v1.0, dota-v1.5 or mmrotate.")
    elif protocol in rotated_protocols:
        raise click.UsageError(f"--protocol {protocol} needs --metric rotated.")


def main() -> None:
    """Console-script entry point.

    After the results are printed and written, the process ends with ``os._exit``: tearing down the
    millions of parsed prediction objects one by one would add most of a second to every run.
    """
    try:
        evaluate_command.main(standalone_mode=False)
        code = 0
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        code = 1
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
