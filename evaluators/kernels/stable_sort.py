"""Stable argsorts equal to numpy's ``kind="stable"``, on numpy's fast sorts.

The reference tools sort with numpy's stable sort (ties keep input order), which for 64-bit keys is
a merge sort several times slower than numpy's default vectorised sort. That sort is not stable, but
a key made unique by appending its position has exactly one sorted order, the stable one: sort
``key * n + position`` as plain int64 values and read the positions back. Floats are first replaced
by their dense rank, found with one unstable sort (equal values are adjacent in any sorted order).
NaN, and keys too wide for the int64 packing, take numpy's stable sort itself.
"""
from __future__ import annotations

import numpy as np


def stable_argsort_int(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for an integer array (int64 result)."""
    keys = np.asarray(keys)
    n = keys.size
    if n < 2:
        return np.zeros(n, np.int64)
    lo, hi = int(keys.min()), int(keys.max())
    if (hi - lo + 1) * n >= 1 << 63:
        return np.argsort(keys, kind="stable")
    if keys.dtype.kind == "u":  # shift in unsigned arithmetic: values may lie above 2**63
        packed = (keys.astype(np.uint64) - np.uint64(lo)).astype(np.int64)
    else:
        packed = keys.astype(np.int64) - np.int64(lo)
    packed *= n
    packed += np.arange(n, dtype=np.int64)
    packed.sort()
    return packed % n


def stable_argsort_descending(values: np.ndarray) -> np.ndarray:
    """``np.argsort(-values, kind="stable")`` for a float array: largest first, ties in input order."""
    values = np.asarray(values, np.float64)
    n = values.size
    if n < 2:
        return np.zeros(n, np.int64)
    negated = -values
    if np.isnan(values).any():
        return np.argsort(negated, kind="stable")
    order = np.argsort(negated)
    ranked = negated[order]
    new_run = np.empty(n, np.int64)
    new_run[0] = 0
    np.not_equal(ranked[1:], ranked[:-1], out=new_run[1:])  # -0.0 == 0.0: one run, as the stable sort
    if new_run[1:].all():
        return order  # no ties: the sorted order is unique, hence the stable one
    packed = np.cumsum(new_run) * n
    packed += order
    packed.sort()
    return packed % n


def stable_argsort_small(values: np.ndarray, n_values: int) -> np.ndarray:
    """Stable argsort of non-negative integers below ``n_values`` (radix sort when they fit 16 bits)."""
    if n_values <= 1 << 16:
        return np.argsort(values.astype(np.uint16), kind="stable")
    return stable_argsort_int(values)
