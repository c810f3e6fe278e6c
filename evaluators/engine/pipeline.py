"""The engine end to end: groups -> candidate pairs with IoU -> greedy matching -> accumulated arrays."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np
import torch

from ..data.ground_truth import GroundTruth
from ..data.masks import MaskCatalog, segmentation_catalog
from ..data.predictions import Predictions
from ..errors import RecordError
from ..params import EvalParams
from .accumulate import Accumulated, accumulate
from .grouping import Groups, build_groups
from .matching import match
from .pairs import box_iou_fn, candidate_pairs, lowest_threshold, mask_candidates


@dataclass
class RecordRules:
    """What a protocol decides about single records; the engine applies it. ``None`` means COCO's rule.

    gt_mask / dt_mask: rows that take part at all. gt_crowd: IoU over the detection's area and
    re-matchable (COCO: ``iscrowd``). gt_ignore: ignored GT (COCO: ``iscrowd`` too, as pycocotools
    overwrites ``ignore``). dt_ignore_unmatched: detections ignored whenever they match nothing.
    """

    gt_mask: Optional[np.ndarray] = None
    dt_mask: Optional[np.ndarray] = None
    gt_crowd: Optional[np.ndarray] = None
    gt_ignore: Optional[np.ndarray] = None
    dt_ignore_unmatched: Optional[np.ndarray] = None


@dataclass
class EngineOutput:
    """Accumulated arrays plus what the per-class table and the report need."""

    acc: Accumulated
    groups: Groups
    n_gt: np.ndarray  # per slot: evaluated non-crowd GT count
    n_dt: np.ndarray  # per slot: evaluated detections (before the max_dets cut)
    timings: Dict[str, float] = field(default_factory=dict)


def run_engine(gt: GroundTruth, dt: Predictions, params: EvalParams, device: torch.device, log=None,
               progress: bool = False, rules: Optional[RecordRules] = None) -> EngineOutput:
    """Evaluate ``dt`` against ``gt`` under ``params`` (and a protocol's ``rules``) on ``device``."""
    timings: Dict[str, float] = {}
    clock = _Clock(timings, log)
    rules = rules or RecordRules()
    groups = build_groups(gt, dt, params, rules.gt_mask, rules.dt_mask)
    crowd_all = gt.ann_crowd if rules.gt_crowd is None else rules.gt_crowd
    crowd = crowd_all[groups.gt_row]
    ignore = (crowd_all if rules.gt_ignore is None else rules.gt_ignore)[groups.gt_row]
    clock.lap("group")
    t_min = lowest_threshold(params.iou_thrs)
    if params.iou_type == "segm":
        catalog = _mask_catalog(gt, dt, groups)
        cands, (decoded, totals) = mask_candidates(groups, catalog, groups.dt_row.size, crowd, t_min, device)
        _check_totals(gt, dt, groups, catalog, decoded, totals)
    else:
        cands = candidate_pairs(groups, _box_iou(gt, dt, groups, crowd, device), t_min, device)
    clock.lap("iou")
    as_t = lambda a, dtype=None: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    det_area = dt.area[groups.dt_row]  # loadRes' area: w*h for box results, the mask area for mask results
    matches = match(
        cands, groups.dt_row.size, as_t(groups.dt_group), as_t(det_area, torch.float64),
        as_t(gt.ann_area[groups.gt_row], torch.float64), as_t(crowd),
        as_t(gt.ann_ids[groups.gt_row]), as_t(groups.gt_pos), params.iou_thrs, params.area_ranges,
        progress=progress, gt_ignore=as_t(ignore),
        dt_ignore_unmatched=None if rules.dt_ignore_unmatched is None else as_t(rules.dt_ignore_unmatched[groups.dt_row]),
    )
    clock.lap("match")
    npig = _npig(gt, groups, params, ignore)
    acc = accumulate(matches, as_t(groups.dt_slot), as_t(groups.dt_img), as_t(groups.dt_rank),
                     as_t(groups.dt_score, torch.float64), as_t(npig), groups.n_slots, params.max_dets, params.rec_thrs)
    clock.lap("accumulate")
    n_gt = np.bincount(groups.gt_slot[~ignore], minlength=groups.n_slots)
    evaluated = np.isin(dt.cat, groups.cat_ids) & np.isin(dt.img, groups.img_ids)
    if rules.dt_mask is not None:
        evaluated &= rules.dt_mask
    d_slot = np.searchsorted(groups.cat_ids, dt.cat[evaluated]) if params.use_cats else np.zeros(int(evaluated.sum()), np.int64)
    n_dt = np.bincount(d_slot, minlength=groups.n_slots)
    return EngineOutput(acc, groups, n_gt, n_dt, timings)


def _npig(gt: GroundTruth, groups: Groups, params: EvalParams, ignore: np.ndarray) -> np.ndarray:
    """Per (slot, area range): ground truths that are neither ignored nor outside the range."""
    area = gt.ann_area[groups.gt_row]
    out = np.zeros((groups.n_slots, len(params.area_ranges)), np.int64)
    for a, (lo, hi) in enumerate(params.area_ranges):
        regular = ~ignore & (area >= lo) & (area <= hi)
        out[:, a] = np.bincount(groups.gt_slot[regular], minlength=groups.n_slots)
    return out


def _box_iou(gt: GroundTruth, dt: Predictions, groups: Groups, crowd: np.ndarray, device: torch.device):
    boxes = gt.ann_bbox[groups.gt_row]
    if np.isnan(boxes).any():
        i = int(groups.gt_row[np.flatnonzero(np.isnan(boxes).any(1))[0]])
        raise RecordError(f"{gt.source} 'annotations'", i, gt.annotations[i], "has no 'bbox'",
                          fix="give every annotation a 'bbox' [x, y, w, h] for box evaluation.")
    return box_iou_fn(dt.bbox[groups.dt_row], boxes, crowd, device)


def _mask_catalog(gt: GroundTruth, dt: Predictions, groups: Groups) -> MaskCatalog:
    """Masks of the kept detections followed by those of the evaluated GTs."""
    d_img = gt.image_rows(dt.img[groups.dt_row])
    g_img = gt.image_rows(gt.ann_img[groups.gt_row])
    d = segmentation_catalog(dt.records, groups.dt_row, gt.img_heights[d_img], gt.img_widths[d_img], dt.source,
                             box_fallback=True)
    g = segmentation_catalog(gt.annotations, groups.gt_row, gt.img_heights[g_img], gt.img_widths[g_img],
                             f"{gt.source} 'annotations'")
    return MaskCatalog.concat(d, g)


def _check_totals(gt: GroundTruth, dt: Predictions, groups: Groups, catalog: MaskCatalog, decoded: np.ndarray,
                  totals: np.ndarray) -> None:
    """Decoded masks must cover exactly height*width pixels (a corrupt RLE would silently shift pixels)."""
    pixels = catalog.heights[decoded] * catalog.widths[decoded]
    bad = np.flatnonzero(totals != pixels)
    if bad.size:
        i = int(decoded[bad[0]])
        n_dt = groups.dt_row.size
        source, rows, records = ((dt.source, groups.dt_row, dt.records) if i < n_dt else
                                 (f"{gt.source} 'annotations'", groups.gt_row, gt.annotations))
        row = int(rows[i if i < n_dt else i - n_dt])
        raise RecordError(source, row, records[row], f"RLE counts add up to {int(totals[bad[0]])} pixels, not "
                          f"height*width = {int(pixels[bad[0]])}",
                          fix="re-encode the mask with pycocotools.mask.encode on an array of the image's size.")


class _Clock:
    def __init__(self, timings: Dict[str, float], log) -> None:
        self.timings, self.log, self.t = timings, log, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.t
        self.t = now
        if self.log:
            self.log(f"{name}: {self.timings[name]:.2f}s")
