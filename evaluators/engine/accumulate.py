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

_EPS = float(np.spacing(1))


@dataclass
class Accumulated:
    """pycocotools' ``eval`` arrays: precision/scores (T,R,K,A,M), recall (T,K,A,M); -1 where undefined."""

    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray


def accumulate(tp: torch.Tensor, fp: torch.Tensor, slot: torch.Tensor, img: torch.Tensor, rank: torch.Tensor,
               score: torch.Tensor, npig: torch.Tensor, n_slots: int, max_dets: Sequence[int],
               rec_thrs: Sequence[float], max_elems: int = 1 << 24) -> Accumulated:
    """Build the arrays from per-detection TP/FP flags (N, T, A) and per-(slot, area) GT counts ``npig``."""
    device = tp.device
    N, T, A = tp.shape
    K, M, R = n_slots, len(max_dets), len(rec_thrs)
    order = _sort_order(slot, score, img, rank)
    slot_s, rank_s, score_s = slot[order], rank[order], score[order]
    tp_s = tp[order].reshape(N, T * A)
    fp_s = fp[order].reshape(N, T * A)
    seg_first = torch.searchsorted(slot_s, torch.arange(K, device=device))  # first row of each slot
    thr = torch.tensor(list(rec_thrs), dtype=torch.float64, device=device)

    precision = torch.full((T * A, K, R, M), -1.0, dtype=torch.float64, device=device)
    scores = torch.full_like(precision, -1.0)
    recall = torch.full((T * A, K, M), -1.0, dtype=torch.float64, device=device)
    cols_per_chunk = max(1, min(T * A, max_elems // max(N, 1)))
    npig_cols = npig.to(torch.float64).t().repeat(T, 1)  # (T*A, K): column c = t*A + a
    for mi, m in enumerate(max_dets):
        inc = rank_s < m
        for c0 in range(0, T * A, cols_per_chunk):
            c1 = min(T * A, c0 + cols_per_chunk)
            p, s, r = _columns(tp_s[:, c0:c1], fp_s[:, c0:c1], inc, slot_s, seg_first, score_s,
                               npig_cols[c0:c1], thr, K)
            precision[c0:c1, :, :, mi], scores[c0:c1, :, :, mi], recall[c0:c1, :, mi] = p, s, r
    undefined = (npig_cols == 0)[:, :, None]
    precision.masked_fill_(undefined[..., None], -1.0)
    scores.masked_fill_(undefined[..., None], -1.0)
    recall.masked_fill_(undefined, -1.0)
    # (T*A, K, R, M) -> (T, R, K, A, M)
    prec = precision.reshape(T, A, K, R, M).permute(0, 3, 2, 1, 4)
    sc = scores.reshape(T, A, K, R, M).permute(0, 3, 2, 1, 4)
    rec = recall.reshape(T, A, K, M).permute(0, 2, 1, 3)
    return Accumulated(prec.cpu().numpy().copy(), rec.cpu().numpy().copy(), sc.cpu().numpy().copy())


def _sort_order(slot: torch.Tensor, score: torch.Tensor, img: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
    """Stable lexicographic order by (slot, -score, image, rank) via successive stable sorts."""
    order = torch.argsort(rank, stable=True)
    for key in (img, -score, slot):
        order = order[torch.argsort(key[order], stable=True)]
    return order


def _columns(tp, fp, inc, slot_s, seg_first, score_s, npig, thr, K):
    """One chunk of (t, a) columns for one maxDets value: returns precision, scores (C,K,R), recall (C,K)."""
    device = tp.device
    N, C = tp.shape
    R = thr.numel()
    tpc = torch.cumsum((tp & inc[:, None]).to(torch.int64), 0)
    fpc = torch.cumsum((fp & inc[:, None]).to(torch.int64), 0)
    zero = torch.zeros((1, C), dtype=torch.int64, device=device)
    tp_ex, fp_ex = torch.cat([zero, tpc]), torch.cat([zero, fpc])
    tpc = (tpc - tp_ex[seg_first][slot_s]).to(torch.float64)
    fpc = (fpc - fp_ex[seg_first][slot_s]).to(torch.float64)
    seg_end = torch.cat([seg_first[1:], torch.tensor([N], device=device)])
    total_tp = (tp_ex[seg_end] - tp_ex[seg_first]).to(torch.float64).t()  # (C, K)
    np_rows = npig.t()[slot_s]  # (N, C)
    rc = tpc / np_rows
    pr = tpc / ((fpc + tpc) + _EPS)
    bucket = torch.searchsorted(thr, rc.contiguous(), right=True)  # 1..R (0 only for rc < thr[0])
    bucket = torch.where(inc[:, None], bucket, torch.zeros_like(bucket))
    col = torch.arange(C, device=device)[None, :]
    flat = (col * K + slot_s[:, None]) * (R + 1) + bucket
    q = torch.zeros(C * K * (R + 1), dtype=torch.float64, device=device)
    q.scatter_reduce_(0, flat.reshape(-1), pr.reshape(-1), "amax", include_self=True)
    big = torch.iinfo(torch.int64).max
    first = torch.full((C * K * (R + 1),), big, dtype=torch.int64, device=device)
    rows = torch.arange(N, device=device)[:, None].expand(N, C)
    first.scatter_reduce_(0, flat.reshape(-1), rows.reshape(-1), "amin", include_self=True)
    q = q.view(C, K, R + 1)[:, :, 1:]
    first = first.view(C, K, R + 1)[:, :, 1:]
    q = torch.flip(torch.cummax(torch.flip(q, [2]), 2).values, [2])
    first = torch.flip(torch.cummin(torch.flip(first, [2]), 2).values, [2])
    ss = torch.where(first < big, score_s[first.clamp(max=max(N - 1, 0))], torch.zeros_like(q)) if N else torch.zeros_like(q)
    recall = total_tp / npig
    return q, ss, recall
