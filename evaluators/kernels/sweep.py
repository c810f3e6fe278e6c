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
    floored = _floor_keys((a_group, b_group), (a_lo, b_lo), (a_hi + pad, b_hi + pad))
    if floored is not None:
        (a_key, b_key), (a_end, b_end) = floored
        a_end, b_end = a_end + 1, b_end + 1  # keys <= floor(end): searched "left" of end + 1
    else:
        starts, rank = np.unique(np.concatenate([a_lo, b_lo]), return_inverse=True)
        span = np.int64(starts.size + 1)
        a_key = a_group.astype(np.int64) * span + rank[: a_lo.size]
        b_key = b_group.astype(np.int64) * span + rank[a_lo.size:]
        a_end = a_group.astype(np.int64) * span + np.searchsorted(starts, a_hi + pad, side="right")
        b_end = b_group.astype(np.int64) * span + np.searchsorted(starts, b_hi + pad, side="right")
    a_order, b_order = stable_argsort_int(a_key), stable_argsort_int(b_key)
    a_sorted, b_sorted = a_key[a_order], b_key[b_order]
    # every extent in sorted order: the cut-back below reads them at sorted positions
    a_dims = [(a_lo, a_hi)] + list(also[0] if also else [])
    b_dims = [(b_lo, b_hi)] + list(also[1] if also else [])
    a_dims = [(lo[a_order], hi[a_order]) for lo, hi in a_dims]
    b_dims = [(lo[b_order], hi[b_order]) for lo, hi in b_dims]
    cut_x = floored is not None  # floored keys: drop the pairs that only touch within the pixel
    chunks = [
        _expand(np.searchsorted(b_sorted, a_sorted, "left"), np.searchsorted(b_sorted, a_end[a_order], "left"),
                max_pairs, swap=False),
        _expand(np.searchsorted(a_sorted, b_sorted, "right"), np.searchsorted(a_sorted, b_end[b_order], "left"),
                max_pairs, swap=True),
    ]
    for i, j in (pair for chunk in chunks for pair in chunk):
        ok = None
        for k, ((alo, ahi), (blo, bhi)) in enumerate(zip(a_dims, b_dims)):
            if k == 0 and not cut_x:
                continue
            dim_ok = (alo[i] <= bhi[j] + pad) & (blo[j] <= ahi[i] + pad)
            ok = dim_ok if ok is None else ok & dim_ok
        if ok is not None:
            i, j = i[ok], j[ok]
        if i.size:
            yield a_order[i], b_order[j]


def self_overlap_pairs(group: np.ndarray, lo: np.ndarray, hi: np.ndarray, pad: float = 0.0,
                       max_pairs: int = 1 << 22, also: Extents = ()) -> Pairs:
    """Chunks of (i, j), i != j, each unordered same-group pair with overlapping extents once (and
    overlapping ``also`` extents, as in :func:`overlap_pairs`)."""
    floored = _floor_keys((group,), (lo,), (hi + pad,))
    if floored is not None:
        (key,), (end,) = floored
        end = end + 1
    else:
        starts, rank = np.unique(lo, return_inverse=True)
        span = np.int64(starts.size + 1)
        key = group.astype(np.int64) * span + rank
        end = group.astype(np.int64) * span + np.searchsorted(starts, hi + pad, side="right")
    order = stable_argsort_int(key)
    dims = [(d_lo[order], d_hi[order]) for d_lo, d_hi in [(lo, hi), *also]]
    cut_x = floored is not None
    # boxes after this one in (group, key) order that start before its end: equal keys count once
    first = np.arange(1, order.size + 1)
    for i, j in _expand(first, np.searchsorted(key[order], end[order], "left"), max_pairs, swap=False):
        ok = None
        for k, (d_lo, d_hi) in enumerate(dims):
            if k == 0 and not cut_x:
                continue
            dim_ok = (d_lo[i] <= d_hi[j] + pad) & (d_lo[j] <= d_hi[i] + pad)
            ok = dim_ok if ok is None else ok & dim_ok
        if ok is not None:
            i, j = i[ok], j[ok]
        if i.size:
            yield order[i], order[j]


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
