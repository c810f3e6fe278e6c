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
@click.argument("preds", type=click.Path(dir_okay=False))
@click.option("--gt", required=True, type=click.Path(dir_okay=False), help="Ground-truth annotation file (COCO JSON).")
@click.option("--metric", type=click.Choice(["bbox", "segm", "proposal"]), default="bbox", show_default=True)
@click.option("--protocol", type=click.Choice(["coco", "lvis"]), default=None,
              help="Evaluation rules [default: lvis for LVIS annotation files, else coco].")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:K.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write {metric, stats, per_class} JSON here.")
@click.option("--per-class", is_flag=True, help="Also print a per-category table.")
@click.option("--iou-thrs", callback=_floats, help="IoU thresholds, e.g. 0.5,0.75 (default 0.50:0.05:0.95).")
@click.option("--max-dets", callback=_ints,
              help="Three maxDets, e.g. 1,10,100 (proposal: 100,300,1000); LVIS: the per-image cap (300).")
@click.option("--img-ids", callback=_ints, help="Evaluate only these image ids.")
@click.option("--cat-ids", callback=_ints, help="Evaluate only these category ids.")
@click.option("--class-agnostic", is_flag=True, help="Ignore categories (pycocotools useCats=0).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="CPU threads for the torch kernels [default: all cores torch sees].")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def evaluate_command(preds, gt, metric, protocol, device, output, per_class, iou_thrs, max_dets, img_ids, cat_ids,
                     class_agnostic, workers, quiet) -> None:
    """Evaluate detections in PREDS (COCO results JSON) against --gt with pycocotools' exact numbers."""
    from .api import evaluate

    start = time.perf_counter()
    log = None if quiet else (lambda msg: click.echo(f"[evaluate] {msg}", err=True))
    try:
        result = evaluate(gt, preds, metric, device=device, iou_thrs=iou_thrs, max_dets=max_dets, img_ids=img_ids,
                          cat_ids=cat_ids, use_cats=False if class_agnostic else None, protocol=protocol, log=log,
                          progress=not quiet and sys.stderr.isatty(), workers=workers)
        if output:
            from dataprep.atomic import write_json_atomic

            write_json_atomic(output, result.to_dict())
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if result.protocol == "lvis":
        click.echo(f"# LVIS protocol (lvis-api 0.5.3 rules){'' if protocol else ', recognised from the annotation file'}")
    click.echo(result.summary())
    if per_class:
        click.echo("")
        click.echo(result.per_class_table())
    if log:
        info = result.info
        log(f"done: {info['images']} images, {info['detections']} detections, metric {metric}, device "
            f"{info['device']}, {time.perf_counter() - start:.2f}s" + (f"; wrote {output}" if output else ""))


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
