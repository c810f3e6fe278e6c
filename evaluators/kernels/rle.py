"""Run-length masks in COCO's column-major convention, decoded into flat arrays (no bitmaps).

A mask of size (h, w) is a list of counts: background, foreground, background, ... over the pixels in
column-major order. COCO's *compressed* form packs each count into 5-bit chunks offset by 48 (ASCII), with
counts from the third on stored as a difference to the count two places before. :func:`decode_compressed`
undoes both for many masks at once with numpy; :func:`masks_to_runs` turns counts into foreground runs
(start, length) that the intersection kernel consumes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class Counts:
    """Counts of many masks, concatenated: mask ``i`` owns ``values[offsets[i]:offsets[i+1]]``."""

    values: np.ndarray  # int64
    offsets: np.ndarray  # int64, len n+1


def decode_compressed(strings: Sequence[bytes]) -> Counts:
    """Decode COCO compressed RLE strings into counts, vectorised over all strings at once."""
    n = len(strings)
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=n)
    buf = np.frombuffer(b"".join(strings), dtype=np.uint8).astype(np.int64) - 48
    if buf.size == 0:
        return Counts(np.zeros(0, np.int64), np.zeros(n + 1, np.int64))
    more = (buf & 0x20) != 0
    ends = np.flatnonzero(~more)  # last character of each token
    # a string must end on a token boundary
    char_string = np.repeat(np.arange(n), lengths)
    token_start = np.concatenate(([0], ends[:-1] + 1))
    token_len = ends - token_start + 1
    k = np.arange(buf.size) - np.repeat(token_start, token_len)
    chunk = (buf & 0x1F) << (5 * k)
    x = np.add.reduceat(chunk, token_start)
    negative = (buf[ends] & 0x10) != 0
    x = np.where(negative, x - (np.int64(1) << (5 * token_len)), x)
    token_string = char_string[ends]
    per_string = np.bincount(token_string, minlength=n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(per_string, out=offsets[1:])
    m = np.arange(x.size) - np.repeat(offsets[:-1], per_string)
    values = _undo_delta(x, m, token_string)
    return Counts(values & 0xFFFFFFFF, offsets)


def _undo_delta(x: np.ndarray, m: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """counts[m] = x[m] + counts[m-2] for m > 2, per mask: cumulative sums along the odd and the even
    positions (index 0 excluded), each restarted at the mask's first token."""
    odd = (m & 1).astype(bool)
    out = x.copy()
    for chain in (odd, ~odd & (m >= 2)):
        v = np.where(chain, x, 0)
        c = np.cumsum(v)
        # value of the running sum just before each mask's first token
        first = np.flatnonzero(m == 0)
        base = np.repeat(c[first] - v[first], np.diff(np.append(first, x.size)))
        out = np.where(chain, c - base, out)
    return out


@dataclass
class Runs:
    """Foreground runs of many masks: mask ``i`` owns runs ``offsets[i]:offsets[i+1]``.

    ``start`` is the column-major pixel index where a run begins; ``prefix`` the number of foreground
    pixels of the same mask before that run. ``area`` and ``total`` (sum of all counts) are per mask.
    """

    start: np.ndarray
    length: np.ndarray
    prefix: np.ndarray
    offsets: np.ndarray
    area: np.ndarray
    total: np.ndarray


def masks_to_runs(counts: Counts) -> Runs:
    """Turn counts (bg, fg, bg, ...) into foreground runs with start positions and prefix areas."""
    values, offsets = counts.values, counts.offsets
    n = offsets.size - 1
    per_mask = np.diff(offsets)
    owner = np.repeat(np.arange(n), per_mask)
    local = np.arange(values.size) - np.repeat(offsets[:-1], per_mask)
    csum = _exclusive_cumsum(values)
    end = csum[1:] - np.repeat(csum[offsets[:-1]], per_mask)  # end of each count within its mask
    fg = np.flatnonzero(local % 2 == 1)
    length = values[fg]
    start = end[fg] - length
    runs_per_mask = np.bincount(owner[fg], minlength=n)
    run_offsets = _exclusive_cumsum(runs_per_mask)
    lcum = _exclusive_cumsum(length)
    prefix = lcum[:-1] - np.repeat(lcum[run_offsets[:-1]], runs_per_mask)
    area = lcum[run_offsets[1:]] - lcum[run_offsets[:-1]]
    total = csum[offsets[1:]] - csum[offsets[:-1]]
    return Runs(start, length, prefix, run_offsets, area, total)


def _exclusive_cumsum(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.size + 1, np.int64)
    np.cumsum(x, out=out[1:])
    return out
