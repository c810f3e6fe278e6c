"""Pairs of same-group boxes whose x-extents overlap, found by a sweep over left edges.

Enumerating every same-group pair costs (detections x ground truths) per group; sorting the left edges
per group and taking, for each box, the contiguous run of boxes that start inside its extent costs only
the overlapping pairs. The right end is padded (``pad``); the caller narrows with its own overlap test.

Sort keys are integers: ``group * span + floor(edge)`` when all edges are finite and the key range fits
(the fast path: one integer sort per side, no float ranking), else exact ranks of the left edges
(``np.unique``). Floored keys find a superset (pairs within a pixel), which is cut back to exactly the
overlapping pairs before they are returned. Pairs come in chunks of about ``max_pairs``.
"""
from __future__ import annotations

from typing import Iterator, Optional, Sequence, Tuple

import numpy as np

from .stable_sort import stable_argsort_int

Pairs = Iterator[Tuple[np.ndarray, np.ndarray]]


Extents = Sequence[Tuple[np.ndarray, np.ndarray]]


def overlap_pairs(a_group: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray, b_group: np.ndarray, b_lo: np.ndarray,
                  b_hi: np.ndarray, pad: float = 0.0, max_pairs: int = 1 << 22,
                  also: Optional[Tuple[Extents, Extents]] = None) -> Pairs:
    """Chunks of (i, j), ``a[i]`` and ``b[j]`` in the same group with [lo, hi + pad] extents overlapping.

    ``also``: further dimensions that must overlap the same way, ``([(a_lo2, a_hi2), ...], [(b_lo2, b_hi2),
    ...])`` (the y extents of boxes): checked on the swept pairs before they are returned.

    The later-starting box of an overlapping pair starts inside the other's extent: (1) b's that start at
    or after a's start, up to a's end; (2) a's that start strictly after b's start, up to b's end. The two
    never meet, so every pair comes once. Owners are visited in sorted order (cache-friendly searches
    and gathers); the order of the pairs is not part of the contract.
    """
    (a_key, b_key), (a_end, b_end), floored = _sweep_keys((a_group, b_group), (a_lo, b_lo), (a_hi, b_hi), pad)
    a_order, b_order = stable_argsort_int(a_key), stable_argsort_int(b_key)
    a_sorted, b_sorted = a_key[a_order], b_key[b_order]
    # every extent in sorted order: the cut-back reads them at sorted positions
    a_dims = [(lo[a_order], hi[a_order]) for lo, hi in [(a_lo, a_hi), *(also[0] if also else [])]]
    b_dims = [(lo[b_order], hi[b_order]) for lo, hi in [(b_lo, b_hi), *(also[1] if also else [])]]
    chunks = [
        _expand(np.searchsorted(b_sorted, a_sorted, "left"), np.searchsorted(b_sorted, a_end[a_order], "left"),
                max_pairs, swap=False),
        _expand(np.searchsorted(a_sorted, b_sorted, "right"), np.searchsorted(a_sorted, b_end[b_order], "left"),
                max_pairs, swap=True),
    ]
    for i, j in (pair for chunk in chunks for pair in chunk):
        i, j = _cut_back(i, j, a_dims, b_dims, pad, floored)
        if i.size:
            yield a_order[i], b_order[j]


def self_overlap_pairs(group: np.ndarray, lo: np.ndarray, hi: np.ndarray, pad: float = 0.0,
                       max_pairs: int = 1 << 22, also: Extents = ()) -> Pairs:
    """Chunks of (i, j), i != j, each unordered same-group pair with overlapping extents once (and
    overlapping ``also`` extents, as in :func:`overlap_pairs`)."""
    (key,), (end,), floored = _sweep_keys((group,), (lo,), (hi,), pad)
    order = stable_argsort_int(key)
    dims = [(d_lo[order], d_hi[order]) for d_lo, d_hi in [(lo, hi), *also]]
    # boxes after this one in (group, key) order that start before its end: equal keys count once
    first = np.arange(1, order.size + 1)
    for i, j in _expand(first, np.searchsorted(key[order], end[order], "left"), max_pairs, swap=False):
        i, j = _cut_back(i, j, dims, dims, pad, floored)
        if i.size:
            yield order[i], order[j]


