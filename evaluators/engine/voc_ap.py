"""Average precision the VOC way (the DOTA devkit's and mmrotate's too), for every class at once.

Per class, all detections of all images in one list sorted by descending score (ties: file order), ignored
ones dropped (they change neither count); ``rec = tp / npos`` and ``prec = tp / max(tp + fp, eps)`` after
each detection. Then

* ``11points`` (VOC07): for the float64 thresholds ``np.arange(0., 1.1, 0.1)`` (0.30000000000000004 and
  friends, as the devkit), the largest precision at recall >= threshold (0 if none), summed as
  ``ap = ap + p / 11.`` in threshold order;
* ``area`` (VOC2010+): the area under the precision envelope, summed over the points where recall grows.

Precision between two true positives only falls, so both only need the true positives: a scatter-max into
threshold buckets with a reverse cumulative max (11 points), and a reverse cumulative max of the true
positives' precisions per class (area). ``float32`` repeats mmrotate's arithmetic (float32 precision and
11-point sum).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .argmax_matching import IGNORED, TP
from ..kernels.stable_sort import stable_argsort_small

RECALL_POINTS_11 = np.arange(0.0, 1.1, 0.1)
_EPS64 = float(np.finfo(np.float64).eps)
_EPS32 = float(np.finfo(np.float32).eps)


@dataclass
class VocCurves:
    """Per threshold t and class k: ``ap`` (T, K), the 11-point precisions (T, 11, K), final ``recall`` (T, K)."""

    ap: np.ndarray
    precision11: np.ndarray
    recall: np.ndarray


def voc_average_precision(state: torch.Tensor, slot: torch.Tensor, npos: torch.Tensor, n_slots: int,
                          score_order: np.ndarray, eval_mode: str = "11points", float32: bool = False) -> VocCurves:
    """AP per (threshold, class) from match states (N, T) and class slots of detections.

    ``score_order``: the detections' positions sorted by (descending score, file row), as grouping gives it
    (``Groups.dt_score_order``); a stable split by class turns it into the per-class VOC order."""
    device = slot.device
    by_slot = stable_argsort_small(slot.cpu().numpy()[score_order], n_slots)
    order = torch.as_tensor(score_order[by_slot], device=device)
    T, K = state.shape[1], n_slots
    ap = torch.zeros((T, K), dtype=torch.float64, device=device)
    p11 = torch.zeros((T, 11, K), dtype=torch.float64, device=device)
    recall = torch.zeros((T, K), dtype=torch.float64, device=device)
    npos_f = npos.to(torch.float64)
    for t in range(T):
        s = state[order, t]
        keep = s != IGNORED
        sl = slot[order][keep]
        is_tp = (s[keep] == TP).to(torch.int64)
        seg_start = torch.searchsorted(sl, torch.arange(K, device=device))
        cum = torch.cumsum(is_tp, 0)
        base = torch.cat([torch.zeros(1, dtype=torch.int64, device=device), cum])[seg_start]
        tpc = cum - base[sl]
        n = torch.arange(sl.numel(), device=device) - seg_start[sl] + 1  # detections so far in the class
        tp_idx = torch.nonzero(is_tp).flatten()
        k_tp, tp_c, n_c = sl[tp_idx], tpc[tp_idx], n[tp_idx]
        rec = tp_c.to(torch.float64) / npos_f[k_tp]
        if float32:
            prec = (tp_c.to(torch.float32) / torch.clamp(n_c.to(torch.float32), min=_EPS32)).to(torch.float64)
        else:
            prec = tp_c.to(torch.float64) / torch.clamp(n_c.to(torch.float64), min=_EPS64)
        p11[t] = _eleven_points(rec, prec, k_tp, K)
        ap[t] = _sum_eleven(p11[t], float32) if eval_mode == "11points" else _area(rec, prec, k_tp, K, float32)
        total = torch.bincount(k_tp, minlength=K).to(torch.float64)
        recall[t] = total / npos_f
    return VocCurves(ap.cpu().numpy(), p11.cpu().numpy(), recall.cpu().numpy())


def _eleven_points(rec, prec, k, K) -> torch.Tensor:
    """(11, K): the largest precision at recall >= each threshold (0 where none)."""
    thr = torch.as_tensor(RECALL_POINTS_11, dtype=torch.float64, device=rec.device)
    reached = torch.searchsorted(thr, torch.nan_to_num(rec, nan=-1.0), right=True)  # thresholds <= rec
    q = torch.zeros(K * 12, dtype=torch.float64, device=rec.device)
    q.scatter_reduce_(0, k * 12 + reached, prec, "amax", include_self=True)
    q = q.view(K, 12)[:, 1:]
    q = torch.flip(torch.cummax(torch.flip(q, [1]), 1).values, [1])
    return q.t().contiguous()


def _sum_eleven(p11: torch.Tensor, float32: bool) -> torch.Tensor:
    if float32:  # mmdet: float32 accumulator, then / 11
        acc = torch.zeros(p11.shape[1], dtype=torch.float32, device=p11.device)
        for r in range(11):
            acc = acc + p11[r].to(torch.float32)
        return (acc / 11).to(torch.float64)
    ap = torch.zeros(p11.shape[1], dtype=torch.float64, device=p11.device)
    for r in range(11):
        ap = ap + p11[r] / 11.0
    return ap


def _area(rec, prec, k, K, float32: bool) -> torch.Tensor:
    """Sum over true positives of (recall step) x (envelope precision), per class."""
    device = rec.device
    if rec.numel() == 0:
        return torch.zeros(K, dtype=torch.float64, device=device)
    counts = torch.bincount(k, minlength=K)
    start = torch.cumsum(counts, 0) - counts
    col = torch.arange(k.numel(), device=device) - start[k]
    grid = torch.full((K, int(counts.max())), -1.0, dtype=torch.float64, device=device)
    grid[k, col] = prec
    env = torch.flip(torch.cummax(torch.flip(grid, [1]), 1).values, [1])[k, col]
    prev = torch.where(col > 0, torch.roll(rec, 1), torch.zeros_like(rec))
    terms = (rec - prev) * env
    out = torch.zeros(K, dtype=torch.float64, device=device).index_add_(0, k, terms)
    return out.to(torch.float32).to(torch.float64) if float32 else out
