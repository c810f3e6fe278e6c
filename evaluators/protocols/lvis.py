"""The LVIS protocol (lvis-api 0.5.3 ``LVISEval``), stated as rules for the shared engine.

* Results are cut to the ``max_dets`` (300) highest-scoring per image when loaded (stable: ties keep file
  order); there is no per-category cut afterwards.
* Records with ``area`` not strictly between 0 and infinity are not evaluated (lvis-api's id lookup
  filters on ``0 < area < inf``), ground truth and results alike.
* Federated labels: a detection is evaluated only if its category is annotated in the image or listed in
  the image's ``neg_category_ids``; an unmatched detection of a category in ``not_exhaustive_category_ids``
  is ignored.
* No crowd handling: ``iscrowd`` is not read; a GT's own ``ignore`` field (default 0) is.
* Stats: AP, AP50, AP75, APs/m/l, APr/c/f (category frequency groups), AR@300 and ARs/m/l@300.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence

import numpy as np

from ..data.ground_truth import GroundTruth
from ..data.predictions import Predictions, load_predictions
from ..engine.pipeline import RecordRules
from ..engine.summarize import mean_defined, select
from ..errors import InputFileError
from ..kernels.stable_sort import stable_argsort_descending, stable_argsort_int

FREQUENCIES = ("r", "c", "f")


def is_lvis(dataset: Mapping[str, Any]) -> bool:
    """An LVIS annotation file: categories carry ``frequency`` and images carry federated label lists."""
    cats, imgs = dataset.get("categories") or [], dataset.get("images") or []
    return bool(cats) and all("frequency" in c for c in cats) and any(
        "neg_category_ids" in i or "not_exhaustive_category_ids" in i for i in imgs)


def record_rules(gt: GroundTruth, dt: Predictions, max_dets: int) -> RecordRules:
    """The LVIS rules above as masks and flags over the GT and prediction rows."""
    n_cat = gt.cat_ids.size
    img_sorter, cat_sorter = np.argsort(gt.img_ids), np.argsort(gt.cat_ids)
    row = lambda ids, table, sorter: sorter[np.searchsorted(table, ids, sorter=sorter)]  # noqa: E731
    gt_key = row(gt.ann_img, gt.img_ids, img_sorter) * n_cat + row(gt.ann_cat, gt.cat_ids, cat_sorter)
    dt_key = row(dt.img, gt.img_ids, img_sorter) * n_cat + row(dt.cat, gt.cat_ids, cat_sorter)
    gt_mask = (gt.ann_area > 0) & (gt.ann_area < np.inf)
    neg = _image_list_keys(gt, "neg_category_ids", cat_sorter, n_cat)
    not_exhaustive = _image_list_keys(gt, "not_exhaustive_category_ids", cat_sorter, n_cat)
    dt_mask = (top_per_image(dt, max_dets) & (dt.area > 0) & (dt.area < np.inf)
               & (np.isin(dt_key, gt_key[gt_mask]) | np.isin(dt_key, neg)))
    ignore = np.array([bool(a.get("ignore", 0)) for a in gt.annotations], dtype=bool)
    return RecordRules(gt_mask=gt_mask, dt_mask=dt_mask, gt_crowd=np.zeros(gt.ann_ids.size, bool), gt_ignore=ignore,
                       dt_ignore_unmatched=np.isin(dt_key, not_exhaustive))


def reload_as_lvis_results(preds: Any, dets: Predictions, gt: GroundTruth, max_dets: int) -> Predictions:
    """Read boxes or masks the way LVISResults does: only for results that survive the per-image cut,
    and box or mask as the first result *after* the cut says. ``dets`` was loaded with ``mode="defer"``."""
    if not len(dets):
        return dets
    kept = top_per_image(dets, max_dets)
    mode = "box" if "bbox" in dets.records[deciding_record(dets, max_dets)] else "mask"
    source = preds if isinstance(preds, np.ndarray) else dets.records
    return load_predictions(source, gt, mode=mode, only=kept, source=dets.source)


def deciding_record(dt: Predictions, max_dets: int) -> int:
    """The record whose keys decide box or mask results in lvis-api: the first one *after* its per-image
    cut, which groups results by image (first-seen order) and sorts an image over the cap by score."""
    first_img = dt.img[0]
    rows = np.flatnonzero(dt.img == first_img)
    if max_dets < 0 or rows.size <= max_dets:
        return 0
    return int(rows[np.argsort(-dt.score[rows], kind="stable")[0]])


def frequency_groups(gt: GroundTruth, cat_ids: np.ndarray) -> List[List[int]]:
    """Category slots of each frequency group r, c, f (lvis-api's ``freq_groups``)."""
    by_id = {int(c["id"]): c for c in gt.dataset["categories"]}
    groups: List[List[int]] = [[] for _ in FREQUENCIES]
    for k, cid in enumerate(cat_ids.tolist()):
        freq = by_id[cid].get("frequency")
        if freq not in FREQUENCIES:
            raise InputFileError(gt.source, f"category {cid} has frequency {freq!r}, not one of r, c, f",
                                 fix="use the LVIS annotation file as released (every category has a frequency).")
        groups[FREQUENCIES.index(freq)].append(k)
    return groups


@dataclass(frozen=True)
class LvisStat:
    """One LVIS summary number."""

    key: str
    ap: bool
    iou: Optional[float]
    area: str
    freq: Optional[int]


def stat_specs(max_dets: int) -> List[LvisStat]:
    """lvis-api's ``results`` keys, in order."""
    ap = [LvisStat("AP", True, None, "all", None), LvisStat("AP50", True, 0.5, "all", None),
          LvisStat("AP75", True, 0.75, "all", None), LvisStat("APs", True, None, "small", None),
          LvisStat("APm", True, None, "medium", None), LvisStat("APl", True, None, "large", None),
          LvisStat("APr", True, None, "all", 0), LvisStat("APc", True, None, "all", 1),
          LvisStat("APf", True, None, "all", 2)]
    ar = [LvisStat(f"AR{a}@{max_dets}", False, None, area, None)
          for a, area in (("", "all"), ("s", "small"), ("m", "medium"), ("l", "large"))]
    return ap + ar


def summarize(precision: np.ndarray, recall: np.ndarray, iou_thrs: Sequence[float], area_labels: Sequence[str],
              freq_groups: List[List[int]], spec: LvisStat, k: Optional[int] = None) -> float:
    """lvis-api's ``_summarize`` on precision (T,R,K,A) / recall (T,K,A); ``k`` restricts to one slot."""
    aidx = [i for i, lbl in enumerate(area_labels) if lbl == spec.area]
    s = select(precision if spec.ap else recall, spec.ap, spec.iou, iou_thrs, k)
    if spec.ap:
        return mean_defined(s[:, :, freq_groups[spec.freq], aidx] if spec.freq is not None else s[:, :, :, aidx])
    return mean_defined(s[:, :, aidx])


def summary_line(spec: LvisStat, value: float, iou_thrs: Sequence[float], max_dets: int) -> str:
    """One line of lvis-api's ``print_results``."""
    title, kind = ("Average Precision", "(AP)") if spec.ap else ("Average Recall", "(AR)")
    iou = f"{iou_thrs[0]:0.2f}:{iou_thrs[-1]:0.2f}" if spec.iou is None else f"{spec.iou:0.2f}"
    area = "all" if spec.area == "all" else spec.area[0]
    group = "all" if spec.freq is None else FREQUENCIES[spec.freq]
    return f" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6s} | maxDets={max_dets:>3d} catIds={group:>3s}] = {value:0.3f}"


def top_per_image(dt: Predictions, max_dets: int) -> np.ndarray:
    """LVISResults.limit_dets_per_image: mask of the ``max_dets`` best scores of each image (stable)."""
    if max_dets < 0 or len(dt) == 0:
        return np.ones(len(dt), bool)
    order = stable_argsort_descending(dt.score)
    order = order[stable_argsort_int(dt.img[order])]
    img_sorted = dt.img[order]
    first = np.searchsorted(img_sorted, img_sorted, side="left")
    keep = np.zeros(len(dt), bool)
    keep[order] = (np.arange(order.size) - first) < max_dets
    return keep


def _image_list_keys(gt: GroundTruth, field: str, cat_sorter: np.ndarray, n_cat: int) -> np.ndarray:
    """(image row, category row) keys of an image-level category list such as ``neg_category_ids``."""
    lists = [img.get(field) or [] for img in gt.dataset["images"]]
    counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    cats = np.fromiter((c for x in lists for c in x), dtype=np.int64, count=int(counts.sum()))
    known = np.isin(cats, gt.cat_ids)
    rows = np.repeat(np.arange(len(lists)), counts)[known]
    cat_rows = cat_sorter[np.searchsorted(gt.cat_ids, cats[known], sorter=cat_sorter)]
    return rows * n_cat + cat_rows
