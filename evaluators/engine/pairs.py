"""Candidate (detection, ground truth) pairs: same group, IoU at or above the lowest threshold.

Only these pairs can ever match, so the matching engine sees nothing else. IoUs are computed for all
same-group pairs in bounded chunks and filtered right away, which keeps memory flat on dense inputs
(1,000 proposals per image).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .grouping import Groups, pair_chunks

IouFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Candidates:
    """Pairs sorted by detection (kept order): ``det`` and ``gt`` index ``Groups``' arrays."""

    det: torch.Tensor
    gt: torch.Tensor
    iou: torch.Tensor


def lowest_threshold(iou_thrs) -> float:
    """The smallest effective threshold: pycocotools matches at IoU >= min(t, 1 - 1e-10)."""
    return float(min(min(t, 1 - 1e-10) for t in iou_thrs))


def candidate_pairs(groups: Groups, iou_fn: IouFn, t_min: float, device: torch.device) -> Candidates:
    """All same-group pairs with ``iou_fn(det, gt) >= t_min``."""
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


def box_iou_fn(dt_boxes: np.ndarray, gt_boxes: np.ndarray, gt_crowd: np.ndarray, device: torch.device) -> IouFn:
    """IoU function over kept-detection and evaluated-GT indices for box evaluation."""
    from ..kernels.box_iou import Boxes, box_iou_pairs

    d = Boxes.from_xywh(torch.as_tensor(dt_boxes, dtype=torch.float64, device=device))
    g = Boxes.from_xywh(torch.as_tensor(gt_boxes, dtype=torch.float64, device=device))
    c = torch.as_tensor(gt_crowd, dtype=torch.bool, device=device)
    return lambda det, gt: box_iou_pairs(d, g, det, gt, c[gt])


def mask_iou_fn(table, n_dt: int, boxes: torch.Tensor, gt_crowd: np.ndarray, t_min: float, device: torch.device) -> IouFn:
    """IoU function for masks; detections are masks ``0..n_dt-1`` of ``table``, GTs follow.

    Pairs whose IoU cannot reach ``t_min`` (by areas and pixel boxes) are answered 0 without counting
    pixels: i <= min(area_d, area_g, box overlap) and u >= max(area_d, area_g) (u = area_d for crowd), and
    rounding is monotonic, so the bound computed in float64 is never below the exact IoU.
    """
    from ..kernels.mask_iou import mask_iou_pairs

    c = torch.as_tensor(gt_crowd, dtype=torch.bool, device=device)

    def fn(det: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        g = gt + n_dt
        crowd = c[gt]
        da, ga = table.area[det], table.area[g]
        bd, bg = boxes[det], boxes[g]
        ow = (torch.minimum(bd[:, 2], bg[:, 2]) - torch.maximum(bd[:, 0], bg[:, 0]) + 1).clamp(min=0)
        oh = (torch.minimum(bd[:, 3], bg[:, 3]) - torch.maximum(bd[:, 1], bg[:, 1]) + 1).clamp(min=0)
        num = torch.minimum(torch.minimum(da, ga), ow * oh)
        den = torch.where(crowd, da, torch.maximum(da, ga)).clamp(min=1)
        bound = num.to(torch.float64) / den.to(torch.float64)
        out = torch.zeros(det.numel(), dtype=torch.float64, device=det.device)
        live = torch.nonzero(bound >= t_min).flatten() if t_min > 0 else torch.arange(det.numel(), device=det.device)
        if live.numel():
            out[live] = mask_iou_pairs(table, det[live], g[live], crowd[live])
        return out

    return fn
