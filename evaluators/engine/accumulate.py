"""Precision, recall and score arrays exactly as pycocotools' ``accumulate`` builds them, without its loops.

For each category slot k, area range a, maxDets m and threshold t, pycocotools concatenates the kept
detections of all images (image order, each image's detections in score order, at most m), stable-sorts
them by descending score, takes cumulative TP/FP counts, ``rc = tp / npig`` and
``pr = tp / (fp + tp + eps)``, makes ``pr`` non-increasing from the right, and samples it at the first
position whose recall reaches each recall threshold.

Here all categories live in one array sorted by (slot, -score, image, rank). The sampled value for
threshold r is the maximum of ``pr`` over positions with ``rc >= recThrs[r]``, so each position is dropped
into the bucket of the highest threshold its recall reaches (a scatter-max) and a reverse cumulative max
over the 101 buckets finishes the job; the score comes from the first position reaching each threshold
(a scatter-min). Only max/min, integer cumulative sums and the same float64 divisions are used, so the
values are the reference's to the bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..kernels.stable_sort import stable_argsort_descending, stable_argsort_int
from .matching import Matches

_EPS = float(np.spacing(1))


@dataclass
class Accumulated:
    """pycocotools' ``eval`` arrays: precision/scores (T,R,K,A,M), recall (T,K,A,M); -1 where undefined."""

    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray


def accumulate(matches: Matches, slot: torch.Tensor, img: torch.Tensor, rank: torch.Tensor, score: torch.Tensor,
               npig: torch.Tensor, n_slots: int, max_dets: Sequence[int], rec_thrs: Sequence[float]) -> Accumulated:
    """Build the arrays from sparse matches and per-(slot, area) counts of non-ignored GTs ``npig``."""
    device = score.device
    N, T, A = score.numel(), matches.n_thr, matches.n_area
    C, K, M, R = T * A, n_slots, len(max_dets), len(rec_thrs)
    order = _sort_order(slot, img, rank, score)
    pos_of = torch.empty_like(order)
    pos_of[order] = torch.arange(N, device=device)
    slot_s, rank_s, score_s = slot[order], rank[order], score[order]
    out_s = matches.outside[order]  # (N, A)
    seg_first = torch.searchsorted(slot_s, torch.arange(K + 1, device=device))
    entries = _Entries.build(matches, pos_of, slot_s, out_s, N, K, A)
    thr = torch.tensor(list(rec_thrs), dtype=torch.float64, device=device)
    npig_cols = npig.to(torch.float64).t().repeat(T, 1)  # (C, K), column c = t * A + a

    precision = torch.zeros((C, K, R, M), dtype=torch.float64, device=device)
    scores = torch.zeros_like(precision)
    recall = torch.zeros((C, K, M), dtype=torch.float64, device=device)
    for mi, m in enumerate(max_dets):
        p, s, r = _one_max_det(rank_s < m, out_s, slot_s, score_s, seg_first, entries, npig_cols, thr, K, A)
        precision[:, :, :, mi], scores[:, :, :, mi], recall[:, :, mi] = p, s, r
    undefined = (npig_cols == 0)[:, :, None]
    precision.masked_fill_(undefined[..., None], -1.0)
    scores.masked_fill_(undefined[..., None], -1.0)
    recall.masked_fill_(undefined, -1.0)
    # (T*A, K, R, M) -> (T, R, K, A, M)
    prec = precision.reshape(T, A, K, R, M).permute(0, 3, 2, 1, 4)
    sc = scores.reshape(T, A, K, R, M).permute(0, 3, 2, 1, 4)
    rec = recall.reshape(T, A, K, M).permute(0, 2, 1, 3)
    return Accumulated(prec.cpu().numpy().copy(), rec.cpu().numpy().copy(), sc.cpu().numpy().copy())


class _Entries:
    """Matched (detection, column) entries sorted by (column, sorted position), with their segments.

    ``seg`` = column * K + slot; ``w`` is the entry's correction to the ignored-row count relative to an
    unmatched detection (which is ignored exactly when outside the area range): +1 matched to an ignored
    GT, -1 matched while outside the range; for a match to annotation id 0 (read as unmatched, but still
    ignored with an ignored GT) +1 when the GT is ignored and the detection inside the range.
    ``tp`` marks true positives; ``seg_start`` is the first entry of each entry's segment.
    """

    def __init__(self, pos, col, tp, seg, a, w, seg_start):
        self.pos, self.col, self.tp, self.seg, self.a, self.w, self.seg_start = pos, col, tp, seg, a, w, seg_start

    @classmethod
    def build(cls, matches: Matches, pos_of, slot_s, out_s, N: int, K: int, A: int) -> "_Entries":
        pos = pos_of[matches.det]
        key = matches.col * max(N, 1) + pos
        if key.device.type == "cpu":
            order = torch.from_numpy(stable_argsort_int(key.numpy()))
        else:
            order = torch.argsort(key)
        pos, col, ign, zero = pos[order], matches.col[order], matches.gt_ignored[order], matches.gt_zero_id[order]
        a = col % A
        seg = col * K + slot_s[pos]
        out = out_s[pos, a]
        w = torch.where(zero, (ign & ~out).to(torch.int64), ign.to(torch.int64) - out.to(torch.int64))
        new = torch.ones_like(seg, dtype=torch.bool)
        new[1:] = seg[1:] != seg[:-1]
        idx = torch.arange(seg.numel(), device=seg.device)
        seg_start = torch.cummax(torch.where(new, idx, torch.zeros_like(idx)), 0).values
        return cls(pos, col, ~ign & ~zero, seg, a, w, seg_start)

    def subset(self, keep: torch.Tensor) -> "_Entries":
        """The entries where ``keep`` (order kept, segment starts recomputed)."""
        if bool(keep.all()):
            return self
        idx = torch.nonzero(keep).flatten()
        seg = self.seg[idx]
        new = torch.ones_like(seg, dtype=torch.bool)
        new[1:] = seg[1:] != seg[:-1]
        i = torch.arange(seg.numel(), device=seg.device)
        start = torch.cummax(torch.where(new, i, torch.zeros_like(i)), 0).values
        return _Entries(self.pos[idx], self.col[idx], self.tp[idx], seg, self.a[idx], self.w[idx], start)

    def segmented_cumsum(self, x: torch.Tensor) -> torch.Tensor:
        """Inclusive cumulative sum of ``x`` within each entry's segment."""
        if x.numel() == 0:
            return x
        c = torch.cumsum(x, 0)
        return c - c[self.seg_start] + x[self.seg_start]


