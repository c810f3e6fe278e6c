"""Rotated (DOTA Task1) evaluation: load, apply a protocol's rules, run the VOC-family engine, report."""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from .data.jsonio import PathLike, gc_paused
from .device import cpu_workers
from .data.rotated import (RotatedReading, load_rotated_ground_truth, load_rotated_predictions,
                           resolve_imageset, warn_degenerate)
from .engine.poly_pairs import polygon_candidates
from .engine.voc_pipeline import VocRules, run_voc_engine
from .errors import ParameterError
from .params import EvalParams
from .protocols.dota import class_rows, get_protocol, min_area_rectangles, summary_lines
from .result import EvalResult


def evaluate_rotated(gt: Union[PathLike, Mapping[str, Any]], preds, *, protocol: str = "dota-v1.0",
                     eval_mode: str = "11points", iou_thr: float = 0.5, classes: Optional[Sequence[str]] = None,
                     imageset: Optional[Union[PathLike, Sequence[str]]] = None, device: Any,
                     log: Optional[Callable[[str], None]] = None, reading: Optional[RotatedReading] = None,
                     workers: Optional[int] = None) -> EvalResult:
    """DOTA Task1 mAP of ``preds`` (Task1 folder or results JSON) against ``gt`` (labelTxt folder or JSON)
    on ``device`` (``"numpy"`` or a torch device; ``workers``: numpy's threads).
    ``reading``: the inputs' parsing, already started (with ``imageset`` already read) by the caller."""
    proto = get_protocol(protocol, eval_mode)
    if not (0.0 <= float(iou_thr) <= 1.0):
        raise ParameterError(f"Expected `iou_thr` to be in [0, 1] but got {iou_thr!r}.")
    with gc_paused(), contextlib.ExitStack() as stack:
        if reading is None:  # the text inputs parse in the background while the rest loads
            imageset = resolve_imageset(imageset)
            reading = stack.enter_context(RotatedReading(gt, preds, imageset))
        ground = load_rotated_ground_truth(gt, classes, proto.default_classes, imageset, log, reading)
        dets = load_rotated_predictions(preds, ground, log, reading)
    warn_degenerate(ground, dets)
    if log:
        log(f"ground truth: {len(ground.img_names)} images, {ground.ann_img.size} objects; predictions: {len(dets)} detections")
    gt_poly, dt_poly = ground.ann_poly, dets.poly
    ignore = ground.ann_difficulty != 0 if proto.ignore_difficult else np.zeros(ground.ann_img.size, bool)
    if proto.rectangles:
        gt_poly, big_enough = min_area_rectangles(gt_poly)
        dt_poly, _ = min_area_rectangles(dt_poly)
        ground = ground.subset(big_enough, gt_poly)
        ignore = ignore[big_enough]
        gt_poly = ground.ann_poly
    rules = VocRules(strict=proto.strict, eval_mode=eval_mode, float32=proto.float32)
    thr = (float(iou_thr),)

    def candidates(groups):
        return polygon_candidates(groups, gt_poly, dt_poly, thr, rules.strict, device,
                                  devkit_prefilter=proto.devkit_prefilter, workers=cpu_workers(workers))

    with gc_paused():
        out = run_voc_engine(ground, dets, thr, ignore, rules, candidates, device, log)
    mean_ap, rows = class_rows(proto, ground.class_names, out.curves.ap[0], out.npos, out.n_gt, out.n_dets)
    params = EvalParams(metric="rotated", iou_thrs=thr, rec_thrs=tuple(np.arange(0.0, 1.1, 0.1).tolist()),
                        max_dets=(), area_ranges=(), area_labels=(), cat_ids=None)
    info = {"device": str(device), "images": len(ground.img_names), "detections": len(dets),
            "eval_mode": eval_mode, "classes": list(ground.class_names),
            "timings_s": {k: round(v, 4) for k, v in out.timings.items()}}
    return EvalResult("rotated", proto.name, params, {"mAP": mean_ap}, out.curves.precision11, out.curves.recall,
                      np.zeros(0), summary_lines(proto, eval_mode, thr[0], mean_ap, rows), rows, info)
