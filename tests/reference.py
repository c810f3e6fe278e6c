"""Reference numbers from pycocotools, used by the differential tests.

Only the public pycocotools API is driven here (COCO, loadRes, COCOeval); the
evaluation logic itself is not reimplemented.  Everything that pycocotools
mutates in place (annotation dicts get 'area', 'id', 'ignore', 'segmentation'
rewritten) is deep-copied first, so callers can hand the very same objects to
the engine under test afterwards.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

AREA_LABELS = ("all", "small", "medium", "large")
DET_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
PROPOSAL_MAX_DETS = (100, 300, 1000)


def _load_json_if_path(obj):
    if isinstance(obj, (str, os.PathLike)):
        with open(obj) as f:
            return json.load(f)
    return obj


def _gt_coco(gt) -> COCO:
    coco = COCO()
    coco.dataset = copy.deepcopy(_load_json_if_path(gt))
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _dt_coco(coco_gt: COCO, preds) -> COCO:
    if isinstance(preds, np.ndarray):
        if preds.shape[0] == 0:
            preds = []
        else:
            with contextlib.redirect_stdout(io.StringIO()):
                return coco_gt.loadRes(preds.copy())
    preds = copy.deepcopy(_load_json_if_path(preds))
    if len(preds) == 0:
        # loadRes cannot cope with an empty list (it inspects anns[0]); an empty
        # result set is equivalent to a results COCO that has no annotations.
        res = COCO()
        res.dataset = {
            "images": list(coco_gt.dataset.get("images", [])),
            "categories": copy.deepcopy(coco_gt.dataset.get("categories", [])),
            "annotations": [],
        }
        with contextlib.redirect_stdout(io.StringIO()):
            res.createIndex()
        return res
    with contextlib.redirect_stdout(io.StringIO()):
        return coco_gt.loadRes(preds)


def run_pycocotools(
    gt,
    preds,
    iou_type: str = "bbox",
    *,
    iou_thrs: Optional[Sequence[float]] = None,
    max_dets: Optional[Sequence[int]] = None,
    area_ranges=None,
    img_ids: Optional[Sequence[int]] = None,
    cat_ids: Optional[Sequence[int]] = None,
    use_cats: Optional[bool] = None,
) -> Dict[str, Any]:
    """Evaluate with pycocotools and return stats / precision / recall / scores.

    ``iou_type`` is 'bbox' or 'segm' (for proposals pass 'bbox' with
    ``use_cats=False, max_dets=[100, 300, 1000]`` or use :func:`reference_stats`).
    ``area_ranges`` is a list of 4 ``[lo, hi]`` pairs (all/small/medium/large) or a
    dict label -> [lo, hi] (labels and order taken from the dict).
    """
    coco_gt = _gt_coco(gt)
    coco_dt = _dt_coco(coco_gt, preds)
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        p = ev.params
        if iou_thrs is not None:
            p.iouThrs = np.asarray(list(iou_thrs), dtype=np.float64)
        if max_dets is not None:
            p.maxDets = [int(m) for m in max_dets]
        if area_ranges is not None:
            if isinstance(area_ranges, dict):
                p.areaRngLbl = list(area_ranges.keys())
                p.areaRng = [list(map(float, v)) for v in area_ranges.values()]
            else:
                p.areaRng = [list(map(float, v)) for v in area_ranges]
                p.areaRngLbl = list(AREA_LABELS[: len(p.areaRng)])
        if img_ids is not None:
            p.imgIds = list(img_ids)
        if cat_ids is not None:
            p.catIds = list(cat_ids)
        if use_cats is not None:
            p.useCats = 1 if use_cats else 0
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {
        "stats": np.array(ev.stats, dtype=np.float64),
        "precision": np.array(ev.eval["precision"], dtype=np.float64),
        "recall": np.array(ev.eval["recall"], dtype=np.float64),
        "scores": np.array(ev.eval["scores"], dtype=np.float64),
    }


def stat_keys(metric: str, max_dets: Optional[Sequence[int]] = None) -> List[str]:
    """Names of the stats the engine reports, in pycocotools order."""
    if metric == "proposal":
        a, b, c = max_dets if max_dets is not None else PROPOSAL_MAX_DETS
        return [f"AR{a}", f"AR{b}", f"AR{c}", f"ARs{c}", f"ARm{c}", f"ARl{c}"]
    a, b, c = max_dets if max_dets is not None else (1, 10, 100)
    return ["AP", "AP50", "AP75", "APs", "APm", "APl", f"AR{a}", f"AR{b}", f"AR{c}", "ARs", "ARm", "ARl"]


def reference_stats(gt, preds, metric: str, **params) -> Dict[str, Any]:
    """Like :func:`run_pycocotools` but keyed by the engine's ``metric`` name.

    Adds ``stats_dict`` (engine key -> value).  For ``metric='proposal'`` the
    evaluation is class-agnostic bbox with maxDets [100, 300, 1000] (unless
    ``max_dets`` overrides it) and the stats are pycocotools' stats[6..11].
    """
    params = dict(params)
    if metric == "proposal":
        params.setdefault("use_cats", False)
        if params.get("use_cats") is None:
            params["use_cats"] = False
        if params.get("max_dets") is None:
            params["max_dets"] = list(PROPOSAL_MAX_DETS)
        ref = run_pycocotools(gt, preds, "bbox", **params)
        vals = ref["stats"][6:12]
    else:
        ref = run_pycocotools(gt, preds, metric, **params)
        vals = ref["stats"]
    md = params.get("max_dets")
    # pycocotools sorts maxDets before summarizing; the AR keys follow that order
    keys = stat_keys(metric, sorted(md) if md is not None else None)
    ref["stats_dict"] = {k: float(v) for k, v in zip(keys, vals)}
    return ref
