"""Pairs of same-group boxes whose x-extents overlap, found by a sweep over left edges.

Enumerating every same-group pair costs (detections x ground truths) per group; sorting the left edges
per group and taking, for each box, the contiguous run of boxes that start inside its extent costs only
the overlapping pairs. Left edges are compared through exact ranks (``np.unique``), so equal starts are
handled exactly; the right end is padded (``pad``) and the result is a superset that the caller narrows
with its own exact overlap test. Pairs come in chunks of about ``max_pairs``.
"""
from __future__ import annotations

from typing import Iterator, Tuple

import numpy as np

Pairs = Iterator[Tuple[np.ndarray, np.ndarray]]


def overlap_pairs(a_group: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray, b_group: np.ndarray, b_lo: np.ndarray,
                  b_hi: np.ndarray, pad: float = 0.0, max_pairs: int = 1 << 22) -> Pairs:
    """Chunks of (i, j), ``a[i]`` and ``b[j]`` in the same group with [lo, hi + pad] extents overlapping.

    The later-starting box of an overlapping pair starts inside the other's extent: (1) b's that start at
    or after a's start, up to a's end; (2) a's that start strictly after b's start, up to b's end. The two
    never meet, so every pair comes once.
    """
    starts, rank = np.unique(np.concatenate([a_lo, b_lo]), return_inverse=True)
    span = np.int64(starts.size + 1)
    a_key = a_group.astype(np.int64) * span + rank[: a_lo.size]
    b_key = b_group.astype(np.int64) * span + rank[a_lo.size:]
    a_end = a_group.astype(np.int64) * span + np.searchsorted(starts, a_hi + pad, side="right")
    b_end = b_group.astype(np.int64) * span + np.searchsorted(starts, b_hi + pad, side="right")
    a_order, b_order = np.argsort(a_key, kind="stable"), np.argsort(b_key, kind="stable")
    a_sorted, b_sorted = a_key[a_order], b_key[b_order]
    yield from _expand(np.searchsorted(b_sorted, a_key, "left"), np.searchsorted(b_sorted, a_end, "left"),
                       b_order, max_pairs, swap=False)
    yield from _expand(np.searchsorted(a_sorted, b_key, "right"), np.searchsorted(a_sorted, b_end, "left"),
                       a_order, max_pairs, swap=True)


def self_overlap_pairs(group: np.ndarray, lo: np.ndarray, hi: np.ndarray, pad: float = 0.0,
                       max_pairs: int = 1 << 22) -> Pairs:
    """Chunks of (i, j), i != j, each unordered same-group pair with overlapping extents once."""
    starts, rank = np.unique(lo, return_inverse=True)
    span = np.int64(starts.size + 1)
    key = group.astype(np.int64) * span + rank
    end = group.astype(np.int64) * span + np.searchsorted(starts, hi + pad, side="right")
    order = np.argsort(key, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    # boxes after this one in (group, start) order that start before its end: equal starts count once
    yield from _expand(position + 1, np.searchsorted(key[order], end, "left"), order, max_pairs, swap=False)


def _expand(first: np.ndarray, stop: np.ndarray, other_order: np.ndarray, max_pairs: int, swap: bool) -> Pairs:
    """Owner i is paired with ``other_order[first[i]:stop[i]]``, in chunks."""
    count = np.maximum(stop - first, 0)
    bounds = np.cumsum(count)
    n = count.size
    start = 0
    while start < n:
        base = bounds[start - 1] if start else 0
        end = min(max(int(np.searchsorted(bounds, base + max_pairs, side="right")), start + 1), n)
        c = count[start:end]
        mine = np.repeat(np.arange(start, end), c)
        offset = np.repeat(first[start:end] - (np.cumsum(c) - c), c) + np.arange(int(c.sum()))
        theirs = other_order[offset]
        if mine.size:
            yield (theirs, mine) if swap else (mine, theirs)
        start = end
