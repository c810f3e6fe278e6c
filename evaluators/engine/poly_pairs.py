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

from typing import Any, Sequence

import numpy as np

from ..kernels.arrays import ops_for, ops_of, quiet
from ..kernels.poly_iou import Quads, decision_iou_pairs, error_bound_pairs, poly_iou
from ..kernels.sweep import overlap_pairs
from .grouping import Groups
from .pairs import Candidates

_NUMPY_CHUNK = 1 << 16  # pairs per numpy chunk: the temporaries stay a few MB, which the allocator reuses


def polygon_candidates(groups: Groups, gt_poly: np.ndarray, dt_poly: np.ndarray, thresholds: Sequence[float],
                       strict: bool, device: Any, devkit_prefilter: bool = True, workers: int = 1) -> Candidates:
    """Pairs with IoU above (``strict``) or at least the lowest threshold; ``gt_poly``/``dt_poly`` are the
    input tables' rows (``groups.gt_row`` / ``dt_row`` select and order them). IoU is polyiou(GT, detection).
    ``device``: ``"numpy"`` or a torch device (:func:`~evaluators.kernels.arrays.ops_for`); on numpy,
    ``workers`` threads share the chunks (numpy releases the GIL inside its array operations).

    Only detections whose group holds a ground truth can pair (often most do not: a class the image
    lacks), so only those are looked at.
    """
    xp = ops_for(device)
    g = Quads.build(xp.from_numpy(np.ascontiguousarray(gt_poly[groups.gt_row], np.float64)))
    live = np.flatnonzero(groups.group_gt_count[groups.dt_group] > 0)  # positions in groups order
    d_raw = xp.from_numpy(np.ascontiguousarray(dt_poly[groups.dt_row[live]], np.float64))
    g_box, d_box = _hbb(g.raw), _hbb(d_raw)
    g_np, d_np = xp.to_numpy(g_box), xp.to_numpy(d_box)
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
        det, gt = xp.from_numpy(det_np), xp.from_numpy(gt_np)
        if check_y:
            gb, db = g_box[gt], d_box[det]
            ow = xp.minimum(gb[:, 2], db[:, 2]) - xp.maximum(gb[:, 0], db[:, 0])
            oh = xp.minimum(gb[:, 3], db[:, 3]) - xp.maximum(gb[:, 1], db[:, 1])
            keep = (ow + 1.0 > 0) & (oh + 1.0 > 0)
            det, gt = det[keep], gt[keep]
        p_det.append(det); p_gt.append(gt)
    empty = xp.zeros(0, xp.int64)
    all_det = xp.cat(p_det) if p_det else empty
    # polygon tables only for the detections that have a candidate at all (``local``: their table row)
    has_pair = xp.zeros(live.size, xp.bool)
    has_pair[all_det] = True
    used = xp.nonzero(has_pair)
    local = xp.cumsum(has_pair, 0) - 1
    d = Quads.build(d_raw[used])

    def chunk_iou(det, gt):
        dl = local[det]
        gb, db = g_box[gt], d_box[det]
        ow = xp.clamp(xp.minimum(gb[:, 2], db[:, 2]) - xp.maximum(gb[:, 0], db[:, 0]), lo=0.0)
        oh = xp.clamp(xp.minimum(gb[:, 3], db[:, 3]) - xp.maximum(gb[:, 1], db[:, 1]), lo=0.0)
        ga, da = g.area[gt], d.area[dl]
        top = xp.minimum(xp.minimum(ga, da), ow * oh)
        with quiet(xp):
            upper = top / (ga + da - top)
        simple = g.convex[gt] & d.convex[dl]
        margin = xp.clamp(error_bound_pairs(g, d, gt, dl), lo=1e-6)
        keep = ~simple | ~(upper < t_min - margin)
        det, dl, gt = det[keep], dl[keep], gt[keep]
        iou, ex, bound = decision_iou_pairs(g, d, gt, dl, thresholds)
        nan_det = det[xp.isnan(iou)]
        keep = (iou > t_min - bound) | (iou >= t_min)
        return det[keep], gt[keep], iou[keep], ex[keep], bound[keep], nan_det

    if xp.is_numpy:  # numpy: chunks small enough for the allocator to reuse memory, shared by threads
        p_det, p_gt = _split(p_det, _NUMPY_CHUNK), _split(p_gt, _NUMPY_CHUNK)
    if xp.is_numpy and workers > 1 and len(p_det) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(chunk_iou, p_det, p_gt))
    else:
        parts = [chunk_iou(det, gt) for det, gt in zip(p_det, p_gt)]
    if not parts:
        return Candidates(empty, empty, xp.zeros(0, xp.float64))
    det, gt, iou, exact, bound, poisoned = (xp.cat(col) for col in zip(*parts))
    iou = _exact_near_best(det, gt, iou, exact, bound, g.raw, d_raw, live.size)
    keep = iou > t_min if strict else iou >= t_min
    if xp.size(poisoned):  # the devkit's np.max over IoUs with a NaN (two zero-area polygons) is NaN: no match
        keep &= ~xp.isin(det, poisoned)
    return Candidates(xp.from_numpy(live)[det[keep]], gt[keep], iou[keep])


def _split(arrays, size: int):
    """The arrays cut into consecutive pieces of at most ``size`` entries (order kept)."""
    return [a[lo:lo + size] for a in arrays for lo in range(0, max(len(a), 1), size)]


def _exact_near_best(det, gt, iou, exact, bound, g, d, n_det: int):
    """Recompute exactly the candidates that could be their detection's arg-max or tie with it."""
    xp = ops_of(det)
    if xp.size(det) == 0:
        return iou
    best = xp.scatter_max_(xp.full((n_det,), -1.0, xp.float64), det, iou - bound)
    contender = iou + bound >= best[det]
    count = xp.bincount(det[contender], minlength=n_det)
    redo = contender & (count[det] > 1) & ~exact
    idx = xp.nonzero(redo)
    if xp.size(idx):
        iou = xp.copy(iou)
        iou[idx] = poly_iou(g[gt[idx]], d[det[idx]])
    return iou


def _hbb(poly):
    """(N, 4) x_min, y_min, x_max, y_max of (N, 8) polygons."""
    xp = ops_of(poly)
    x, y = poly[:, 0::2], poly[:, 1::2]
    return xp.stack([xp.amin(x, 1), xp.amin(y, 1), xp.amax(x, 1), xp.amax(y, 1)], 1)

