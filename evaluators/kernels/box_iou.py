"""Box IoU for given (detection, ground-truth) pairs, in float64 and in pycocotools' order of operations.

pycocotools (``maskApi.c: bbIou``) computes, for xywh boxes::

    w = min(dw + dx, gw + gx) - max(dx, gx);  if w <= 0: 0
    h = min(dh + dy, gh + gy) - max(dy, gy);  if h <= 0: 0
    i = w * h;  u = crowd ? dw * dh : (dw * dh + gw * gh) - i;  iou = i / u

Every step here is the same IEEE operation on the same operands, so the results are bit-identical. The
per-box terms (right edge, bottom edge, area) are computed once per box, then gathered per pair.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Boxes:
    """xywh boxes split into the per-box terms bbIou uses, as contiguous float64 columns."""

    x: torch.Tensor
    y: torch.Tensor
    right: torch.Tensor  # w + x
    bottom: torch.Tensor  # h + y
    area: torch.Tensor  # w * h

    @classmethod
    def from_xywh(cls, xywh: torch.Tensor) -> "Boxes":
        """Split an (N, 4) float64 xywh tensor."""
        x, y, w, h = (c.contiguous() for c in xywh.to(torch.float64).unbind(1))
        return cls(x, y, w + x, h + y, w * h)


def box_iou_pairs(dt: Boxes, gt: Boxes, di: torch.Tensor, gi: torch.Tensor, crowd: torch.Tensor) -> torch.Tensor:
    """IoU of ``dt[di[i]]`` with ``gt[gi[i]]``; where ``crowd[i]`` the union is the detection's area."""
    w = torch.minimum(dt.right[di], gt.right[gi]) - torch.maximum(dt.x[di], gt.x[gi])
    h = torch.minimum(dt.bottom[di], gt.bottom[gi]) - torch.maximum(dt.y[di], gt.y[gi])
    inter = w * h
    da = dt.area[di]
    union = torch.where(crowd, da, (da + gt.area[gi]) - inter)
    iou = inter / union
    return torch.where((w > 0) & (h > 0), iou, torch.zeros_like(iou))
