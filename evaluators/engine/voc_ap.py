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
from typing import Any

import numpy as np

from .argmax_matching import IGNORED, TP
from ..kernels.arrays import ops_of, quiet
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


def voc_average_precision(state: Any, slot: Any, npos: Any, n_slots: int, score_order: np.ndarray,
                          eval_mode: str = "11points", float32: bool = False) -> VocCurves:
    """AP per (threshold, class) from match states (N, T) and class slots of detections (numpy arrays or
    torch tensors).

    ``score_order``: the detections' positions sorted by (descending score, file row), as grouping gives it
    (``Groups.dt_score_order``); a stable split by class turns it into the per-class VOC order."""
    xp = ops_of(slot)
    by_slot = stable_argsort_small(xp.to_numpy(slot)[score_order], n_slots)
    order = xp.from_numpy(score_order[by_slot])
    T, K = state.shape[1], n_slots
    ap = xp.zeros((T, K), xp.float64)
    p11 = xp.zeros((T, 11, K), xp.float64)
    recall = xp.zeros((T, K), xp.float64)
    npos_f = xp.astype(npos, xp.float64)
    slot_sorted = slot[order]
    for t in range(T):
        s = state[order, t]
        keep = s != IGNORED
        sl = slot_sorted[keep]
        is_tp = xp.astype(s[keep] == TP, xp.int64)
        seg_start = xp.searchsorted(sl, xp.arange(K))
        cum = xp.cumsum(is_tp, 0)
        base = xp.cat([xp.zeros(1, xp.int64), cum])[seg_start]
        tpc = cum - base[sl]
        n = xp.arange(xp.size(sl)) - seg_start[sl] + 1  # detections so far in the class
        tp_idx = xp.nonzero(is_tp)
        k_tp, tp_c, n_c = sl[tp_idx], tpc[tp_idx], n[tp_idx]
        with quiet(xp):  # a class without counted GT: NaN recall
            rec = xp.astype(tp_c, xp.float64) / npos_f[k_tp]
        if float32:
            prec = xp.astype(xp.astype(tp_c, xp.float32) / xp.clamp(xp.astype(n_c, xp.float32), lo=_EPS32), xp.float64)
        else:
            prec = xp.astype(tp_c, xp.float64) / xp.clamp(xp.astype(n_c, xp.float64), lo=_EPS64)
        p11[t] = _eleven_points(rec, prec, k_tp, K)
        ap[t] = _sum_eleven(p11[t], float32) if eval_mode == "11points" else _area(rec, prec, k_tp, K, float32)
        total = xp.astype(xp.bincount(k_tp, minlength=K), xp.float64)
        with quiet(xp):
            recall[t] = total / npos_f
    return VocCurves(xp.to_numpy(ap), xp.to_numpy(p11), xp.to_numpy(recall))


def _eleven_points(rec, prec, k, K):
    """(11, K): the largest precision at recall >= each threshold (0 where none)."""
    xp = ops_of(rec)
    thr = xp.asarray(RECALL_POINTS_11, xp.float64)
    reached = xp.searchsorted(thr, xp.nan_to_num(rec, nan=-1.0), right=True)  # thresholds <= rec
    q = xp.scatter_max_(xp.zeros(K * 12, xp.float64), k * 12 + reached, prec)
    q = q.reshape(K, 12)[:, 1:]
    q = xp.flip(xp.cummax(xp.flip(q, 1), 1), 1)
    return xp.copy(q.T)


def _sum_eleven(p11, float32: bool):
    xp = ops_of(p11)
    if float32:  # mmdet: float32 accumulator, then / 11
        acc = xp.zeros(p11.shape[1], xp.float32)
        for r in range(11):
            acc = acc + xp.astype(p11[r], xp.float32)
        return xp.astype(acc / xp.asarray(11, xp.float32), xp.float64)
    ap = xp.zeros(p11.shape[1], xp.float64)
    for r in range(11):
        ap = ap + p11[r] / 11.0
    return ap


def _area(rec, prec, k, K, float32: bool):
    """Sum over true positives of (recall step) x (envelope precision), per class."""
    xp = ops_of(rec)
    if xp.size(rec) == 0:
        return xp.zeros(K, xp.float64)
    counts = xp.bincount(k, minlength=K)
    start = xp.cumsum(counts, 0) - counts
    col = xp.arange(xp.size(k)) - start[k]
    grid = xp.full((K, int(counts.max())), -1.0, xp.float64)
    grid[k, col] = prec
    env = xp.flip(xp.cummax(xp.flip(grid, 1), 1), 1)[k, col]
    prev_rec = xp.cat([xp.zeros(1, xp.float64), rec[:-1]])
    prev = xp.where(col > 0, prev_rec, 0.0)
    terms = (rec - prev) * env
    out = xp.index_add_(xp.zeros(K, xp.float64), k, terms)
    return xp.astype(xp.astype(out, xp.float32), xp.float64) if float32 else out
