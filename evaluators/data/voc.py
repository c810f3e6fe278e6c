"""PASCAL VOC ground truth and detections as columns, from a VOCdevkit folder, COCO JSON or comp4 files.

Box convention (the one place it is written down in code): VOC corners ``xmin ymin xmax ymax`` are 1-based
and inclusive, and the devkit's IoU adds 1 to every width and height. A COCO box (ours, detectron2's)
is ``x = xmin - 1, y = ymin - 1, w = xmax - xmin + 1, h = ymax - ymin + 1``, so on COCO boxes the devkit's
IoU is the plain continuous IoU. Internally every box is kept as devkit corners, a COCO box becoming
``xmin = x + 1, ymin = y + 1, xmax = x + w, ymax = y + h``; the IoU kernel then repeats the devkit's
operations and is bit-identical to ``voc_eval`` on those corners (see ``kernels/box_iou.py``).

Ground truth: a VOC year folder (``Annotations/*.xml`` + an image set: a name in ``ImageSets/Main``, a
list file or a list of ids), or a COCO-style JSON (``coco-from-voc`` output or any other). A folder's
images and classes get the ids ``coco-from-voc`` gives them: images 1..N in image-set order, the VOC
classes 1..20 and other evaluated classes 21, 22, ... (``--classes voc,<extra>``). A GT object is
*difficult* (ignored) when its ``difficult`` field is non-zero, else when its ``iscrowd`` is.
Detections: a folder of the devkit's ``comp<N>_det_<set>_<class>.txt`` files (or ``<class>.txt``, as
detectron2 writes them) with lines ``image score xmin ymin xmax ymax`` in 1-based corners, or COCO
results (``bbox`` in COCO space). Images are indexed 0..n-1 in image-set (or JSON) order, classes 0..K-1
in the evaluated order; detection rows keep input order, which decides ties between equal scores.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .indexed import PositionalIds
from ..errors import InputFileError, ParameterError, RecordError, UnknownIdError
from .columns import box_column, check_finite, check_nonnegative_size, column
from .jsonio import PathLike
from .text_rows import is_float, read_name_number_rows

VOC_CLASSES: Tuple[str, ...] = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog",
    "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
FAST_READ_BYTES = 1 << 16
COMP_FILE = re.compile(r"^comp\d+_det_([^_]+)_(.+)\.txt$")
Log = Optional[Callable[[str], None]]
ImageSetArg = Optional[Union[PathLike, Sequence[str]]]


# --------------------------------------------------------------------------- the box convention


def voc_to_coco_box(xmin: float, ymin: float, xmax: float, ymax: float) -> Tuple[float, float, float, float]:
    """COCO ``[x, y, w, h]`` of 1-based inclusive VOC corners (detectron2's conversion)."""
    return xmin - 1.0, ymin - 1.0, xmax - xmin + 1.0, ymax - ymin + 1.0


def coco_to_voc_corners(xywh: np.ndarray) -> np.ndarray:
    """(N, 4) devkit corners ``[x + 1, y + 1, x + w, y + h]`` of (N, 4) COCO boxes (float64)."""
    b = np.asarray(xywh, np.float64).reshape(-1, 4)
    return np.stack([b[:, 0] + 1.0, b[:, 1] + 1.0, b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], 1)


# --------------------------------------------------------------------------- comp4 text


@dataclass
class Comp4Lines:
    """Detections of one comp4 file in file order: image names, scores, (n, 4) corners, line numbers."""

    images: Sequence[str]
    scores: np.ndarray
    boxes: np.ndarray
    lines: np.ndarray


def parse_comp4_text(text: str, source: str) -> Comp4Lines:
    """Detections of one ``comp4_det_<set>_<class>.txt`` file: ``image score xmin ymin xmax ymax`` per line
    (tokens split on single spaces after stripping the line, as the devkit; blank lines skipped)."""
    images, values, lines = [], [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        tokens = line.split(" ")
        where = f"{source}, line {number}"
        if len(tokens) != 6:
            raise RecordError(where, None, line, f"has {len(tokens)} tokens, a detection line has 6",
                              fix="write 'image score xmin ymin xmax ymax' separated by single spaces.")
        try:
            numbers = [float(t) for t in tokens[1:]]
        except ValueError:
            bad = next(t for t in tokens[1:] if not is_float(t))
            raise RecordError(where, None, line, f"{bad!r} is not a number",
                              fix="write plain decimal numbers separated by single spaces.") from None
        if not all(np.isfinite(numbers)):
            raise RecordError(where, None, line, "holds NaN or infinity",
                              fix="drop the line or fix the model output that produced it.")
        images.append(tokens[0]); values.append(numbers); lines.append(number)
    arr = np.asarray(values, np.float64).reshape(-1, 5)
    return Comp4Lines(images, arr[:, 0].copy(), arr[:, 1:].copy(), np.asarray(lines, np.int64))


def load_comp4_file(path: Path) -> Comp4Lines:
    """Detections of one comp4 file (empty file: none); clean files of more than 64 KiB take the vectorised
    reader (below that its fixed cost is more than the line-by-line parse)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read the detection file ({exc.strerror})") from None
    rows = read_name_number_rows(data, 5) if len(data) > FAST_READ_BYTES else None
    if rows is not None:
        names, values, lines = rows
        return Comp4Lines(names, values[:, 0].copy(), values[:, 1:].copy(), lines)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"is not UTF-8 text ({exc})") from None
    return parse_comp4_text(text, str(path))


def comp4_files(folder: Path, class_names: Sequence[str]) -> Tuple[Dict[str, Path], List[str]]:
    """``{class: file}`` of the detection files in ``folder`` and the names of the files that match no class."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "is not a folder of comp4_det_<set>_<class>.txt files",
                             fix="pass the folder holding the per-class detection files (results/VOC2007/Main).")
    wanted = set(class_names)
    found: Dict[str, List[Path]] = {}
    unused = []
    for path in sorted(folder.glob("*.txt")):
        m = COMP_FILE.match(path.name)
        cls = m.group(2) if m else path.stem
        if cls in wanted:
            found.setdefault(cls, []).append(path)
        else:
            unused.append(path.name)
    for cls, paths in found.items():
        if len(paths) > 1:
            raise InputFileError(folder, f"holds {len(paths)} detection files for class {cls!r} "
                                 f"({', '.join(p.name for p in paths)})",
                                 fix="keep one file per class (one image set per folder).")
    if not found and not any(folder.glob("*.txt")):
        raise InputFileError(folder, "holds no .txt detection files",
                             fix="pass the folder of comp4_det_<set>_<class>.txt (or <class>.txt) files.")
    return {cls: paths[0] for cls, paths in found.items()}, unused


# --------------------------------------------------------------------------- tables


@dataclass
class VocGroundTruth(PositionalIds):
    """Ground-truth boxes of the evaluated images and classes (devkit corners, file order)."""

    source: str
    img_names: List[str]
    class_names: Tuple[str, ...]
    ann_img: np.ndarray
    ann_cat: np.ndarray
    ann_box: np.ndarray  # (N, 4) float64 devkit corners
    ann_difficult: np.ndarray  # (N,) bool
    coco_img_ids: np.ndarray  # COCO image id of each image index (JSON ids, or 1..n in image-set order)
    coco_cat_ids: np.ndarray  # COCO category id of each class index
    known_cat_ids: Dict[int, str]  # every category of the GT (evaluated or not): id -> name
    where: Callable[[int], str]  # the file / record of annotation i, for messages


@dataclass
class VocPredictions:
    """Detections as columns in input order (class files in class order, lines in file order)."""

    source: str
    img: np.ndarray
    cat: np.ndarray
    score: np.ndarray
    box: np.ndarray  # (N, 4) float64 devkit corners
    n_skipped: int = 0  # detections of classes that are not evaluated

    def __len__(self) -> int:
        return int(self.img.size)


# --------------------------------------------------------------------------- ground truth


def load_voc_ground_truth(gt: Union[PathLike, Mapping[str, Any]], classes: Optional[Sequence[str]] = None,
                          imageset: ImageSetArg = None, log: Log = None) -> VocGroundTruth:
    """Read a VOC year folder (Annotations + image set) or a COCO-style JSON (path, dict or loaded
    :class:`~evaluators.data.ground_truth.GroundTruth`, as :class:`~evaluators.Evaluator` holds it)."""
    from .ground_truth import GroundTruth

    if isinstance(gt, (Mapping, GroundTruth)) or not Path(gt).is_dir():
        return _gt_from_json(gt, classes, imageset, log)
    return _gt_from_folder(Path(gt), classes, imageset, log)


def resolve_imageset(root: Path, imageset: ImageSetArg) -> Tuple[List[str], str]:
    """Image ids of ``imageset`` (a name in ``root/ImageSets/Main``, a list file, or ids) and its source."""
    from .dota import read_imageset

    main = root / "ImageSets" / "Main"
    if imageset is None:
        names = sorted(p.stem for p in main.glob("*.txt") if "_" not in p.stem) if main.is_dir() else []
        raise ParameterError(f"{root}: a VOC folder needs an image set to evaluate on.",
                             fix="pass --imageset " + (" or ".join(names) if names else "FILE (one image id per line)")
                                 + " (imageset= in the API).")
    if not isinstance(imageset, (str, Path)):
        return [str(n) for n in imageset], "image list"
    path = Path(imageset)
    split = main / f"{imageset}.txt"
    if not path.is_file() and (split.is_file() or (len(path.parts) == 1 and not path.suffix)):
        path = split  # a split name
    if not path.is_file():
        names = sorted(p.stem for p in main.glob("*.txt") if "_" not in p.stem) if main.is_dir() else []
        raise InputFileError(path, "image-set file does not exist",
                             fix=f"pass a split of {main} ({', '.join(names) or 'none there'}) or a list file.")
    ids = []
    for number, name in enumerate(read_imageset(path), 1):
        if " " in name or "\t" in name:
            raise RecordError(f"{path}, line {number}", None, name, "has more than one token",
                              fix="use ImageSets/Main/<split>.txt (one id per line), not a per-class list.")
        ids.append(name)
    return ids, str(path)


def _gt_from_folder(root: Path, classes, imageset, log) -> VocGroundTruth:
    from converters.voc_xml import read_voc_xml

    annotations = root / "Annotations"
    if not annotations.is_dir():
        years = sorted(p.name for p in root.glob("VOC*") if (p / "Annotations").is_dir())
        raise InputFileError(root, "has no Annotations/ folder",
                             fix=(f"pass the year folder ({root / years[0]})" if years else
                                  "pass a VOC year folder (VOCdevkit/VOC2007) or a COCO JSON") + ".")
    names, set_source = resolve_imageset(root, imageset)
    unique = list(dict.fromkeys(names))
    if log and len(unique) < len(names):
        log(f"ground truth: {len(names) - len(unique)} repeated image id(s) in {set_source} counted once")
    class_names = class_list(classes, VOC_CLASSES)
    index = {c: k for k, c in enumerate(class_names)}
    img, cat, box, hard, where = [], [], [], [], []
    other: Dict[str, int] = {}
    for i, name in enumerate(unique):
        ann = read_voc_xml(annotations / f"{name}.xml")
        for ob in ann.objects:
            k = index.get(ob.name)
            if k is None:
                other[ob.name] = other.get(ob.name, 0) + 1
                continue
            img.append(i); cat.append(k); box.append(ob.bbox); hard.append(ob.difficult != 0)
            where.append(f"{ann.source}, object #{ob.index}")
    if other and log:
        log(f"ground truth: {sum(other.values())} object(s) of classes outside the evaluated list are not used "
            f"({', '.join(sorted(other))}); pass classes= to evaluate them")
    boxes = np.asarray(box, np.float64).reshape(-1, 4)
    _check_corners(boxes, lambda i: where[i], lambda i: str(list(boxes[i])))
    # category ids as coco-from-voc --classes voc,<extra classes> writes them: VOC's 1..20, extras 21, 22, ...
    all_names = list(VOC_CLASSES) + [c for c in class_names if c not in VOC_CLASSES]
    cat_id = {c: k for k, c in enumerate(all_names, 1)}
    return VocGroundTruth(
        str(root), unique, class_names, np.asarray(img, np.int64), np.asarray(cat, np.int64), boxes,
        np.asarray(hard, bool), np.arange(1, len(unique) + 1, dtype=np.int64),
        np.asarray([cat_id[c] for c in class_names], np.int64), {k: c for c, k in cat_id.items()}, where.__getitem__)


def _gt_from_json(gt, classes, imageset, log) -> VocGroundTruth:
    from .ground_truth import GroundTruth, load_ground_truth

    ground = gt if isinstance(gt, GroundTruth) else load_ground_truth(gt)
    data = ground.dataset
    if np.isnan(ground.ann_bbox).any():
        i = int(np.flatnonzero(np.isnan(ground.ann_bbox).any(1))[0])
        raise RecordError(f"{ground.source} 'annotations'", i, data["annotations"][i], "has no 'bbox'",
                          fix="give every annotation a COCO 'bbox' [x, y, w, h].")
    known = {int(c): n for c, n in zip(ground.cat_ids.tolist(), ground.cat_names)}
    by_id = sorted(known)
    if classes is None:
        class_names = tuple(known[c] for c in by_id)
    else:
        class_names = class_list(classes, ())
        missing = [c for c in class_names if c not in set(known.values())]
        if missing:
            raise ParameterError(f"{ground.source} has no categor(y/ies) named {', '.join(map(repr, missing))}.",
                                 fix=f"choose among {', '.join(known[c] for c in by_id)}.")
    first_id = {}
    for c in by_id:
        first_id.setdefault(known[c], c)
    cat_ids = np.asarray([first_id[n] for n in class_names], np.int64)
    images = data["images"]
    stems = [Path(str(im.get("file_name", im["id"]))).stem for im in images]
    keep = np.ones(len(images), bool)
    if imageset is not None:
        wanted = set(resolve_imageset(Path("."), imageset)[0]) if isinstance(imageset, (str, Path)) \
            else {str(n) for n in imageset}
        keep = np.asarray([s in wanted for s in stems], bool)
    img_rows = np.flatnonzero(keep)
    img_ids = ground.img_ids[img_rows]
    ann_img, ann_cat = lookup(img_ids, ground.ann_img), lookup(cat_ids, ground.ann_cat)
    sel = np.flatnonzero((ann_img >= 0) & (ann_cat >= 0))
    difficult = _difficult_column(data["annotations"], ground.ann_crowd, f"{ground.source} 'annotations'")
    source = ground.source
    return VocGroundTruth(
        source, [stems[r] for r in img_rows], class_names, ann_img[sel].astype(np.int64),
        ann_cat[sel].astype(np.int64), coco_to_voc_corners(ground.ann_bbox[sel]), difficult[sel],
        img_ids.astype(np.int64), cat_ids, known, lambda i: f"{source} 'annotations' record #{int(sel[i])}")


def class_list(classes: Optional[Sequence[str]], default: Sequence[str]) -> Tuple[str, ...]:
    """The evaluated class names: ``classes`` (checked: non-empty, no repeats) or ``default``."""
    if classes is None:
        return tuple(default)
    names = tuple(str(c) for c in classes)
    if not names:
        raise ParameterError("the class list is empty.", fix="name at least one class (or leave classes out).")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ParameterError(f"the class list repeats {', '.join(repeated)}.", fix="give each class once.")
    return names


def lookup(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each of ``values`` in ``table`` (unique integers), -1 where absent."""
    values = np.asarray(values, np.int64)
    if table.size == 0:
        return np.full(values.size, -1, np.int64)
    order = np.argsort(table, kind="stable")
    pos = order[np.searchsorted(table, values, sorter=order).clip(max=table.size - 1)]
    return np.where(table[pos] == values, pos, -1).astype(np.int64)


def _difficult_column(anns: Sequence[dict], crowd: np.ndarray, source: str) -> np.ndarray:
    """An annotation's ``difficult`` field (non-zero: difficult), else its ``iscrowd``."""
    out = crowd.copy()
    for i, a in enumerate(anns):
        if "difficult" in a:
            v = a["difficult"]
            if isinstance(v, bool) or (isinstance(v, (int, float)) and float(v) == int(v)):
                out[i] = bool(v)
            else:
                raise RecordError(source, i, a, f"'difficult' is {v!r}, not 0 or 1",
                                  fix="write 'difficult': 0 or 1 (or leave it out to use 'iscrowd').")
    return out


# --------------------------------------------------------------------------- detections


def load_voc_predictions(preds: Any, gt: VocGroundTruth, log: Log = None) -> VocPredictions:
    """Read a folder of comp4 files, or COCO results (path, list of dicts, or (N, 7) array)."""
    if isinstance(preds, (str, Path)) and Path(preds).is_dir():
        return _preds_from_comp4(Path(preds), gt, log)
    return _preds_from_results(preds, gt, log)


def _preds_from_comp4(folder: Path, gt: VocGroundTruth, log: Log) -> VocPredictions:
    import pandas as pd

    files, unused = comp4_files(folder, gt.class_names)
    names = pd.Index(gt.img_names)
    if not names.is_unique:
        raise InputFileError(gt.source, f"has several images named {names[names.duplicated()][0]!r}, so detection "
                             "lines cannot name their image", fix="give every image a distinct file name, or use COCO results.")
    loaded = [(k, files[c], load_comp4_file(files[c])) for k, c in enumerate(gt.class_names) if c in files]
    for _, path, lines in loaded:
        _check_corners(lines.boxes, lambda i: f"{path}, line {int(lines.lines[i])}",
                       lambda i: " ".join([str(lines.images[i])] + [repr(v) for v in lines.boxes[i]]))
    sizes = [len(lines.images) for _, _, lines in loaded]
    all_names = np.concatenate([np.asarray(lines.images, dtype=object) for _, _, lines in loaded]) if loaded \
        else np.zeros(0, object)
    img = names.get_indexer(all_names).astype(np.int64) if all_names.size else np.zeros(0, np.int64)
    if (img < 0).any():
        first = int(np.flatnonzero(img < 0)[0])
        part = int(np.searchsorted(np.cumsum(sizes), first, side="right"))
        _, path, lines = loaded[part]
        row = first - int(sum(sizes[:part]))
        image = lines.images[row]
        raise UnknownIdError(f"{path}, line {int(lines.lines[row])}", "image", [image], int((img < 0).sum()),
                             fix=f"the ground truth {gt.source} (this image set) has no image {image!r}: "
                                 "evaluate against the image set the detections were made for.")
    missing = [c for c in gt.class_names if c not in files]
    if log and missing:
        log(f"predictions: no detection file for {len(missing)} class(es) ({', '.join(missing)}): no detections")
    if log and unused:
        log(f"predictions: {len(unused)} file(s) of classes outside the evaluated list are not used "
            f"({', '.join(unused[:5])}{', ...' if len(unused) > 5 else ''})")
    if not loaded:
        empty = np.zeros(0, np.int64)
        return VocPredictions(str(folder), empty, empty, np.zeros(0), np.zeros((0, 4)))
    cat = np.repeat(np.asarray([k for k, _, _ in loaded], np.int64), sizes)
    score = np.concatenate([lines.scores for _, _, lines in loaded])
    box = np.concatenate([lines.boxes for _, _, lines in loaded]).reshape(-1, 4)
    return VocPredictions(str(folder), img, cat, score, box)


def _check_corners(boxes: np.ndarray, where: Callable[[int], str], shown: Callable[[int], str]) -> None:
    """Corners with a negative devkit width or height (``xmax < xmin - 1``) are refused (the devkit would
    compute negative areas with them)."""
    bad = (boxes[:, 2] - boxes[:, 0] + 1.0 < 0) | (boxes[:, 3] - boxes[:, 1] + 1.0 < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RecordError(where(i), None, shown(i), f"xmax < xmin - 1 or ymax < ymin - 1 "
                          f"({int(bad.sum())} such line(s) in all)",
                          fix="write corners as xmin ymin xmax ymax (1-based, inclusive).")


def _preds_from_results(preds: Any, gt: VocGroundTruth, log: Log) -> VocPredictions:
    from .predictions import read_records

    source, records = read_records(preds)
    if len(records) == 0:
        empty = np.zeros(0, np.int64)
        return VocPredictions(source, empty, empty, np.zeros(0), np.zeros((0, 4)))
    if not isinstance(records[0], dict):
        raise RecordError(source, 0, records[0], "is not a JSON object",
                          fix="write predictions as a list of {image_id, category_id, bbox, score} objects.")
    score = column(records, "score", np.float64, source, fix="add a 'score' (the detector's confidence) to every prediction.")
    check_finite(score, records, "'score'", source, fix="replace NaN/inf scores (e.g. filter them out before saving).")
    bbox = box_column(records, "bbox", source)
    check_finite(bbox, records, "'bbox'", source, fix="drop or repair predictions with NaN/inf coordinates.")
    check_nonnegative_size(bbox, records, source)
    img = _record_images(records, gt, source)
    cat = _record_classes(records, gt, source)
    keep = cat >= 0
    skipped = int((~keep).sum())
    if log and skipped:
        log(f"predictions: {skipped} detection(s) of classes outside the evaluated list are not used")
    return VocPredictions(source, img[keep], cat[keep], score[keep], coco_to_voc_corners(bbox[keep]), skipped)


def _record_images(records: Sequence[dict], gt: VocGroundTruth, source: str) -> np.ndarray:
    """Image index of every record: integer ``image_id`` (the GT's ids), else ``image_name``/``file_name``
    or a string ``image_id`` (an image name; extension ignored)."""
    values = _int_values(records, "image_id")
    if values is not None:
        index = lookup(gt.coco_img_ids, values)
        bad = index < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UnknownIdError(f"{source}, record #{i}", "image", np.unique(values[bad]).tolist(), int(bad.sum()),
                                 fix=f"use the image ids of {gt.source} (a VOC folder's are 1..N in image-set "
                                     "order, as coco-from-voc numbers them), or name images with 'image_name'.")
        return index
    by_name = {n: i for i, n in enumerate(gt.img_names)}
    by_id = {int(c): i for i, c in enumerate(gt.coco_img_ids.tolist())}
    out = np.empty(len(records), np.int64)
    for n, r in enumerate(records):
        name = r.get("image_name", r.get("file_name"))
        raw = r.get("image_id")
        if name is None and type(raw) is int:
            i = by_id.get(raw)
        elif name is None and raw is None:
            raise RecordError(source, n, r, "names no image", fix="add 'image_id' (or 'image_name').")
        else:
            i = by_name.get(Path(str(name if name is not None else raw)).stem)
        if i is None:
            raise UnknownIdError(f"{source}, record #{n}", "image", [name if name is not None else raw], 1,
                                 fix=f"the ground truth {gt.source} has no such image: check the ids or names.")
        out[n] = i
    return out


def _int_values(records: Sequence[dict], key: str) -> Optional[np.ndarray]:
    """``records[i][key]`` as int64 when every record has it as a JSON integer, else None (the caller then
    looks at each record: names, strings, missing keys). A string such as ``"000001"`` is never read as 1."""
    try:
        values = np.asarray([r[key] for r in records])
    except (KeyError, TypeError, ValueError):
        return None
    return values.astype(np.int64) if values.ndim == 1 and values.dtype.kind in "iu" else None


def _record_classes(records: Sequence[dict], gt: VocGroundTruth, source: str) -> np.ndarray:
    """Class index of every record (-1: a known category that is not evaluated): ``category_id`` (the GT's
    ids) or ``category`` (a name)."""
    index = {n: k for k, n in enumerate(gt.class_names)}
    by_id = {int(c): k for k, c in enumerate(gt.coco_cat_ids.tolist())}
    values = _int_values(records, "category_id")
    if values is not None:
        uniq, inverse = np.unique(values, return_inverse=True)
        unknown = [int(u) for u in uniq if int(u) not in gt.known_cat_ids]
        if unknown:
            i = int(np.flatnonzero(np.isin(values, unknown))[0])
            raise UnknownIdError(f"{source}, record #{i}", "category", unknown, int(np.isin(values, unknown).sum()),
                                 fix=f"use the category ids of {gt.source} ("
                                     f"{', '.join(f'{c}={n}' for c, n in list(gt.known_cat_ids.items())[:4])}, ...).")
        return np.asarray([by_id.get(int(u), -1) for u in uniq], np.int64)[inverse.reshape(-1)]
    out = np.empty(len(records), np.int64)
    for n, r in enumerate(records):
        if "category_id" in r:
            cid = int(r["category_id"])
            if cid not in gt.known_cat_ids:
                raise UnknownIdError(f"{source}, record #{n}", "category", [cid], 1,
                                     fix=f"use the category ids of {gt.source}.")
            out[n] = by_id.get(cid, -1)
        elif "category" in r:
            out[n] = index.get(str(r["category"]), -1)
        else:
            raise RecordError(source, n, r, "names no class", fix="add 'category_id' (or 'category', a class name).")
    return out

