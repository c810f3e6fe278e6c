"""Candidate (detection, ground truth) pairs for polygons, with IoUs that decide exactly as the devkit's.

Per same-group pair whose boxes can overlap (a sweep over left edges, :mod:`..kernels.sweep`),
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
from ..kernels.sweep import overlap_pairs
from .pairs import Candidates


def polygon_candidates(groups: Groups, gt_poly: np.ndarray, dt_poly: np.ndarray, thresholds: Sequence[float],
                       strict: bool, device: torch.device, devkit_prefilter: bool = True) -> Candidates:
    """Pairs with IoU above (``strict``) or at least the lowest threshold; ``gt_poly``/``dt_poly`` are the
    input tables' rows (``groups.gt_row`` / ``dt_row`` select and order them). IoU is polyiou(GT, detection).

    Only detections whose group holds a ground truth can pair (often most do not: a class the image
    lacks), so only those are looked at.
    """
    g = Quads.build(torch.as_tensor(gt_poly[groups.gt_row], dtype=torch.float64, device=device))
    live = np.flatnonzero(groups.group_gt_count[groups.dt_group] > 0)  # positions in groups order
    d_raw = torch.as_tensor(dt_poly[groups.dt_row[live]], dtype=torch.float64, device=device)
    g_box, d_box = _hbb(g.raw), _hbb(d_raw)
    g_np, d_np = g_box.cpu().numpy(), d_box.cpu().numpy()
    t_min = float(min(thresholds))
    # pass 1, boxes only: dota_evaluation_task1 only looks at pairs whose HBB IoU with +1 widths is > 0;
    # pairs whose boxes do not overlap cannot reach a positive threshold either
    p_det, p_gt = [], []
    # the devkit's +1 convention: x-extents within 1 px count as overlapping (1.001: a safe superset)
    # (the y extents too, before any pair reaches the device, when that test applies)
    check_y = devkit_prefilter or t_min > 0
    also = ([(d_np[:, 1], d_np[:, 3])], [(g_np[:, 1], g_np[:, 3])]) if check_y else None
    for det_np, gt_np in overlap_pairs(groups.dt_group[live], d_np[:, 0], d_np[:, 2], groups.gt_group, g_np[:, 0],
                                       g_np[:, 2], pad=1.001, also=also):
        det = torch.from_numpy(det_np).to(device)
        gt = torch.from_numpy(gt_np).to(device)
        if check_y:
            gb, db = g_box[gt], d_box[det]
            ow = torch.minimum(gb[:, 2], db[:, 2]) - torch.maximum(gb[:, 0], db[:, 0])
            oh = torch.minimum(gb[:, 3], db[:, 3]) - torch.maximum(gb[:, 1], db[:, 1])
            keep = (ow + 1.0 > 0) & (oh + 1.0 > 0)
            det, gt = det[keep], gt[keep]
        p_det.append(det); p_gt.append(gt)
    empty = torch.zeros(0, dtype=torch.int64, device=device)
    all_det = torch.cat(p_det) if p_det else empty
    # polygon tables only for the detections that have a candidate at all (``local``: their table row)
    has_pair = torch.zeros(live.size, dtype=torch.bool, device=device)
    has_pair[all_det] = True
    used = torch.nonzero(has_pair).flatten()
    local = torch.cumsum(has_pair, 0) - 1
    d = Quads.build(d_raw[used])
    dets, gts, ious, exact, bounds, nan_dets = [], [], [], [], [], []
    for det, gt in zip(p_det, p_gt):  # det: index among the live detections
        dl = local[det]
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
    iou = _exact_near_best(det, gt, iou, exact, bound, g.raw, d_raw, live.size)
    keep = iou > t_min if strict else iou >= t_min
    poisoned = torch.cat(nan_dets)
    if poisoned.numel():  # the devkit's np.max over IoUs with a NaN (two zero-area polygons) is NaN: no match
        keep &= ~torch.isin(det, poisoned)
    return Candidates(torch.from_numpy(live).to(device)[det[keep]], gt[keep], iou[keep])


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
    """(N, 4) x_min, y_min, x_max, y_max of (N, 8) polygons."""
    x, y = poly[:, 0::2], poly[:, 1::2]
    return torch.stack([x.amin(1), y.amin(1), x.amax(1), y.amax(1)], 1)
