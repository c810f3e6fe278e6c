"""Candidate (detection, ground truth) pairs for the VOC protocols: the devkit's box IoU, decided exactly.

Per same-group pair (all of them, or on crowded data only those whose boxes can overlap: a sweep over
left edges, :mod:`..kernels.sweep`; the devkit's +1 convention makes boxes within 1 px of each other
overlap), in bounded chunks, the IoU of :func:`~evaluators.kernels.box_iou.voc_iou_pairs`, which repeats
``voc_eval``'s float64 operations on the same corners: every threshold comparison and every arg-max is
the devkit's, ties and IoUs exactly at a threshold included. Only pairs that pass the lowest threshold
are kept; pairs that do not overlap have IoU 0, which passes no threshold (matching is ``IoU > t``; with
``IoU >= 0`` every pair is enumerated).

``voc_eval`` takes ``np.max`` over a detection's IoUs with every ground truth of its image and class; a NaN
among them (0 / 0: a zero-area detection against a zero-area ground truth, in the devkit's +1 areas, e.g. a
COCO box of width 0) makes the maximum NaN and the detection a false positive whatever the other IoUs
are. Such detections get no candidates here either.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..kernels.arrays import ops_for, ops_of
from ..kernels.box_iou import CornerBoxes, voc_iou_pairs
from ..kernels.sweep import overlap_pairs
from .grouping import Groups, pair_chunks
from .pairs import Candidates


def voc_box_candidates(groups: Groups, gt_box: np.ndarray, dt_box: np.ndarray, thresholds: Sequence[float],
                       strict: bool, device: Any, pairs: str = "auto") -> Candidates:
    """Pairs with devkit IoU above (``strict``) or at least the lowest threshold; ``gt_box``/``dt_box`` are
    devkit corners in ``groups`` order (``gt_row`` / ``dt_row`` applied). ``pairs``: ``dense`` (every
    same-group pair), ``sweep`` (only pairs whose x-extents overlap) or ``auto`` (dense unless the groups
    are crowded); the result does not depend on it. ``device``: ``"numpy"`` or a torch device."""
    xp = ops_for(device)
    g = CornerBoxes.from_corners(xp.from_numpy(np.asarray(gt_box, np.float64)))
    d = CornerBoxes.from_corners(xp.from_numpy(np.asarray(dt_box, np.float64)))
    t_min = float(min(thresholds))
    empty = xp.zeros(0, xp.int64)
    dets, gts, ious = [], [], []
    if not strict and t_min <= 0:
        pairs = "dense"  # IoU 0 passes: non-overlapping pairs are candidates too
    for det_np, gt_np in _pairs(groups, gt_box, dt_box, pairs):
        det, gt = xp.from_numpy(det_np), xp.from_numpy(gt_np)
        iou = voc_iou_pairs(d, g, det, gt)
        keep = iou > t_min if strict else iou >= t_min
        dets.append(det[keep]); gts.append(gt[keep]); ious.append(iou[keep])
    if not dets:
        return Candidates(empty, empty, xp.zeros(0, xp.float64))
    det, gt, iou = xp.cat(dets), xp.cat(gts), xp.cat(ious)
    poisoned = _nan_detections(groups, g, d)
    if xp.size(poisoned):
        keep = ~xp.isin(det, poisoned)
        det, gt, iou = det[keep], gt[keep], iou[keep]
    return Candidates(det, gt, iou)


def _pairs(groups: Groups, gt_box: np.ndarray, dt_box: np.ndarray, how: str):
    """Chunks of (det, gt) index pairs to compute. VOC-like data (a few GT per image and class) has few
    same-group pairs, and enumerating them all is cheaper than sorting every box for the sweep; crowded
    groups (WIDER Face: hundreds of faces and detections per image) take the sweep."""
    if how == "auto":
        total = int(groups.group_gt_count[groups.dt_group].sum())
        how = "dense" if total <= 4 * (groups.dt_group.size + groups.gt_group.size) + (1 << 20) else "sweep"
    if how == "dense":
        return pair_chunks(groups)
    if how != "sweep":
        raise ValueError(f"pairs must be auto, dense or sweep, not {how!r}")
    # within 1 px counts as overlapping under the +1 convention (1.001: a safe superset, the IoU decides);
    # only detections whose group holds a ground truth can pair
    live = np.flatnonzero(groups.group_gt_count[groups.dt_group] > 0)
    box = dt_box[live]
    pairs = overlap_pairs(groups.dt_group[live], box[:, 0], box[:, 2], groups.gt_group, gt_box[:, 0], gt_box[:, 2],
                          pad=1.001, also=([(box[:, 1], box[:, 3])], [(gt_box[:, 1], gt_box[:, 3])]))
    return ((live[det], gt) for det, gt in pairs)


def _nan_detections(groups: Groups, g: CornerBoxes, d: CornerBoxes) -> Any:
    """Detections with a NaN among their devkit IoUs. 0 / 0 needs a zero intersection and areas summing
    to 0, so one of the two boxes has a devkit area <= 0 (zero or sub-ulp negative width): only the
    pairs of those few boxes are looked at."""
    xp = ops_of(d.area)
    small_d = xp.to_numpy(xp.nonzero(d.area <= 0))
    small_g = xp.to_numpy(xp.nonzero(g.area <= 0))
    if small_d.size == 0 and small_g.size == 0:
        return xp.zeros(0, xp.int64)
    # dets of a group are contiguous (groups order): their range per group
    n_groups = groups.group_gt_count.size
    dt_count = np.bincount(groups.dt_group, minlength=n_groups)
    dt_start = np.cumsum(dt_count) - dt_count
    det_a, gt_a = _expand(small_d, groups.group_gt_start[groups.dt_group[small_d]],
                          groups.group_gt_count[groups.dt_group[small_d]])
    gt_b, det_b = _expand(small_g, dt_start[groups.gt_group[small_g]], dt_count[groups.gt_group[small_g]])
    det = xp.from_numpy(np.concatenate([det_a, det_b]))
    gt = xp.from_numpy(np.concatenate([gt_a, gt_b]))
    return det[xp.isnan(voc_iou_pairs(d, g, det, gt))]  # isin needs no uniqueness


def _expand(owner: np.ndarray, start: np.ndarray, count: np.ndarray):
    """(owner repeated, start + 0..count-1) for every owner."""
    rep = np.repeat(owner, count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return rep.astype(np.int64), (np.repeat(start, count) + offset).astype(np.int64)
