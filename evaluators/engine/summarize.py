"""Reduce pycocotools' precision/recall arrays to single numbers, exactly as ``COCOeval._summarize``.

The mean is numpy's own over ``s[s > -1]`` in the same memory order, so the float sum is the reference's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class StatSpec:
    """One summary number: AP (precision) or AR (recall) at an IoU (None = all), an area label and maxDets."""

    key: str
    ap: bool
    iou: Optional[float]
    area: str
    max_dets: int


def summarize(precision: np.ndarray, recall: np.ndarray, iou_thrs: Sequence[float], area_labels: Sequence[str],
              max_dets: Sequence[int], spec: StatSpec, k: Optional[int] = None) -> float:
    """The value pycocotools prints for ``spec`` (-1.0 when undefined); ``k`` restricts to one category slot."""
    aind = [i for i, lbl in enumerate(area_labels) if lbl == spec.area]
    mind = [i for i, m in enumerate(max_dets) if m == spec.max_dets]
    s = select(precision if spec.ap else recall, spec.ap, spec.iou, iou_thrs, k)
    return mean_defined(s[:, :, :, aind, mind] if spec.ap else s[:, :, aind, mind])


def select(s: np.ndarray, ap: bool, iou: Optional[float], iou_thrs: Sequence[float], k: Optional[int]) -> np.ndarray:
    """The reference's first two cuts of a precision (T,R,K,...) or recall (T,K,...) array: one category
    slot (for per-class tables) and the IoU threshold equal to ``iou`` (all when None)."""
    if k is not None:  # slice the category first: the IoU selection below copies
        s = s[:, :, k:k + 1] if ap else s[:, k:k + 1]
    if iou is not None:
        s = s[np.where(iou == np.asarray(iou_thrs))[0]]
    return s


def mean_defined(s: np.ndarray) -> float:
    """numpy's mean over the defined cells (> -1), -1.0 when there are none: the references' reduction."""
    valid = s[s > -1]
    return -1.0 if valid.size == 0 else float(np.mean(valid))


def summary_line(spec: StatSpec, value: float, iou_thrs: Sequence[float]) -> str:
    """One line of pycocotools' printed block."""
    title = "Average Precision" if spec.ap else "Average Recall"
    kind = "(AP)" if spec.ap else "(AR)"
    iou = f"{iou_thrs[0]:0.2f}:{iou_thrs[-1]:0.2f}" if spec.iou is None else f"{spec.iou:0.2f}"
    return f" {title:<18} {kind} @[ IoU={iou:<9} | area={spec.area:>6s} | maxDets={spec.max_dets:>3d} ] = {value:0.3f}"
