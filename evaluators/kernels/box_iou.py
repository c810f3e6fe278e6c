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
from typing import Any

from .arrays import ops_of, quiet

Array = Any  # a numpy array or a torch tensor: the kernels follow the type they are given


def _columns(boxes: Array):
    """The 4 columns of an (N, 4) array as contiguous float64 arrays."""
    xp = ops_of(boxes)
    boxes = xp.astype(boxes, xp.float64)
    return [xp.copy(boxes[:, k]) for k in range(4)]


@dataclass
class Boxes:
    """xywh boxes split into the per-box terms bbIou uses, as contiguous float64 columns."""

    x: Array
    y: Array
    right: Array  # w + x
    bottom: Array  # h + y
    area: Array  # w * h

    @classmethod
    def from_xywh(cls, xywh: Array) -> "Boxes":
        """Split an (N, 4) float64 xywh array."""
        x, y, w, h = _columns(xywh)
        return cls(x, y, w + x, h + y, w * h)


def box_iou_pairs(dt: Boxes, gt: Boxes, di: Array, gi: Array, crowd: Array) -> Array:
    """IoU of ``dt[di[i]]`` with ``gt[gi[i]]``; where ``crowd[i]`` the union is the detection's area."""
    xp = ops_of(dt.x)
    w = xp.minimum(dt.right[di], gt.right[gi]) - xp.maximum(dt.x[di], gt.x[gi])
    h = xp.minimum(dt.bottom[di], gt.bottom[gi]) - xp.maximum(dt.y[di], gt.y[gi])
    inter = w * h
    da = dt.area[di]
    union = xp.where(crowd, da, (da + gt.area[gi]) - inter)
    with quiet(xp):
        iou = inter / union
    return xp.where((w > 0) & (h > 0), iou, 0.0)


@dataclass
class CornerBoxes:
    """Devkit corners (1-based, inclusive) and the devkit's per-box area ``(x2 - x1 + 1) * (y2 - y1 + 1)``."""

    x1: Array
    y1: Array
    x2: Array
    y2: Array
    area: Array

    @classmethod
    def from_corners(cls, corners: Array) -> "CornerBoxes":
        """Split an (N, 4) ``[xmin, ymin, xmax, ymax]`` array (float64)."""
        x1, y1, x2, y2 = _columns(corners)
        return cls(x1, y1, x2, y2, (x2 - x1 + 1.0) * (y2 - y1 + 1.0))


def voc_iou_pairs(dt: CornerBoxes, gt: CornerBoxes, di: Array, gi: Array) -> Array:
    """The devkit's IoU of ``dt[di[i]]`` with ``gt[gi[i]]`` (NaN where both areas are 0, as numpy's 0/0)."""
    xp = ops_of(dt.x1)
    iw = xp.clamp(xp.minimum(gt.x2[gi], dt.x2[di]) - xp.maximum(gt.x1[gi], dt.x1[di]) + 1.0, lo=0.0)
    ih = xp.clamp(xp.minimum(gt.y2[gi], dt.y2[di]) - xp.maximum(gt.y1[gi], dt.y1[di]) + 1.0, lo=0.0)
    inter = iw * ih
    with quiet(xp):
        return inter / ((dt.area[di] + gt.area[gi]) - inter)
