"""Oriented ground truth and detections as columns, from DOTA folders or COCO-style JSON.

Ground truth: a ``labelTxt`` folder, or a COCO-style JSON whose annotations hold an 8-number polygon
(``segmentation: [[x1, y1, ..., y4]]`` as DOTA2COCO writes it, or ``poly``) and optionally a
``difficulty``/``difficult`` field. Detections: a folder of ``Task1_<class>.txt`` files, or a COCO-style
results list whose records hold ``poly`` (8 numbers) or ``rbox`` (cx, cy, w, h, angle in radians, with
``angle_version`` oc, le90 or le135) and name their image (``image_id`` of the JSON ground truth, or the
image name in ``image_name``/``file_name``) and class (``category_id`` or ``category``).
Images are indexed 0..n-1 in ground-truth order, classes 0..K-1 in the requested order; rows keep file
order, which decides ties between equal scores.
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .indexed import PositionalIds
from ..errors import DataprepError, InputFileError, RecordError, UnknownIdError
from ..kernels.rbox import VERSIONS, rbox_to_poly
from . import dota
from .jsonio import PathLike, load_json

Log = Optional[Callable[[str], None]]


@dataclass
class RotatedGroundTruth(PositionalIds):
    """Ground-truth polygons of the evaluated images and classes (columns in file order)."""

    source: str
    img_names: List[str]
    class_names: Tuple[str, ...]
    ann_img: np.ndarray
    ann_cat: np.ndarray
    ann_poly: np.ndarray  # (N, 8) float64
    ann_difficulty: np.ndarray  # (N,) int64
    ann_line: np.ndarray  # (N,) line in its image's label file (folder input) or annotation record (JSON)
    json_img_ids: Optional[Dict[int, int]] = None  # COCO image id -> image index (JSON ground truth)
    json_cat_ids: Optional[Dict[int, int]] = None  # COCO category id -> class index
    label_files: Optional[List[str]] = None  # per image, its label file (folder input)

    def where(self, i: int) -> str:
        """The file and line (or record) of object ``i``, for messages."""
        if self.label_files is not None:
            return f"{self.label_files[int(self.ann_img[i])]}, line {int(self.ann_line[i])}"
        return f"{self.source} 'annotations' record #{int(self.ann_line[i])}"

    def subset(self, keep: np.ndarray, polys: np.ndarray) -> "RotatedGroundTruth":
        """The objects where ``keep`` is True, with ``polys`` (all objects) as their polygons."""
        return RotatedGroundTruth(self.source, self.img_names, self.class_names, self.ann_img[keep], self.ann_cat[keep],
                                  polys[keep], self.ann_difficulty[keep], self.ann_line[keep], self.json_img_ids,
                                  self.json_cat_ids, self.label_files)


@dataclass
class RotatedPredictions:
    """Detections as columns in file order (class files in class order, lines in file order)."""

    source: str
    img: np.ndarray
    cat: np.ndarray
    score: np.ndarray
    poly: np.ndarray  # (N, 8) float64
    n_skipped: int = 0  # detections of classes that are not evaluated
    line: Optional[np.ndarray] = None  # line in its class's Task1 file (folder input) or record index (JSON)
    files: Optional[Dict[int, str]] = None  # class index -> Task1 file

    def where(self, i: int) -> str:
        """The file and line (or record) of detection ``i``, for messages."""
        if self.files is not None and self.line is not None:
            return f"{self.files[int(self.cat[i])]}, line {int(self.line[i])}"
        return f"{self.source}, record #{int(self.line[i]) if self.line is not None else i}"

    def __len__(self) -> int:
        return int(self.img.size)


def load_rotated_ground_truth(gt: Union[PathLike, Mapping[str, Any]], classes: Optional[Sequence[str]],
                              default_classes: Sequence[str], imageset: Optional[Sequence[str]] = None,
                              log: Log = None, reading: Optional["RotatedReading"] = None) -> RotatedGroundTruth:
    """Read a labelTxt folder (parsed by ``reading`` when given) or a COCO-style polygon JSON; keep the
    objects of ``classes``."""
    if isinstance(gt, Mapping) or Path(gt).suffix.lower() == ".json" or Path(gt).is_file():
        return _gt_from_json(gt, classes, imageset, log)
    cols = reading.label_columns(gt, imageset) if reading is not None else dota.load_label_columns(Path(gt), imageset)
    names = tuple(classes or default_classes)
    known, inverse = np.unique(cols.name, return_inverse=True) if cols.name.size else (np.zeros(0, object), cols.image)
    index = {c: k for k, c in enumerate(names)}
    cls = np.asarray([index.get(str(c), -1) for c in known], np.int64)[inverse.reshape(-1)]
    keep = np.flatnonzero(cls >= 0)
    if keep.size < cls.size and log:
        other = sorted(str(c) for c in known[np.unique(inverse[cls < 0])])
        log(f"ground truth: {int(cls.size - keep.size)} objects of classes outside the evaluated list are not used "
            f"({', '.join(other)}); pass classes= to evaluate them")
    return RotatedGroundTruth(str(gt), list(cols.images), names, cols.image[keep], cls[keep], cols.poly[keep],
                              cols.difficulty[keep], cols.line[keep], label_files=[str(p) for p in cols.paths])


def _gt_from_json(gt, classes, imageset, log) -> RotatedGroundTruth:
    source = "<dict>" if isinstance(gt, Mapping) else str(gt)
    data = gt if isinstance(gt, Mapping) else load_json(gt, "ground truth")
    if not isinstance(data, Mapping) or not all(k in data for k in ("images", "annotations", "categories")):
        raise InputFileError(source, "is not a COCO-style annotation file (needs images, annotations, categories)",
                             fix="pass a labelTxt folder or a COCO-style JSON of polygons (dataprep coco-from-dota).")
    cats = sorted(data["categories"], key=lambda c: int(c["id"]))
    cat_names = {int(c["id"]): str(c["name"]) for c in cats}
    names = tuple(classes or [cat_names[c] for c in sorted(cat_names)])
    index = {c: k for k, c in enumerate(names)}
    json_cat = {cid: index[n] for cid, n in cat_names.items() if n in index}
    images = data["images"]
    stems = [Path(str(im.get("file_name", im["id"]))).stem for im in images]
    if imageset is not None:
        keep = set(imageset)
        images = [im for im, s in zip(images, stems) if s in keep]
        stems = [s for s in stems if s in keep]
    json_img = {int(im["id"]): i for i, im in enumerate(images)}
    img, cat, poly, diff, record = [], [], [], [], []
    for n, ann in enumerate(data["annotations"]):
        i = json_img.get(int(ann["image_id"]))
        k = json_cat.get(int(ann["category_id"]))
        if i is None or k is None:
            continue
        img.append(i); cat.append(k)
        poly.append(_json_poly(ann, f"{source} 'annotations'", n, gt=True))
        diff.append(int(ann.get("difficulty", ann.get("difficult", 0)) or 0))
        record.append(n)
    return RotatedGroundTruth(source, stems, names, np.asarray(img, np.int64), np.asarray(cat, np.int64),
                              dota.polys_array(poly), np.asarray(diff, np.int64), np.asarray(record, np.int64),
                              json_img, json_cat)


class RotatedReading:
    """The text inputs of a rotated evaluation being parsed on a background thread, started as soon as
    the paths are known (pandas' tokenizer releases the GIL: the main thread meanwhile imports torch or
    reads the rest). A labelTxt folder is read first, then the Task1 files, largest first. Use as a
    context manager; results re-raise their parse errors, which name file and line."""

    def __init__(self, gt: Any, preds: Any, imageset: Optional[Sequence[str]] = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1)  # the caller's thread joins in (see task1)
        self._labels = None
        if _is_folder(gt):
            self._labels = self._pool.submit(dota.load_label_columns, Path(gt), imageset)
        self._task1: Dict[Path, Any] = {}
        if _is_folder(preds):
            try:
                files = dota.task1_files(Path(preds))
            except DataprepError:
                files = {}  # reported with its message by load_rotated_predictions
            for p in sorted(files.values(), key=lambda p: -p.stat().st_size):
                self._task1[p] = self._pool.submit(dota.load_task1_file, p)

    def label_columns(self, folder: PathLike, imageset: Optional[Sequence[str]] = None) -> dota.LabelColumns:
        """The parsed labelTxt folder (read now when it was not submitted: not a folder, say)."""
        return self._labels.result() if self._labels is not None else dota.load_label_columns(Path(folder), imageset)

    def task1(self, path: Path) -> dota.Task1Lines:
        """The parsed Task1 file. One that no thread has started yet is parsed here and now (the caller's
        thread joins the work instead of waiting), as is one that was never submitted."""
        future = self._task1.get(path)
        if future is None or future.cancel():
            return dota.load_task1_file(path)
        return future.result()

    def __enter__(self) -> "RotatedReading":
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def resolve_imageset(imageset: Any) -> Optional[Sequence[str]]:
    """An image-set argument as a list of names: a file is read (one name per line), a list kept."""
    if isinstance(imageset, (str, bytes)) or hasattr(imageset, "__fspath__"):
        return dota.read_imageset(imageset)
    return imageset


def _is_folder(path: Any) -> bool:
    return isinstance(path, (str, Path)) and Path(path).is_dir()


def load_rotated_predictions(preds: Union[PathLike, Sequence[dict]], gt: RotatedGroundTruth,
                             log: Log = None, reading: Optional[RotatedReading] = None) -> RotatedPredictions:
    """Read a Task1 folder (parsed by ``reading`` when given) or a COCO-style results list; check image
    names against ``gt``."""
    if not isinstance(preds, (str, Path)) or Path(preds).suffix.lower() == ".json" or Path(preds).is_file():
        return _preds_from_json(preds, gt, log)
    files = dota.task1_files(Path(preds))
    with contextlib.ExitStack() as stack:
        if reading is None:
            reading = stack.enter_context(RotatedReading(None, preds))
        return _task1_columns(preds, files, gt, reading, log)


def _task1_columns(preds, files, gt: RotatedGroundTruth, reading: RotatedReading, log: Log) -> RotatedPredictions:
    """Columns of the parsed Task1 files of the evaluated classes (image names checked against ``gt``)."""
    import pandas as pd

    img_index = pd.Index(gt.img_names)
    img, cat, score, poly, line = [], [], [], [], []
    missing = [c for c in gt.class_names if c not in files]
    extra = [c for c in files if c not in gt.class_names]
    get = reading.task1
    for k, name in enumerate(gt.class_names):
        if name not in files:
            continue
        lines = get(files[name])
        names, inverse = dota.image_codes(lines.images)
        index = img_index.get_indexer(names).astype(np.int64)[inverse]
        if (index < 0).any():
            bad = int(np.flatnonzero(index < 0)[0])
            image = lines.images[bad]
            raise UnknownIdError(f"{files[name]}, line {lines.lines[bad]}", "image", [image], int((index < 0).sum()),
                                 fix=f"the ground truth {gt.source} has no image {image!r}: evaluate against the "
                                     "labelTxt folder (or image set) that holds it, or merge tile detections first "
                                     "(dataprep dota-merge) if these are tile names.")
        img.append(index)
        cat.append(np.full(index.size, k, np.int64))
        score.append(np.asarray(lines.scores, np.float64))
        poly.append(dota.polys_array(lines.polys))
        line.append(np.asarray(lines.lines, np.int64))
    skipped = sum(len(get(files[name]).images) for name in extra)
    if log and missing:
        log(f"predictions: no Task1 file for {len(missing)} class(es) ({', '.join(missing)}): no detections")
    if log and extra:
        log(f"predictions: {skipped} detections of classes outside the evaluated list are not used ({', '.join(extra)})")
    cat_ = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype)  # noqa: E731
    return RotatedPredictions(str(preds), cat_(img, np.int64), cat_(cat, np.int64), cat_(score, np.float64),
                              np.concatenate(poly) if poly else np.zeros((0, 8)), skipped, cat_(line, np.int64),
                              {k: str(files[c]) for k, c in enumerate(gt.class_names) if c in files})


def _preds_from_json(preds, gt: RotatedGroundTruth, log) -> RotatedPredictions:
    source = "<list>" if not isinstance(preds, (str, Path)) else str(preds)
    records = preds if not isinstance(preds, (str, Path)) else load_json(preds, "predictions")
    if isinstance(records, Mapping):
        records = records.get("annotations", records)
    if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
        raise InputFileError(source, "predictions must be a list of result records",
                             fix="write a JSON list of {image_id|image_name, category_id|category, score, poly|rbox}.")
    img_by_name = {n: i for i, n in enumerate(gt.img_names)}
    cls_by_name = {c: k for k, c in enumerate(gt.class_names)}
    img, cat, score, poly, line = [], [], [], [], []
    skipped = 0
    for n, r in enumerate(records):
        if not isinstance(r, Mapping) or "score" not in r:
            raise RecordError(source, n, r, "is not a result record with a 'score'",
                              fix="write {image_id|image_name, category_id|category, score, poly|rbox}.")
        k = _record_class(r, gt, cls_by_name, source, n)
        if k is None:
            skipped += 1
            continue
        i = _record_image(r, gt, img_by_name, source, n)
        s = r["score"]
        if not isinstance(s, (int, float)) or not np.isfinite(s):
            raise RecordError(source, n, r, f"score {s!r} is not a finite number",
                              fix="drop the record or fix the model output that produced it.")
        img.append(i); cat.append(k); score.append(float(s)); line.append(n)
        poly.append(_json_poly(r, source, n, gt=False))
    return RotatedPredictions(source, np.asarray(img, np.int64), np.asarray(cat, np.int64),
                              np.asarray(score, np.float64), dota.polys_array(poly), skipped, np.asarray(line, np.int64))


def warn_degenerate(gt: RotatedGroundTruth, dt: RotatedPredictions) -> None:
    """Say where polygons with zero (net) area are: they are evaluated as the devkit evaluates them, but
    they are almost always a bug upstream (collinear corners, a bow-tie corner order)."""
    for what, polys, where in (("ground-truth object", gt.ann_poly, gt.where),
                               ("detection", dt.poly, dt.where)):
        if polys.shape[0] == 0:
            continue
        p = [polys[:, k] for k in range(8)]  # shoelace over columns (twice the area)
        area = (p[0] * p[3] - p[1] * p[2]) + (p[2] * p[5] - p[3] * p[4]) + (p[4] * p[7] - p[5] * p[6]) \
            + (p[6] * p[1] - p[7] * p[0])
        bad = np.flatnonzero(~(np.abs(area) > 0))
        if bad.size:
            print(f"warning: {bad.size} {what}(s) have a degenerate (zero-area) polygon, first at {where(int(bad[0]))}; "
                  f"evaluated as the devkit does. Fix: drop them or correct their corners.", file=sys.stderr)


def _record_class(r, gt, cls_by_name, source, n) -> Optional[int]:
    if "category" in r:
        return cls_by_name.get(str(r["category"]))
    if "category_id" not in r:
        raise RecordError(source, n, r, "names no class", fix="add 'category' (a class name) or 'category_id'.")
    cid = int(r["category_id"])
    if gt.json_cat_ids is not None:
        return gt.json_cat_ids.get(cid)
    if 1 <= cid <= len(gt.class_names):
        return cid - 1  # DOTA2COCO numbering: ids 1..K in class-list order
    raise UnknownIdError(source, "category", [cid], 1,
                         fix=f"with a labelTxt ground truth, category_id k means the k-th evaluated class (1..{len(gt.class_names)}); "
                             "or give 'category' as a class name.")


def _record_image(r, gt, img_by_name, source, n) -> int:
    name = r.get("image_name", r.get("file_name"))
    if name is None and gt.json_img_ids is not None and "image_id" in r:
        i = gt.json_img_ids.get(int(r["image_id"]))
        if i is None:
            raise UnknownIdError(f"{source}, record #{n}", "image", [r["image_id"]], 1,
                                 fix=f"use the image ids of {gt.source}.")
        return i
    if name is None:
        name = r.get("image_id")
    if name is None:
        raise RecordError(source, n, r, "names no image", fix="add 'image_name' (or 'image_id' of a JSON ground truth).")
    stem = Path(str(name)).stem
    if stem not in img_by_name:
        raise UnknownIdError(f"{source}, record #{n}", "image", [name], 1,
                             fix=f"the ground truth {gt.source} has no such image: check the names or merge tiles first.")
    return img_by_name[stem]


def _json_poly(r: Mapping, source: str, n: int, gt: bool) -> Tuple[float, ...]:
    segmentation = r.get("segmentation") if gt else None
    if "poly" in r:
        values = r["poly"]
    elif isinstance(segmentation, list) and segmentation and isinstance(segmentation[0], list):
        values = segmentation[0]  # a GT polygon wins over its derived rbox (coco-from-dota writes both)
    elif "rbox" in r:
        version = r.get("angle_version", "le90")
        if version not in VERSIONS:
            raise RecordError(source, n, r, f"angle_version {version!r} is not one of {', '.join(VERSIONS)}",
                              fix="give the convention the rboxes were written in (mmrotate's angle_version).")
        box = r["rbox"]
        if not isinstance(box, Sequence) or len(box) != 5:
            raise RecordError(source, n, r, "'rbox' is not 5 numbers", fix="write [cx, cy, w, h, angle in radians].")
        return tuple(rbox_to_poly(np.asarray([box], np.float64), version)[0].tolist())
    else:
        raise RecordError(source, n, r, "has no polygon", fix="give 'poly' (8 numbers) or 'rbox' (cx, cy, w, h, angle)"
                          + (" or a 'segmentation' polygon of 4 points." if gt else "."))
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise RecordError(source, n, r, "polygon holds something that is not a number", fix="write 8 numbers.") from None
    if len(values) != 8:
        raise RecordError(source, n, r, f"polygon has {len(values)} numbers, not 8",
                          fix="give the 4 corners x1 y1 x2 y2 x3 y3 x4 y4 (DOTA quadrilaterals).")
    if not np.all(np.isfinite(values)):
        raise RecordError(source, n, r, "polygon holds NaN or infinity", fix="drop the record or fix its producer.")
    return tuple(values)
