"""Exact mask IoU for given pairs, straight from foreground runs (no bitmaps), batched with torch.

For a pair (a, b) the intersection is the sum, over a's runs [s, e), of F_b(e) - F_b(s), where F_b(x) is
the number of foreground pixels of b before position x. F_b is read off b's runs with one
``searchsorted`` over all masks at once (mask index in the high bits of the key). Counts are int64, so the
intersection is exact; the IoU is ``i / u`` in float64 as pycocotools' ``rleIou`` computes it (``u`` the
union, or the detection's area against a crowd region; 0 when nothing intersects).
"""
from __future__ import annotations

import torch

_SHIFT = 34  # pixel positions stay below 2**34 (a 131072 x 131072 image)


class RunTable:
    """Foreground runs of a set of masks, on a device, ready for intersection queries."""

    def __init__(self, start, length, prefix, offsets, area, device: torch.device) -> None:
        as_t = lambda a: torch.as_tensor(a, dtype=torch.int64, device=device)  # noqa: E731
        self.start, self.length, self.prefix = as_t(start), as_t(length), as_t(prefix)
        self.offsets, self.area = as_t(offsets), as_t(area)
        owner = torch.repeat_interleave(torch.arange(self.area.numel(), device=device), self.offsets.diff())
        self.keys = (owner << _SHIFT) + self.start
        self.runs_per_mask = self.offsets.diff()

    def coverage(self, mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Foreground pixels of ``mask[i]`` strictly before position ``pos[i]``."""
        j = torch.searchsorted(self.keys, (mask << _SHIFT) + pos, right=True) - 1
        inside = j >= self.offsets[mask]
        j = j.clamp(min=0)
        cov = self.prefix[j] + torch.minimum(pos - self.start[j], self.length[j])
        return torch.where(inside, cov, torch.zeros_like(cov))


def intersections(table: RunTable, a: torch.Tensor, b: torch.Tensor, chunk: int = 1 << 23) -> torch.Tensor:
    """Pixels shared by masks ``a[i]`` and ``b[i]`` of ``table``; queries run over the side with fewer runs."""
    swap = table.runs_per_mask[a] > table.runs_per_mask[b]
    q = torch.where(swap, b, a)
    t = torch.where(swap, a, b)
    out = torch.zeros(q.numel(), dtype=torch.int64, device=q.device)
    nq = table.runs_per_mask[q]
    bounds = torch.cumsum(nq, 0)
    lo = 0
    while lo < q.numel():
        # pairs [lo, hi) whose queries fit in one chunk (at least one pair)
        limit = (bounds[lo - 1] if lo else 0) + chunk
        hi = max(lo + 1, int(torch.searchsorted(bounds, torch.as_tensor(limit, device=q.device), right=True)))
        hi = min(hi, q.numel())
        counts = nq[lo:hi]
        pair = torch.repeat_interleave(torch.arange(lo, hi, device=q.device), counts)
        first = table.offsets[q[lo:hi]]
        run = torch.repeat_interleave(first - (torch.cumsum(counts, 0) - counts), counts) + torch.arange(pair.numel(), device=q.device)
        s = table.start[run]
        e = s + table.length[run]
        tm = t[pair]
        got = table.coverage(tm, e) - table.coverage(tm, s)
        out.index_add_(0, pair, got)
        lo = hi
    return out


def mask_iou_pairs(table: RunTable, dt: torch.Tensor, gt: torch.Tensor, crowd: torch.Tensor) -> torch.Tensor:
    """IoU of masks ``dt[i]`` and ``gt[i]`` (indices into ``table``) as pycocotools' rleIou gives it."""
    inter = intersections(table, dt, gt)
    da = table.area[dt]
    union = torch.where(crowd, da, da + table.area[gt] - inter)
    union = torch.where(inter == 0, torch.ones_like(union), union)
    return inter.to(torch.float64) / union.to(torch.float64)
