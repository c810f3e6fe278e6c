"""The engine end to end: groups -> candidate pairs with IoU -> greedy matching -> accumulated arrays."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Dict

import numpy as np
import torch

from ..data.ground_truth import GroundTruth
from ..data.masks import segmentation_counts
from ..data.predictions import Predictions
from ..errors import RecordError
from ..kernels.mask_iou import RunTable
from ..kernels.rle import concat_counts, masks_to_runs, pixel_boxes
from ..params import EvalParams
from .accumulate import Accumulated, accumulate
from .grouping import Groups, build_groups
from .matching import match
from .pairs import box_iou_fn, candidate_pairs, lowest_threshold, mask_iou_fn


@dataclass
class EngineOutput:
    """Accumulated arrays plus what the per-class table and the report need."""

    acc: Accumulated
    groups: Groups
    n_gt: np.ndarray  # per slot: evaluated non-crowd GT count
    n_dt: np.ndarray  # per slot: evaluated detections (before the max_dets cut)
    timings: Dict[str, float] = field(default_factory=dict)


def run_engine(gt: GroundTruth, dt: Predictions, params: EvalParams, device: torch.device, log=None,
               progress: bool = False) -> EngineOutput:
    """Evaluate ``dt`` against ``gt`` under ``params`` on ``device``."""
    timings: Dict[str, float] = {}
    clock = _Clock(timings, log)
    groups = build_groups(gt, dt, params)
    clock.lap("group")
    t_min = lowest_threshold(params.iou_thrs)
    if params.iou_type == "segm":
        iou_fn, mask_area = _mask_iou(gt, dt, groups, t_min, device)
    else:
        iou_fn, mask_area = _box_iou(gt, dt, groups, device), None
    cands = candidate_pairs(groups, iou_fn, t_min, device)
    clock.lap("iou")
    as_t = lambda a, dtype=None: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    # loadRes: a detection's area is w*h of its box when results carry boxes, else its mask area
    det_area = dt.box_area[groups.dt_row] if dt.box_area is not None else mask_area
    matches = match(
        cands, groups.dt_row.size, as_t(groups.dt_group), as_t(det_area, torch.float64),
        as_t(gt.ann_area[groups.gt_row], torch.float64), as_t(gt.ann_crowd[groups.gt_row]),
        as_t(gt.ann_ids[groups.gt_row]), as_t(groups.gt_pos), params.iou_thrs, params.area_ranges,
        progress=progress,
    )
    clock.lap("match")
    npig = _npig(gt, groups, params)
    acc = accumulate(matches, as_t(groups.dt_slot), as_t(groups.dt_img), as_t(groups.dt_rank),
                     as_t(groups.dt_score, torch.float64), as_t(npig), groups.n_slots, params.max_dets, params.rec_thrs)
    clock.lap("accumulate")
    n_gt = np.bincount(groups.gt_slot[~gt.ann_crowd[groups.gt_row]], minlength=groups.n_slots)
    d_slot = np.searchsorted(groups.cat_ids, dt.cat[np.isin(dt.cat, groups.cat_ids) & np.isin(dt.img, groups.img_ids)])
    n_dt = np.bincount(d_slot if params.use_cats else np.zeros_like(d_slot), minlength=groups.n_slots)
    return EngineOutput(acc, groups, n_gt, n_dt, timings)


def _npig(gt: GroundTruth, groups: Groups, params: EvalParams) -> np.ndarray:
    """Per (slot, area range): ground truths that are neither crowd nor outside the range."""
    area = gt.ann_area[groups.gt_row]
    crowd = gt.ann_crowd[groups.gt_row]
    out = np.zeros((groups.n_slots, len(params.area_ranges)), np.int64)
    for a, (lo, hi) in enumerate(params.area_ranges):
        regular = ~crowd & (area >= lo) & (area <= hi)
        out[:, a] = np.bincount(groups.gt_slot[regular], minlength=groups.n_slots)
    return out


def _box_iou(gt: GroundTruth, dt: Predictions, groups: Groups, device: torch.device):
    if dt.bbox is None:
        raise RecordError(dt.source, 0, dt.records[0] if len(dt) else None, "bbox evaluation needs a 'bbox' in every prediction",
                          fix="write boxes [x, y, w, h] with the masks, or evaluate with --metric segm.")
    boxes = gt.ann_bbox[groups.gt_row]
    if np.isnan(boxes).any():
        i = int(groups.gt_row[np.flatnonzero(np.isnan(boxes).any(1))[0]])
        raise RecordError(f"{gt.source} 'annotations'", i, gt.annotations[i], "has no 'bbox'",
                          fix="give every annotation a 'bbox' [x, y, w, h] for box evaluation.")
    return box_iou_fn(dt.bbox[groups.dt_row], boxes, gt.ann_crowd[groups.gt_row], device)


def _masks(gt: GroundTruth, dt: Predictions, groups: Groups):
    """Counts of the kept detections' masks followed by the evaluated GTs' masks."""
    if len(dt) and "segmentation" not in dt.records[0] and dt.bbox is None:
        raise RecordError(dt.source, 0, dt.records[0], "segm evaluation needs 'segmentation' masks")
    d_rows_img = gt.image_rows(dt.img[groups.dt_row])
    g_rows_img = gt.image_rows(gt.ann_img[groups.gt_row])
    d_counts = segmentation_counts(dt.records, groups.dt_row, gt.img_heights[d_rows_img], gt.img_widths[d_rows_img],
                                   dt.source, box_fallback=True)
    g_counts = segmentation_counts(gt.annotations, groups.gt_row, gt.img_heights[g_rows_img], gt.img_widths[g_rows_img],
                                   f"{gt.source} 'annotations'")
    heights = np.concatenate([gt.img_heights[d_rows_img], gt.img_heights[g_rows_img]])
    return concat_counts([d_counts, g_counts]), heights


def _mask_iou(gt: GroundTruth, dt: Predictions, groups: Groups, t_min: float, device: torch.device):
    counts, heights = _masks(gt, dt, groups)
    runs = masks_to_runs(counts)
    x0, y0, x1, y1 = pixel_boxes(runs, np.maximum(heights, 1))
    table = RunTable(runs.start, runs.length, runs.prefix, runs.offsets, runs.area, device)
    boxes = torch.as_tensor(np.stack([x0, y0, x1, y1], 1), dtype=torch.int64, device=device)
    fn = mask_iou_fn(table, groups.dt_row.size, boxes, gt.ann_crowd[groups.gt_row], t_min, device)
    return fn, runs.area[: groups.dt_row.size].astype(np.float64)


class _Clock:
    def __init__(self, timings: Dict[str, float], log) -> None:
        self.timings, self.log, self.t = timings, log, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.t
        self.t = now
        if self.log:
            self.log(f"{name}: {self.timings[name]:.2f}s")