def _one_max_det(inc, out_s, slot_s, score_s, seg_first, e: _Entries, npig, thr, K, A):
    """precision, scores (C, K, R) and recall (C, K) for one maxDets value.

    Between two true positives precision only falls and recall stays, so the sampled precision of every
    recall threshold is reached at a true positive: only those are scattered. The FP count before a true
    positive is (included rows) - (ignored rows) - (TP count) in its category segment, where ignored rows
    are the unmatched ones outside the area range (a dense count per area range) corrected by the sparse
    matched ones (+1 matched to an ignored GT, -1 matched while outside the range). The score at recall
    threshold 0 is the score of the segment's first included detection.
    """
    device = score_s.device
    N, C, R = score_s.numel(), npig.shape[0], thr.numel()
    zero = torch.zeros(1, dtype=torch.int64, device=device)
    inc_cum = torch.cat([zero, torch.cumsum(inc, 0)])
    out_cum = torch.cat([zero.expand(A)[:, None], torch.cumsum((out_s & inc[:, None]).t(), 1)], 1)  # (A, N+1)
    e = e.subset(inc[e.pos])
    corr = e.segmented_cumsum(e.w)
    tpc_all = e.segmented_cumsum(e.tp.to(torch.int64))
    tp_idx = torch.nonzero(e.tp).flatten()
    pos, aa, seg_tp = e.pos[tp_idx], e.a[tp_idx], e.seg[tp_idx]
    col, kk = seg_tp // K, seg_tp % K
    tpc = tpc_all[tp_idx]
    start = seg_first[kk]
    n_inc = inc_cum[pos + 1] - inc_cum[start]
    n_out = out_cum[aa, pos + 1] - out_cum[aa, start]
    fpc = (n_inc - n_out - corr[tp_idx] - tpc).to(torch.float64)
    tpf = tpc.to(torch.float64)
    rc = tpf / npig[col, kk]
    pr = tpf / ((fpc + tpf) + _EPS)
    bucket = torch.searchsorted(thr, rc, right=True)  # how many recall thresholds are reached (>= 1)
    flat = seg_tp * (R + 1) + bucket
    q = torch.zeros(C * K * (R + 1), dtype=torch.float64, device=device)
    q.scatter_reduce_(0, flat, pr, "amax", include_self=True)
    big = torch.iinfo(torch.int64).max
    first = torch.full((C * K * (R + 1),), big, dtype=torch.int64, device=device)
    first.scatter_reduce_(0, flat, pos, "amin", include_self=True)
    q = q.view(C, K, R + 1)[:, :, 1:]
    first = first.view(C, K, R + 1)[:, :, 1:].clone()
    inc_rows = torch.nonzero(inc).flatten()
    first_inc = torch.full((K,), big, dtype=torch.int64, device=device)
    first_inc.scatter_reduce_(0, slot_s[inc_rows], inc_rows, "amin", include_self=True)
    first[:, :, 0] = first_inc[None, :]
    q = torch.flip(torch.cummax(torch.flip(q, [2]), 2).values, [2])
    first = torch.flip(torch.cummin(torch.flip(first, [2]), 2).values, [2])
    ss = torch.where(first < big, score_s[first.clamp(max=max(N - 1, 0))], torch.zeros_like(q)) if N else torch.zeros_like(q)
    total_tp = torch.bincount(seg_tp, minlength=C * K).view(C, K).to(torch.float64)
    return q, ss, total_tp / npig


def _sort_order(slot: torch.Tensor, img: torch.Tensor, rank: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    """Stable order by (slot, -score, image, rank).

    Kept detections arrive ordered by (image, slot, rank) (see ``grouping``), so two stable sorts, by
    -score and then by slot, give the full order.
    """
    return _stable_two_keys(slot, score)


def _stable_two_keys(slot: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    if slot.device.type == "cpu":
        o1 = stable_argsort_descending(score.numpy())
        sl = slot.numpy()[o1]
        sl = sl.astype(np.int16) if sl.size and sl.max() < 32767 else sl
        return torch.from_numpy(o1[np.argsort(sl, kind="stable")])
    o1 = torch.argsort(-score, stable=True)
    return o1[torch.argsort(slot[o1], stable=True)]
