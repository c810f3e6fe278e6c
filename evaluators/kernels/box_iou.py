"""Box IoU for given (detection, ground-truth) pairs, in float64 and in pycocotools' order of operations.

pycocotools (``maskApi.c: bbIou``) computes, for xywh boxes::

    w = min(dx + dw, gx + gw) - max(dx, gx);  if w <= 0: 0
    h = min(dy + dh, gy + gh) - max(dy, gy);  if h <= 0: 0
    i = w * h;  u = crowd ? dw * dh : (dw * dh + gw * gh) - i;  iou = i / u

Every step here is the same IEEE operation on the same operands, so the results are bit-identical.
"""
from __future__ import annotations

import torch


def box_iou_pairs(dt: torch.Tensor, gt: torch.Tensor, crowd: torch.Tensor) -> torch.Tensor:
    """IoU of ``dt[i]`` with ``gt[i]`` (both (P, 4) xywh float64); ``crowd[i]`` uses the detection area as union."""
    dx, dy, dw, dh = dt.unbind(1)
    gx, gy, gw, gh = gt.unbind(1)
    w = torch.minimum(dw + dx, gw + gx) - torch.maximum(dx, gx)
    h = torch.minimum(dh + dy, gh + gy) - torch.maximum(dy, gy)
    inter = w * h
    da = dw * dh
    union = torch.where(crowd, da, (da + gw * gh) - inter)
    iou = inter / union
    return torch.where((w > 0) & (h > 0), iou, torch.zeros_like(iou))
