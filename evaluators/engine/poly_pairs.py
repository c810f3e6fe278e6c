"""Candidate (detection, ground truth) pairs for polygons, with IoUs that decide exactly as the devkit's.

Per same-group pair whose boxes can overlap (a sweep over left edges, see :func:`overlap_pair_chunks`),
in bounded chunks:

1. the devkit's own pre-filter: horizontal boxes must overlap under its +1-pixel convention (it never
   computes the polygon IoU of other pairs);
2. a safe bound drops pairs that cannot reach the lowest threshold: for simple polygons
   IoU <= I / (A + B - I) with I = min(A, B, box overlap);
3. :func:`~evaluators.kernels.poly_iou.decision_iou`: the fast convex kernel, with polyiou's exact
   triangle clipping wherever a value is near a threshold or the polygons are not convex.

The matching takes each detection's arg-max ground truth, so after selection the candidates of a
detection whose best values lie within their error bounds of each other are recomputed exactly too:
then both every threshold comparison and every arg-max are the devkit's.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..kernels.poly_iou import Quads, decision_iou_pairs, error_bound_pairs, poly_iou
from .grouping import Groups
from .pairs import Candidates


def polygon_candidates(groups: Groups, gt_poly: np.ndarray, dt_poly: np.ndarray, thresholds: Sequence[float],
                       strict: bool, device: torch.device, devkit_prefilter: bool = True) -> Candidates:
    """Pairs with IoU above (``strict``) or at least the lowest threshold; ``gt_poly``/``dt_poly`` are in
    ``groups`` order (``gt_row`` / ``dt_row`` applied). IoU is polyiou(GT, detection)."""
    g = Quads.build(torch.as_tensor(gt_poly, dtype=torch.float64, device=device))
    d_raw = torch.as_tensor(dt_poly, dtype=torch.float64, device=device)
    g_box, d_box = _hbb(g.raw), _hbb(d_raw)
    t_min = float(min(thresholds))
    # pass 1, boxes only: dota_evaluation_task1 only looks at pairs whose HBB IoU with +1 widths is > 0;
    # pairs whose boxes do not overlap cannot reach a positive threshold either
    p_det, p_gt = [], []
    for det_np, gt_np in overlap_pair_chunks(groups, gt_poly, dt_poly):
        det = torch.from_numpy(det_np).to(device)
        gt = torch.from_numpy(gt_np).to(device)
        if devkit_prefilter or t_min > 0:
            gb, db = g_box[gt], d_box[det]
            ow = torch.minimum(gb[:, 2], db[:, 2]) - torch.maximum(gb[:, 0], db[:, 0])
            oh = torch.minimum(gb[:, 3], db[:, 3]) - torch.maximum(gb[:, 1], db[:, 1])
            keep = (ow + 1.0 > 0) & (oh + 1.0 > 0)
            det, gt = det[keep], gt[keep]
        p_det.append(det); p_gt.append(gt)
    empty = torch.zeros(0, dtype=torch.int64, device=device)
    all_det = torch.cat(p_det) if p_det else empty
    # polygon tables only for the detections that have a candidate at all
    used = torch.unique(all_det)
    d = Quads.build(d_raw[used])
    dets, gts, ious, exact, bounds, nan_dets = [], [], [], [], [], []
    for det, gt in zip(p_det, p_gt):
        dl = torch.searchsorted(used, det)
        gb, db = g_box[gt], d_box[det]
        ow = (torch.minimum(gb[:, 2], db[:, 2]) - torch.maximum(gb[:, 0], db[:, 0])).clamp(min=0.0)
        oh = (torch.minimum(gb[:, 3], db[:, 3]) - torch.maximum(gb[:, 1], db[:, 1])).clamp(min=0.0)
        ga, da = g.area[gt], d.area[dl]
        top = torch.minimum(torch.minimum(ga, da), ow * oh)
        upper = top / (ga + da - top)
        simple = g.convex[gt] & d.convex[dl]
        margin = torch.clamp(error_bound_pairs(g, d, gt, dl), min=1e-6)
        keep = ~simple | ~(upper < t_min - margin)
        det, dl, gt = det[keep], dl[keep], gt[keep]
        iou, ex, bound = decision_iou_pairs(g, d, gt, dl, thresholds)
        nan_dets.append(det[torch.isnan(iou)])
        keep = (iou > t_min - bound) | (iou >= t_min)
        dets.append(det[keep]); gts.append(gt[keep]); ious.append(iou[keep]); exact.append(ex[keep])
        bounds.append(bound[keep])
    if not dets:
        return Candidates(empty, empty, torch.zeros(0, dtype=torch.float64, device=device))
    det, gt, iou = torch.cat(dets), torch.cat(gts), torch.cat(ious)
    exact, bound = torch.cat(exact), torch.cat(bounds)
    iou = _exact_near_best(det, gt, iou, exact, bound, g.raw, d_raw, groups.dt_row.size)
    keep = iou > t_min if strict else iou >= t_min
    poisoned = torch.cat(nan_dets)
    if poisoned.numel():  # the devkit's np.max over IoUs with a NaN (two zero-area polygons) is NaN: no match
        keep &= ~torch.isin(det, poisoned)
    return Candidates(det[keep], gt[keep], iou[keep])


def overlap_pair_chunks(groups: Groups, gt_poly: np.ndarray, dt_poly: np.ndarray, max_pairs: int = 1 << 22):
    """Same-group (det, gt) pairs whose x-extents overlap under the devkit's +1 convention (a superset:
    the exact test follows), found by a sweep instead of enumerating every same-group pair.

    A pair overlaps in x when the later-starting box starts before the other ends (+1): (a) GTs that
    start at or after a detection's start, before its end + 1; (b) detections that start strictly after
    a GT's start, before its end + 1. Starts are compared by exact ranks, so (a) and (b) never overlap.
    """
    gx0, gx1 = gt_poly[:, 0::2].min(1), gt_poly[:, 0::2].max(1)
    dx0, dx1 = dt_poly[:, 0::2].min(1), dt_poly[:, 0::2].max(1)
    starts, rank = np.unique(np.concatenate([gx0, dx0]), return_inverse=True)
    span = np.int64(starts.size + 1)
    g_key = groups.gt_group.astype(np.int64) * span + rank[: gx0.size]
    d_key = groups.dt_group.astype(np.int64) * span + rank[gx0.size:]
    g_end = groups.gt_group.astype(np.int64) * span + np.searchsorted(starts, gx1 + 1.001, side="right")
    d_end = groups.dt_group.astype(np.int64) * span + np.searchsorted(starts, dx1 + 1.001, side="right")
    g_order, d_order = np.argsort(g_key, kind="stable"), np.argsort(d_key, kind="stable")
    g_sorted, d_sorted = g_key[g_order], d_key[d_order]
    # (a) per detection: GTs with key in [d_key, d_end)
    a_lo, a_hi = np.searchsorted(g_sorted, d_key, "left"), np.searchsorted(g_sorted, d_end, "left")
    # (b) per GT: detections with key in (g_key, g_end)
    b_lo, b_hi = np.searchsorted(d_sorted, g_key, "right"), np.searchsorted(d_sorted, g_end, "left")
    for owner, lo, hi, other_order, swap in ((np.arange(dx0.size), a_lo, a_hi, g_order, False),
                                             (np.arange(gx0.size), b_lo, b_hi, d_order, True)):
        count = np.maximum(hi - lo, 0)
        bounds = np.cumsum(count)
        start = 0
        while start < owner.size:
            base = bounds[start - 1] if start else 0
            stop = min(max(int(np.searchsorted(bounds, base + max_pairs, side="right")), start + 1), owner.size)
            c = count[start:stop]
            mine = np.repeat(owner[start:stop], c)
            offset = np.repeat(lo[start:stop] - (np.cumsum(c) - c), c) + np.arange(int(c.sum()))
            theirs = other_order[offset]
            if mine.size:
                yield (theirs, mine) if swap else (mine, theirs)
            start = stop


def _exact_near_best(det, gt, iou, exact, bound, g, d, n_det: int) -> torch.Tensor:
    """Recompute exactly the candidates that could be their detection's arg-max or tie with it."""
    if det.numel() == 0:
        return iou
    best = torch.full((n_det,), -1.0, dtype=torch.float64, device=iou.device)
    best.scatter_reduce_(0, det, iou - bound, "amax", include_self=True)
    contender = iou + bound >= best[det]
    count = torch.bincount(det[contender], minlength=n_det)
    redo = contender & (count[det] > 1) & ~exact
    idx = torch.nonzero(redo).flatten()
    if idx.numel():
        iou = iou.clone()
        iou[idx] = poly_iou(g[gt[idx]], d[det[idx]])
    return iou


def _hbb(poly: torch.Tensor) -> torch.Tensor:
    x, y = poly[:, 0::2], poly[:, 1::2]
    return torch.stack([x.amin(1), y.amin(1), x.amax(1), y.amax(1)], 1)
