"""Greedy polygon NMS for many groups at once, deciding exactly as the DOTA devkit's merge NMS.

Within each group, detections in descending score (ties: input order); a detection is suppressed when a
kept, higher-ranked one overlaps it with polyiou(kept, other) > ``iou_thr`` (the devkit's
``py_cpu_nms_poly_fast``: only pairs whose horizontal boxes overlap are compared). Instead of the
devkit's one-box-at-a-time loop:

1. overlapping pairs come from a sweep over boxes sorted by left edge (per group, vectorised);
2. their IoUs from :func:`~evaluators.kernels.poly_iou.decision_iou` (exact near the threshold);
3. the greedy outcome is resolved on the graph of suppressing edges: a detection is kept once every
   higher-ranked neighbour is decided suppressed, and suppressed once one is kept. Each round decides
   at least the best undecided detection of every group, usually far more.
"""
from __future__ import annotations

import numpy as np
import torch

from .poly_iou import decision_iou


def batched_poly_nms(polys: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, iou_thr: float,
                     max_pairs: int = 1 << 22) -> torch.Tensor:
    """Boolean keep mask over detections ((N, 8) polygons, (N,) scores, (N,) int64 group ids)."""
    device = polys.device
    n = polys.shape[0]
    if n == 0:
        return torch.zeros(0, dtype=torch.bool, device=device)
    order = torch.argsort(-scores, stable=True)
    order = order[torch.argsort(groups[order], stable=True)]  # rank = position in (group, -score, input) order
    p = polys[order].to(torch.float64)
    g = groups[order]
    x0, y0 = p[:, 0::2].amin(1), p[:, 1::2].amin(1)
    x1, y1 = p[:, 0::2].amax(1), p[:, 1::2].amax(1)
    src, dst = [], []
    for a, b in _overlap_pairs(g, x0, x1, y0, y1, max_pairs):
        hi, lo = torch.minimum(a, b), torch.maximum(a, b)  # hi = higher-ranked detection
        iou, _, _ = decision_iou(p[hi], p[lo], (iou_thr,))
        hit = ~(iou <= iou_thr)  # the devkit keeps only IoU <= thr: a NaN IoU (0/0) suppresses
        src.append(hi[hit]); dst.append(lo[hit])
    keep_sorted = _resolve(n, torch.cat(src) if src else torch.zeros(0, dtype=torch.int64, device=device),
                           torch.cat(dst) if dst else torch.zeros(0, dtype=torch.int64, device=device))
    keep = torch.zeros(n, dtype=torch.bool, device=device)
    keep[order] = keep_sorted
    return keep


def _overlap_pairs(g, x0, x1, y0, y1, max_pairs):
    """Pairs (a, b) of the same group whose boxes overlap with positive width and height, in chunks."""
    device = g.device
    # sort by (group, x0); pair each box with the later boxes of its group whose x0 < its x1
    by_x = torch.argsort(x0, stable=True)
    by_x = by_x[torch.argsort(g[by_x], stable=True)]
    gs, xs = g[by_x], x0[by_x]
    big = float(torch.cat([x0.abs(), x1.abs()]).max()) * 4 + 1.0
    key = gs.to(torch.float64) * big + xs  # monotone: groups apart by more than any coordinate span
    key_np = key.cpu().numpy()
    limit = (gs.to(torch.float64) * big + x1[by_x]).cpu().numpy()
    end = torch.as_tensor(np.searchsorted(key_np, limit, side="left"), device=device)
    start = torch.arange(by_x.numel(), device=device) + 1
    count = (end - start).clamp(min=0)
    bounds = torch.cumsum(count, 0).cpu().numpy()
    lo = 0
    while lo < count.numel():
        base = bounds[lo - 1] if lo else 0
        hi = min(max(int(np.searchsorted(bounds, base + max_pairs, side="right")), lo + 1), count.numel())
        c = count[lo:hi]
        i = torch.repeat_interleave(torch.arange(lo, hi, device=device), c)
        first = torch.repeat_interleave(start[lo:hi] - (torch.cumsum(c, 0) - c), c)
        j = first + torch.arange(i.numel(), device=device)
        a, b = by_x[i], by_x[j]
        ok = (torch.minimum(x1[a], x1[b]) - torch.maximum(x0[a], x0[b]) > 0) & \
             (torch.minimum(y1[a], y1[b]) - torch.maximum(y0[a], y0[b]) > 0)
        yield a[ok], b[ok]
        lo = hi


def _resolve(n: int, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Greedy NMS outcome on suppression edges src -> dst (src ranked higher)."""
    device = src.device
    kept = torch.zeros(n, dtype=torch.bool, device=device)
    gone = torch.zeros(n, dtype=torch.bool, device=device)
    indeg = torch.bincount(dst, minlength=n)
    while True:
        decided_gone = torch.bincount(dst[gone[src]], minlength=n)
        newly_kept = ~kept & ~gone & (decided_gone == indeg)
        if not bool(newly_kept.any()):
            break
        kept |= newly_kept
        hit = torch.zeros(n, dtype=torch.bool, device=device)
        hit[dst[kept[src]]] = True
        gone |= hit & ~kept
    return kept
