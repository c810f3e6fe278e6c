"""Greedy polygon NMS for many groups at once, deciding exactly as the DOTA devkit's merge NMS.

Within each group, detections in descending score (ties: input order); a detection is suppressed when a
kept, higher-ranked one overlaps it with polyiou(kept, other) > ``iou_thr`` (the devkit's
``py_cpu_nms_poly_fast``: only pairs whose horizontal boxes overlap are compared). Instead of the
devkit's one-box-at-a-time loop:

0. detections are taken in blocks of ranks (every group at once); a block meets only the detections
   kept so far and itself, so suppressed detections never cost an IoU again;
1. overlapping pairs come from a sweep over boxes sorted by left edge (per group, vectorised);
2. their IoUs from :func:`~evaluators.kernels.poly_iou.decision_iou` (exact near the threshold);
3. the greedy outcome is resolved on the graph of suppressing edges: a detection is kept once every
   higher-ranked neighbour is decided suppressed, and suppressed once one is kept. Each round decides
   at least the best undecided detection of every group, usually far more.
"""
from __future__ import annotations

import torch

from .poly_iou import Quads, decision_iou_pairs, error_bound_pairs


def batched_poly_nms(polys: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, iou_thr: float,
                     block: int = 128, max_pairs: int = 1 << 20) -> torch.Tensor:
    """Boolean keep mask over detections ((N, 8) polygons, (N,) scores, (N,) int64 group ids).

    Detections are taken in blocks of ``block`` ranks per group (all groups at once): a block's
    detections are compared with the detections kept so far and with each other, never with ones already
    suppressed, which is what keeps the number of IoUs close to the devkit's.
    """
    device = polys.device
    n = polys.shape[0]
    if n == 0:
        return torch.zeros(0, dtype=torch.bool, device=device)
    order = torch.argsort(-scores, stable=True)
    order = order[torch.argsort(groups[order], stable=True)]  # rank = position in (group, -score, input) order
    p = polys[order].to(torch.float64)
    g = groups[order]
    quads = Quads.build(p)
    box = (p[:, 0::2].amin(1), p[:, 0::2].amax(1), p[:, 1::2].amin(1), p[:, 1::2].amax(1))
    first = torch.ones_like(g, dtype=torch.bool)
    first[1:] = g[1:] != g[:-1]
    idx = torch.arange(n, device=device)
    rank = idx - torch.cummax(torch.where(first, idx, torch.zeros_like(idx)), 0).values
    block_of = rank // block
    kept = torch.zeros(n, dtype=torch.bool, device=device)
    kept_idx = torch.zeros(0, dtype=torch.int64, device=device)
    for b in range(int(block_of.max()) + 1):
        cur = torch.nonzero(block_of == b).flatten()
        members = torch.cat([kept_idx, cur])  # sorted rank order is preserved: kept ones rank higher
        members = members[torch.argsort(members)]
        src, dst = _suppressions(members, g, box, quads, iou_thr, max_pairs)
        in_cur = block_of[dst] == b
        src, dst = src[in_cur], dst[in_cur]
        from_kept = kept[src]
        local = torch.full((n,), -1, dtype=torch.int64, device=device)
        local[cur] = torch.arange(cur.numel(), device=device)
        gone = torch.zeros(cur.numel(), dtype=torch.bool, device=device)
        gone[local[dst[from_kept]]] = True
        inner = ~from_kept
        keep_local = _resolve(cur.numel(), local[src[inner]], local[dst[inner]], gone)
        kept[cur[keep_local]] = True
        kept_idx = torch.cat([kept_idx, cur[keep_local]])
    out = torch.zeros(n, dtype=torch.bool, device=device)
    out[order] = kept
    return out


def _suppressions(members, g, box, quads, iou_thr, max_pairs):
    """Edges (higher-ranked, lower-ranked) among ``members`` with polyiou(higher, lower) > ``iou_thr``."""
    x0, x1, y0, y1 = (t[members] for t in box)
    src, dst = [], []
    for a, b in _overlap_pairs(g[members], x0, x1, y0, y1, max_pairs):
        hi, lo = members[torch.minimum(a, b)], members[torch.maximum(a, b)]
        # a safe bound first: for simple polygons IoU <= I / (A + B - I), I = min(A, B, box overlap)
        ow = torch.minimum(box[1][hi], box[1][lo]) - torch.maximum(box[0][hi], box[0][lo])
        oh = torch.minimum(box[3][hi], box[3][lo]) - torch.maximum(box[2][hi], box[2][lo])
        ah, al = quads.area[hi], quads.area[lo]
        top = torch.minimum(torch.minimum(ah, al), ow * oh)
        margin = torch.clamp(error_bound_pairs(quads, quads, hi, lo), min=1e-6)
        maybe = ~(quads.simple[hi] & quads.simple[lo]) | ~(top / (ah + al - top) < iou_thr - margin)
        hi, lo = hi[maybe], lo[maybe]
        iou, _, _ = decision_iou_pairs(quads, quads, hi, lo, (iou_thr,))
        hit = ~(iou <= iou_thr)  # the devkit keeps only IoU <= thr: a NaN IoU (0/0) suppresses
        src.append(hi[hit]); dst.append(lo[hit])
    empty = torch.zeros(0, dtype=torch.int64, device=members.device)
    return (torch.cat(src) if src else empty), (torch.cat(dst) if dst else empty)


def _overlap_pairs(g, x0, x1, y0, y1, max_pairs):
    """Pairs (a, b) of the same group whose boxes overlap with positive width and height, in chunks."""
    from .sweep import self_overlap_pairs

    device = g.device
    y_extents = [(y0.cpu().numpy(), y1.cpu().numpy())]
    for i, j in self_overlap_pairs(g.cpu().numpy(), x0.cpu().numpy(), x1.cpu().numpy(), max_pairs=max_pairs,
                                   also=y_extents):
        a, b = torch.as_tensor(i, device=device), torch.as_tensor(j, device=device)
        ok = (torch.minimum(x1[a], x1[b]) - torch.maximum(x0[a], x0[b]) > 0) & \
             (torch.minimum(y1[a], y1[b]) - torch.maximum(y0[a], y0[b]) > 0)
        yield a[ok], b[ok]


def _resolve(n: int, src: torch.Tensor, dst: torch.Tensor, gone: torch.Tensor) -> torch.Tensor:
    """Greedy NMS outcome on suppression edges src -> dst (src ranked higher); ``gone`` starts suppressed."""
    device = src.device
    kept = torch.zeros(n, dtype=torch.bool, device=device)
    gone = gone.clone()
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
