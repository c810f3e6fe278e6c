"""PASCAL VOC evaluation (``voc07`` / ``voc12``): load, apply the protocol's rules, run the VOC-family
engine (the one the DOTA protocols use, with the devkit's box IoU instead of polygons), report."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from .data.jsonio import PathLike, gc_paused
from .data.voc import ImageSetArg, load_voc_ground_truth, load_voc_predictions
from .engine.box_pairs import voc_box_candidates
from .engine.voc_pipeline import run_voc_engine
from .params import EvalParams
from .protocols.voc import check_thresholds, class_rows, get_protocol, summary_lines
from .result import EvalResult
from .engine.voc_ap import RECALL_POINTS_11


def evaluate_voc(gt: Union[PathLike, Mapping[str, Any]], preds: Any, *, protocol: str = "voc07",
                 iou_thrs: Sequence[float] = (0.5,), classes: Optional[Sequence[str]] = None,
                 imageset: ImageSetArg = None, device: Any,
                 log: Optional[Callable[[str], None]] = None) -> EvalResult:
    """VOC mAP of ``preds`` (comp4 folder or COCO results) against ``gt`` (VOC year folder or COCO JSON)."""
    proto = get_protocol(protocol)
    thrs = check_thresholds(iou_thrs)
    with gc_paused():
        ground = load_voc_ground_truth(gt, classes, imageset, log)
        dets = load_voc_predictions(preds, ground, log)
    if log:
        log(f"ground truth: {len(ground.img_names)} images, {ground.ann_img.size} objects "
            f"({int(ground.ann_difficult.sum())} difficult); predictions: {len(dets)} detections")
    rules = proto.rules

    def candidates(groups):
        return voc_box_candidates(groups, ground.ann_box[groups.gt_row], dets.box[groups.dt_row], thrs,
                                  rules.strict, device)

    with gc_paused():
        out = run_voc_engine(ground, dets, thrs, ground.ann_difficult, rules, candidates, device, log)
    stats, rows = class_rows(ground.class_names, ground.coco_cat_ids, thrs, out.curves.ap, out.npos, out.n_gt,
                             out.n_dets)
    params = EvalParams(metric="bbox", iou_thrs=thrs, rec_thrs=tuple(RECALL_POINTS_11.tolist()), max_dets=(),
                        area_ranges=(), area_labels=(), cat_ids=tuple(int(c) for c in ground.coco_cat_ids))
    info = {"device": str(device), "images": len(ground.img_names), "detections": len(dets),
            "eval_mode": proto.eval_mode, "classes": list(ground.class_names),
            "skipped_detections": dets.n_skipped,
            "timings_s": {k: round(v, 4) for k, v in out.timings.items()}}
    return EvalResult("bbox", proto.name, params, stats, out.curves.precision11, out.curves.recall, np.zeros(0),
                      summary_lines(proto, thrs, stats, rows), rows, info)
