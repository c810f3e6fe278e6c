"""Predictions (COCO results format) in columns, with pycocotools ``loadRes`` semantics.

As ``loadRes``: one record decides the kind (the first; LVIS picks another, see ``protocols.lvis``). If it
has a non-empty ``bbox``, every record is a box result and its ``area`` is ``w * h`` (also for segm
evaluation, where ``segmentation`` is then used for the IoU); otherwise records are mask results, ``area``
is the mask area and a missing ``bbox`` is the mask's box. Records keep their file order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from ..errors import InputFileError, RecordError, UnknownIdError
from .columns import box_column, check_finite, check_nonnegative_size, column
from .ground_truth import GroundTruth
from .jsonio import PathLike, load_json

PredsLike = Union[PathLike, Sequence[dict], np.ndarray]


@dataclass
class Predictions:
    """Detections as arrays in file order; ``records`` keeps the raw dicts (masks are decoded lazily)."""

    source: str
    records: Sequence[dict]
    img: np.ndarray
    cat: np.ndarray
    score: np.ndarray
    bbox: Optional[np.ndarray]  # (N, 4) xywh
    area: np.ndarray  # loadRes' area: w * h of the box (box results) or the mask area (mask results)
    mode: str = "box"

    def __len__(self) -> int:
        return int(self.img.size)


def load_predictions(preds: PredsLike, gt: GroundTruth, *, check_categories: bool = True,
                     mode: Optional[str] = None, only: Optional[np.ndarray] = None,
                     source: Optional[str] = None) -> Predictions:
    """Load predictions from a path, a list of dicts or an (N, 7) array and check them against ``gt``.

    ``mode`` (``box`` or ``mask``) overrides the kind the first record decides; ``defer`` reads ids and
    scores only. ``only`` (a boolean mask)
    limits box/mask reading to the records a protocol keeps (the others get an empty box and area 0).
    ``source`` names an already-loaded list in messages (its file, say).
    """
    named, records = read_records(preds)
    source = source or named
    if len(records) == 0:
        empty = np.zeros(0, np.int64)
        return Predictions(source, [], empty, empty, np.zeros(0), np.zeros((0, 4)), np.zeros(0))
    if not isinstance(records[0], dict):
        raise RecordError(source, 0, records[0], "is not a JSON object",
                          fix="write predictions as a list of {image_id, category_id, bbox, score} objects.")
    img = column(records, "image_id", np.int64, source)
    cat = column(records, "category_id", np.int64, source)
    score = column(records, "score", np.float64, source, fix="add a 'score' (the detector's confidence) to every prediction.")
    check_finite(score, records, "'score'", source, fix="replace NaN/inf scores (e.g. filter them out before saving).")
    mode = mode or result_kind(records[0], source, 0)
    if mode == "defer":  # ids and scores only: the protocol decides box or mask afterwards
        bbox, area = np.zeros((len(records), 4)), np.zeros(len(records))
    elif mode == "box":
        bbox = box_column(_only(records, only, {"bbox": [0.0, 0.0, 0.0, 0.0]}), "bbox", source)
        check_finite(bbox, records, "'bbox'", source, fix="drop or repair predictions with NaN/inf coordinates.")
        check_nonnegative_size(bbox, records, source)
        area = bbox[:, 2] * bbox[:, 3]
        if isinstance(preds, np.ndarray) and preds.size:
            # loadNumpyAnnotations keeps the array's scalars: w * h is computed in the array's dtype (float32 too)
            area = (preds[:, 3] * preds[:, 4]).astype(np.float64)
    else:
        bbox, area = _mask_boxes_and_areas(records, source, only)
    _check_ids(img, gt.img_ids, source, "image",
               fix="evaluate against the annotation file the predictions were made for, or drop those predictions.")
    if check_categories:
        _check_ids(cat, gt.cat_ids, source, "category",
                   fix="map model labels to the dataset's category ids (COCO's are 1..90 with gaps, not 0..79).")
    return Predictions(source, records, img, cat, score, bbox, area, mode)


def result_kind(record: dict, source: str, index: int) -> str:
    """``box`` if the record has a non-empty ``bbox``, else ``mask`` if it has ``segmentation``."""
    if "bbox" in record and record["bbox"] != []:
        return "box"
    if "segmentation" in record:
        return "mask"
    raise RecordError(source, index, record, "has neither 'bbox' nor 'segmentation'",
                      fix="write COCO results: {image_id, category_id, bbox, score} (+ segmentation for masks).")


def _only(records: Sequence[dict], only: Optional[np.ndarray], stand_in: dict) -> Sequence[dict]:
    """``records`` with the ones outside ``only`` replaced by ``stand_in`` (indices stay those of the file)."""
    if only is None:
        return records
    return [r if keep else stand_in for r, keep in zip(records, only.tolist())]


def _mask_boxes_and_areas(records: Sequence[dict], source: str,
                          only: Optional[np.ndarray] = None) -> "tuple[np.ndarray, np.ndarray]":
    """Mask results: area from the mask, and the record's box or else the mask's (pycocotools' C routines)."""
    from pycocotools import mask as mask_utils

    from .masks import mask_areas

    records = _only(records, only, {"segmentation": {"size": [1, 1], "counts": "1"}, "bbox": [0.0, 0.0, 0.0, 0.0]})
    segs = []
    for i, r in enumerate(records):
        seg = r.get("segmentation") if isinstance(r, dict) else None
        if not (isinstance(seg, dict) and "counts" in seg and "size" in seg and isinstance(seg["counts"], (str, bytes))):
            raise RecordError(source, i, r, "mask results need a compressed RLE 'segmentation' {size, counts}",
                              fix="encode masks with pycocotools.mask.encode and decode 'counts' to str (as loadRes requires).")
        segs.append(seg)
    area = mask_areas(segs).astype(np.float64)
    has_box = np.array(["bbox" in r for r in records])
    bbox = np.zeros((len(records), 4), np.float64)
    if has_box.any():
        idx = np.flatnonzero(has_box)
        bbox[idx] = box_column([records[i] for i in idx], "bbox", source)
    if not has_box.all():
        idx = np.flatnonzero(~has_box)
        bbox[idx] = np.asarray(mask_utils.toBbox([segs[i] for i in idx]), np.float64).reshape(-1, 4)
    return bbox, area


def read_records(preds: PredsLike) -> "tuple[str, Sequence[Any]]":
    if isinstance(preds, np.ndarray):
        return "predictions (array)", _from_array(preds)
    if isinstance(preds, (list, tuple)):
        return "predictions (list)", preds
    path = Path(preds)
    data = load_json(path, "predictions")
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        raise InputFileError(path, "predictions file is a dataset (it has 'annotations'), not a results list",
                             fix="pass the detector's results list ([{image_id, category_id, bbox, score}, ...]).")
    if not isinstance(data, list):
        raise InputFileError(path, "predictions must be a JSON list of results",
                             fix="write [{image_id, category_id, bbox, score}, ...].")
    return f"predictions {path}", data


def _from_array(arr: np.ndarray) -> List[dict]:
    """Rows ``[image_id, x, y, w, h, score, category_id]`` as pycocotools' loadNumpyAnnotations reads them."""
    if arr.ndim != 2 or arr.shape[1] != 7:
        raise RecordError("predictions (array)", 0, arr.shape, "array must have shape (N, 7)",
                          fix="stack rows [image_id, x, y, w, h, score, category_id].")
    return [
        {"image_id": int(r[0]), "bbox": [r[1], r[2], r[3], r[4]], "score": r[5], "category_id": int(r[6])}
        for r in arr.astype(np.float64).tolist()
    ]


def _check_ids(values: np.ndarray, known: np.ndarray, source: str, kind: str, fix: str) -> None:
    bad = ~np.isin(values, known)
    if bad.any():
        unknown = np.unique(values[bad])
        raise UnknownIdError(source, kind, unknown.tolist(), int(bad.sum()), fix=fix)
