"""Ground truth in columns: images, categories and annotations of a COCO-style dataset."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Mapping, Union

import numpy as np

from ..errors import InputFileError, RecordError
from .columns import box_column, check_finite, check_nonnegative_size, column
from .jsonio import PathLike, load_json


@dataclass
class GroundTruth:
    """A COCO-style ground truth as arrays (annotations in file order).

    ``dataset`` keeps the parsed dict: masks are decoded from it only when segm evaluation asks.
    """

    source: str
    dataset: Mapping[str, Any]
    img_ids: np.ndarray
    img_heights: np.ndarray
    img_widths: np.ndarray
    cat_ids: np.ndarray
    cat_names: List[str]
    ann_ids: np.ndarray
    ann_img: np.ndarray
    ann_cat: np.ndarray
    ann_bbox: np.ndarray
    ann_area: np.ndarray
    ann_crowd: np.ndarray

    @property
    def annotations(self) -> List[dict]:
        """The raw annotation records, in file order."""
        return self.dataset["annotations"]

    def image_rows(self, img_ids: np.ndarray) -> np.ndarray:
        """Row of each image id in ``self.img_ids`` (ids must exist)."""
        order = np.argsort(self.img_ids, kind="stable")
        return order[np.searchsorted(self.img_ids, img_ids, sorter=order)]


def load_ground_truth(gt: Union[PathLike, Mapping[str, Any]]) -> GroundTruth:
    """Load and validate a COCO-style ground truth from a path or an already-parsed dict."""
    if isinstance(gt, Mapping):
        source, dataset = "ground truth (dict)", gt
    else:
        source, dataset = f"ground truth {Path(gt)}", load_json(gt, "ground truth")
        if not isinstance(dataset, dict):
            raise InputFileError(gt, "ground truth must be a JSON object with 'images', 'annotations' and 'categories'",
                                 fix="pass the instances_*.json annotation file, not a results file.")
    for key in ("images", "annotations", "categories"):
        if not isinstance(dataset.get(key), list):
            raise InputFileError(source, f"has no {key!r} list",
                                 fix="pass a COCO-style annotation file (images, annotations, categories).")
    return _columns(source, dataset)


def _columns(source: str, dataset: Mapping[str, Any]) -> GroundTruth:
    images, anns, cats = dataset["images"], dataset["annotations"], dataset["categories"]
    img_src, ann_src, cat_src = f"{source} 'images'", f"{source} 'annotations'", f"{source} 'categories'"
    img_ids = column(images, "id", np.int64, img_src)
    _check_unique(img_ids, images, img_src, "image id")
    cat_ids = column(cats, "id", np.int64, cat_src)
    _check_unique(cat_ids, cats, cat_src, "category id")
    ann_ids = column(anns, "id", np.int64, ann_src, fix="give every annotation a unique integer 'id'.")
    _check_unique(ann_ids, anns, ann_src, "annotation id")
    ann_img = column(anns, "image_id", np.int64, ann_src)
    _check_known(ann_img, img_ids, anns, ann_src, "image_id", "'images'")
    ann_cat = column(anns, "category_id", np.int64, ann_src)
    _check_known(ann_cat, cat_ids, anns, ann_src, "category_id", "'categories'")
    area = column(anns, "area", np.float64, ann_src,
                  fix="add 'area' to every annotation (the mask area, or w*h for box-only data); pycocotools needs it too.")
    check_finite(area, anns, "'area'", ann_src, fix="write a finite 'area'.")
    crowd = _crowd_column(anns, ann_src)
    has_boxes = all("bbox" in a for a in anns)
    bbox = box_column(anns, "bbox", ann_src) if has_boxes else np.full((len(anns), 4), np.nan)
    if has_boxes:
        check_finite(bbox, anns, "'bbox'", ann_src, fix="write finite box coordinates.")
        check_nonnegative_size(bbox, anns, ann_src)
    return GroundTruth(
        source=source, dataset=dataset, img_ids=img_ids,
        img_heights=column(images, "height", np.int64, img_src, default=0),
        img_widths=column(images, "width", np.int64, img_src, default=0),
        cat_ids=cat_ids, cat_names=[str(c.get("name", c.get("id"))) for c in cats],
        ann_ids=ann_ids, ann_img=ann_img, ann_cat=ann_cat, ann_bbox=bbox, ann_area=area, ann_crowd=crowd,
    )


def _crowd_column(anns: List[dict], source: str) -> np.ndarray:
    return column(anns, "iscrowd", np.int64, source, default=0) != 0


def warn_missing_iscrowd(gt: GroundTruth) -> None:
    """COCO reads ``iscrowd``; say so when some annotations lack it (they count as 0)."""
    missing = sum(1 for a in gt.annotations if "iscrowd" not in a)
    if missing:
        print(f"warning: {gt.source}: {missing} annotation(s) have no 'iscrowd'; treating them as iscrowd=0.",
              file=sys.stderr)


def _check_unique(ids: np.ndarray, records: List[dict], source: str, what: str) -> None:
    if ids.size == 0:
        return
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if dup.size:
        i = int(order[dup[0] + 1])
        raise RecordError(source, i, records[i], f"repeats {what} {int(ids[i])} ({dup.size} repeat(s) in all)",
                          fix=f"make every {what} unique; pycocotools silently keeps only the last one.")


def _check_known(values: np.ndarray, known: np.ndarray, records: List[dict], source: str, key: str, where: str) -> None:
    bad = ~np.isin(values, known)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RecordError(source, i, records[i], f"{key} {int(values[i])} is not listed in {where} "
                          f"({int(bad.sum())} annotation(s) in all)", fix=f"add the missing entries to {where} or drop those annotations.")
