"""The VOC-family engine end to end: groups -> candidate pairs -> best-GT matching -> per-class AP.

Shared by the DOTA Task1 protocols (polygon IoU) and any per-class, all-images, greedy-by-score
protocol; a protocol supplies the candidate pairs (its IoU), which ground truths are ignored and its
:class:`VocRules`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Sequence

import numpy as np

from ..kernels.arrays import ops_for
from ..params import EvalParams
from .argmax_matching import match_best
from .grouping import Groups, build_groups
from .pairs import Candidates
from .voc_ap import VocCurves, voc_average_precision


@dataclass(frozen=True)
class VocRules:
    """What a VOC-family protocol decides: match at IoU ``> t`` (strict) or ``>= t``, the AP rule
    (``11points`` or ``area``) and whether precision and AP use mmrotate's float32 arithmetic."""

    strict: bool = True
    eval_mode: str = "11points"
    float32: bool = False


@dataclass
class VocOutput:
    """Per-class curves and counts: ``npos`` non-ignored GT, ``n_gt`` all GT, ``n_dets`` detections."""

    curves: VocCurves
    groups: Groups
    npos: np.ndarray
    n_gt: np.ndarray
    n_dets: np.ndarray
    timings: Dict[str, float] = field(default_factory=dict)


def run_voc_engine(gt, dt, thresholds: Sequence[float], gt_ignore: np.ndarray, rules: VocRules,
                   candidates: Callable[[Groups], Candidates], device: Any, log=None) -> VocOutput:
    """Evaluate ``dt`` against ``gt`` (tables with img/cat columns, classes 0..K-1) for every threshold, on
    ``device``: ``"numpy"`` or a torch device (``candidates`` returns arrays of the same backend)."""
    xp = ops_for(device)
    timings: Dict[str, float] = {}
    t0 = time.perf_counter()
    n_cls = int(gt.cat_ids.size)
    params = EvalParams(metric="voc", iou_thrs=tuple(float(t) for t in thresholds), max_dets=(1 << 62,),
                        area_ranges=((0.0, float("inf")),), area_labels=("all",), cat_ids=tuple(range(n_cls)))
    groups = build_groups(gt, dt, params)
    ignore = np.asarray(gt_ignore, bool)[groups.gt_row]
    timings["group"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cands = candidates(groups)
    timings["iou"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    as_t = lambda a: xp.from_numpy(np.asarray(a))  # noqa: E731
    state = match_best(cands, groups.dt_row.size, as_t(groups.gt_pos), as_t(ignore), params.iou_thrs, rules.strict)
    timings["match"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    npos = np.bincount(groups.gt_slot[~ignore], minlength=n_cls)
    curves = voc_average_precision(state, as_t(groups.dt_slot), as_t(npos), n_cls, groups.dt_score_order,
                                   rules.eval_mode, rules.float32)
    timings["accumulate"] = time.perf_counter() - t0
    if log:
        log(", ".join(f"{k}: {v:.2f}s" for k, v in timings.items()))
    return VocOutput(curves, groups, npos, np.bincount(groups.gt_slot, minlength=n_cls),
                     np.bincount(groups.dt_slot, minlength=n_cls), timings)
