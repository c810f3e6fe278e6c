"""Candidate (detection, ground truth) pairs: same group, IoU at or above the lowest threshold.

Only these pairs can ever match, so the matching engine sees nothing else. IoUs are computed for all
same-group pairs in bounded chunks and filtered right away, which keeps memory flat on dense inputs
(1,000 proposals per image).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .grouping import Groups, pair_chunks

if TYPE_CHECKING:
    import torch

IouFn = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]


@dataclass
class Candidates:
    """Pairs sorted by detection (kept order): ``det`` and ``gt`` index ``Groups``' arrays (numpy arrays or
    torch tensors, as the engine's backend)."""

    det: Any
    gt: Any
    iou: Any


def lowest_threshold(iou_thrs) -> float:
    """The smallest effective threshold: pycocotools matches at IoU >= min(t, 1 - 1e-10)."""
    return float(min(min(t, 1 - 1e-10) for t in iou_thrs))


def candidate_pairs(groups: Groups, iou_fn: IouFn, t_min: float, device: "torch.device") -> Candidates:
    """All same-group pairs with ``iou_fn(det, gt) >= t_min``."""
    import torch

    dets, gts, ious = [], [], []
    for det_np, gt_np in pair_chunks(groups):
        det = torch.from_numpy(det_np).to(device)
        gt = torch.from_numpy(gt_np).to(device)
        iou = iou_fn(det, gt)
        keep = iou >= t_min
        dets.append(det[keep]); gts.append(gt[keep]); ious.append(iou[keep])
    if not dets:
        empty = torch.zeros(0, dtype=torch.int64, device=device)
        return Candidates(empty, empty, torch.zeros(0, dtype=torch.float64, device=device))
    return Candidates(torch.cat(dets), torch.cat(gts), torch.cat(ious))


def box_iou_fn(dt_boxes: np.ndarray, gt_boxes: np.ndarray, gt_crowd: np.ndarray, device: "torch.device") -> IouFn:
    """IoU function over kept-detection and evaluated-GT indices for box evaluation."""
    import torch

    from ..kernels.box_iou import Boxes, box_iou_pairs

    d = Boxes.from_xywh(torch.as_tensor(dt_boxes, dtype=torch.float64, device=device))
    g = Boxes.from_xywh(torch.as_tensor(gt_boxes, dtype=torch.float64, device=device))
    c = torch.as_tensor(gt_crowd, dtype=torch.bool, device=device)
    return lambda det, gt: box_iou_pairs(d, g, det, gt, c[gt])


def mask_candidates(groups: Groups, catalog, n_dt: int, gt_crowd: np.ndarray, t_min: float,
                    device: "torch.device", max_chars: int = 1 << 22) -> "tuple[Candidates, tuple]":
    """Candidate pairs for masks; detections are masks ``0..n_dt-1`` of ``catalog``, GTs follow.

    Phase 1 bounds every same-group pair from areas and boxes alone: i <= min(area_d, area_g, box
    overlap) and u >= max(area_d, area_g) (u = area_d against a crowd region). Rounding is monotonic,
    so the float64 bound is never below the exact IoU and no candidate is lost. Phase 2 decodes only the
    masks of the surviving pairs, a bounded chunk at a time, and counts their intersections exactly.
    Returns the candidates and (decoded mask indices, their pixel totals) for the RLE sanity check.
    """
    import torch

    from ..kernels.mask_iou import RunTable, mask_iou_pairs
    from ..kernels.rle import masks_to_runs

    area = torch.as_tensor(catalog.area, dtype=torch.int64, device=device)
    box = torch.as_tensor(catalog.boxes, dtype=torch.float64, device=device)
    x0, y0 = box[:, 0], box[:, 1]
    x1, y1 = box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]
    crowd_t = torch.as_tensor(gt_crowd, dtype=torch.bool, device=device)

    def bound(det: "torch.Tensor", gt: "torch.Tensor") -> "torch.Tensor":
        g = gt + n_dt
        ow = (torch.minimum(x1[det], x1[g]) - torch.maximum(x0[det], x0[g])).clamp(min=0)
        oh = (torch.minimum(y1[det], y1[g]) - torch.maximum(y0[det], y0[g])).clamp(min=0)
        da, ga = area[det], area[g]
        num = torch.minimum(torch.minimum(da, ga).to(torch.float64), ow * oh)
        den = torch.where(crowd_t[gt], da, torch.maximum(da, ga)).clamp(min=1).to(torch.float64)
        return num / den

    live = candidate_pairs(groups, bound, t_min, device)
    ious, decoded, totals = [], [], []
    for lo, hi in _chunks_by_chars(live, catalog, n_dt, max_chars):
        det, gt = live.det[lo:hi], live.gt[lo:hi]
        masks = torch.unique(torch.cat([det, gt + n_dt])).cpu().numpy()
        runs = masks_to_runs(catalog.counts(masks))
        table = RunTable(runs.start, runs.length, runs.prefix, runs.offsets, runs.area, device)
        local = torch.full((len(catalog.strings),), -1, dtype=torch.int64, device=device)
        local[torch.as_tensor(masks, device=device)] = torch.arange(masks.size, device=device)
        ious.append(mask_iou_pairs(table, local[det], local[gt + n_dt], crowd_t[gt]))
        decoded.append(masks)
        totals.append(runs.total)
    iou = torch.cat(ious) if ious else live.iou
    keep = iou >= t_min
    checked = (np.concatenate(decoded), np.concatenate(totals)) if decoded else (np.zeros(0, np.int64),) * 2
    return Candidates(live.det[keep], live.gt[keep], iou[keep]), checked


def _chunks_by_chars(live: Candidates, catalog, n_dt: int, max_chars: int):
    """Split the live pairs into ranges whose masks' RLE strings total about ``max_chars`` characters, so
    decoded runs stay bounded in memory (a GT shared by two ranges is decoded twice)."""
    import torch

    n = live.det.numel()
    if n == 0:
        return
    lengths = torch.as_tensor(catalog.string_lengths, dtype=torch.int64, device=live.det.device)
    cost = torch.cumsum(lengths[live.det] + lengths[live.gt + n_dt], 0).cpu().numpy()
    lo = 0
    while lo < n:
        base = cost[lo - 1] if lo else 0
        hi = min(max(int(np.searchsorted(cost, base + max_chars, side="right")), lo + 1), n)
        yield lo, hi
        lo = hi