def _sweep_keys(groups, los, his, pad: float):
    """``(keys, ends, floored)`` per side: a box's sort key, and the key its extent ends before (searched
    "left"), both as int64 with the group in the high part. Floored edges when they fit (the pairs then
    need the exact cut-back of :func:`_cut_back`), else exact ranks of the left edges."""
    ends = tuple(hi + pad for hi in his)
    floored = _floor_keys(groups, los, ends)
    if floored is not None:
        keys, end_keys = floored
        return keys, [e + 1 for e in end_keys], True  # keys <= floor(end): searched "left" of end + 1
    starts, rank = np.unique(np.concatenate(los), return_inverse=True)
    span = np.int64(starts.size + 1)
    keys, end_keys, at = [], [], 0
    for g, lo, end in zip(groups, los, ends):
        high = g.astype(np.int64) * span
        keys.append(high + rank.reshape(-1)[at: at + lo.size])
        end_keys.append(high + np.searchsorted(starts, end, side="right"))
        at += lo.size
    return keys, end_keys, False


def _cut_back(i, j, a_dims, b_dims, pad: float, floored: bool):
    """The pairs whose extents overlap in every dimension (the first, swept one only needs the check when
    its keys were floored)."""
    ok = None
    for k, ((alo, ahi), (blo, bhi)) in enumerate(zip(a_dims, b_dims)):
        if k == 0 and not floored:
            continue
        dim_ok = (alo[i] <= bhi[j] + pad) & (blo[j] <= ahi[i] + pad)
        ok = dim_ok if ok is None else ok & dim_ok
    return (i, j) if ok is None else (i[ok], j[ok])


def _floor_keys(groups, los, ends):
    """``(keys, end_keys)`` per side: ``group * span + floor(edge) - base`` as int64, or None when an edge
    is not finite or the keys would not fit (then the caller ranks the edges exactly)."""
    edges = [np.asarray(e, np.float64) for e in (*los, *ends)]
    if not edges or any(e.size == 0 for e in edges[: len(los)]):
        return None
    low = min(float(e.min()) for e in edges if e.size)
    high = max(float(e.max()) for e in edges if e.size)
    if not (np.isfinite(low) and np.isfinite(high)) or high - low > 2.0 ** 40:
        return None
    if not all(np.isfinite(e).all() for e in edges):
        return None
    n_groups = max(int(np.max(g)) + 1 if np.size(g) else 1 for g in groups)
    base = np.floor(low)
    span = np.int64(np.floor(high) - base + 2)
    if n_groups * int(span) >= 2 ** 62:
        return None

    def key(g, e):
        return np.asarray(g, np.int64) * span + (np.floor(e) - base).astype(np.int64)

    return ([key(g, e) for g, e in zip(groups, los)], [key(g, e) for g, e in zip(groups, ends)])


def _expand(first: np.ndarray, stop: np.ndarray, max_pairs: int, swap: bool) -> Pairs:
    """Owner position i is paired with positions ``first[i]:stop[i]`` of the other side, in chunks."""
    count = np.maximum(stop - first, 0)
    bounds = np.cumsum(count)
    n = count.size
    start = 0
    while start < n:
        base = bounds[start - 1] if start else 0
        end = min(max(int(np.searchsorted(bounds, base + max_pairs, side="right")), start + 1), n)
        c = count[start:end]
        mine = np.repeat(np.arange(start, end), c)
        theirs = np.repeat(first[start:end] - (np.cumsum(c) - c), c) + np.arange(int(c.sum()))
        if mine.size:
            yield (theirs, mine) if swap else (mine, theirs)
        start = end
