"""Box IoU for given (detection, ground-truth) pairs, in float64 and in pycocotools' order of operations.

pycocotools (``maskApi.c: bbIou``) computes, for xywh boxes::

    w = min(dw + dx, gw + gx) - max(dx, gx);  if w <= 0: 0
    h = min(dh + dy, gh + gy) - max(dy, gy);  if h <= 0: 0
    i = w * h;  u = crowd ? dw * dh : (dw * dh + gw * gh) - i;  iou = i / u

Every step here is the same IEEE operation on the same operands, so the results are bit-identical. The
per-box terms (right edge, bottom edge, area) are computed once per box, then gathered per pair.

The PASCAL VOC devkit (``voc_eval``, and the DOTA devkit's copy of it) works on 1-based inclusive corners
and adds 1 to every width and height::

    iw = max(min(gx2, dx2) - max(gx1, dx1) + 1, 0);  ih = max(min(gy2, dy2) - max(gy1, dy1) + 1, 0)
    i = iw * ih;  u = ((dx2 - dx1 + 1) * (dy2 - dy1 + 1) + (gx2 - gx1 + 1) * (gy2 - gy1 + 1)) - i;  iou = i / u

:func:`voc_iou_pairs` repeats exactly these operations (bit-identical), on :class:`CornerBoxes`.
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


@dataclass
class CornerBoxes:
    """Devkit corners (1-based, inclusive) and the devkit's per-box area ``(x2 - x1 + 1) * (y2 - y1 + 1)``."""

    x1: torch.Tensor
    y1: torch.Tensor
    x2: torch.Tensor
    y2: torch.Tensor
    area: torch.Tensor

    @classmethod
    def from_corners(cls, corners: torch.Tensor) -> "CornerBoxes":
        """Split an (N, 4) ``[xmin, ymin, xmax, ymax]`` tensor (float64)."""
        x1, y1, x2, y2 = (c.contiguous() for c in corners.to(torch.float64).unbind(1))
        return cls(x1, y1, x2, y2, (x2 - x1 + 1.0) * (y2 - y1 + 1.0))


def voc_iou_pairs(dt: CornerBoxes, gt: CornerBoxes, di: torch.Tensor, gi: torch.Tensor) -> torch.Tensor:
    """The devkit's IoU of ``dt[di[i]]`` with ``gt[gi[i]]`` (NaN where both areas are 0, as numpy's 0/0)."""
    iw = (torch.minimum(gt.x2[gi], dt.x2[di]) - torch.maximum(gt.x1[gi], dt.x1[di]) + 1.0).clamp(min=0.0)
    ih = (torch.minimum(gt.y2[gi], dt.y2[di]) - torch.maximum(gt.y1[gi], dt.y1[di]) + 1.0).clamp(min=0.0)
    inter = iw * ih
    return inter / ((dt.area[di] + gt.area[gi]) - inter)
