"""YOLO (ultralytics) label files <-> COCO JSON: pure functions, then the thin load/save entry points.

Label lines (normalised to the image size, class index 0-based; see ``docs/formats.md`` section 1):

* ``cls cx cy w h``             a box (exactly 5 numbers);
* ``cls x1 y1 x2 y2 ... xn yn``  a polygon (an odd count of at least 7 numbers, i.e. 3 points or more).

The kind is decided **per line** (ultralytics' ``convert_coco`` writes a box line for an instance without a
polygon, so one file may mix both). Pixel values are ``value * width`` (or height) rounded to ``decimals``
(2, like COCO's own numbers). A box's ``area`` is ``w * h``; a polygon's ``bbox`` is its extent and its
``area`` the sum of the absolute shoelace areas of its rings: a ring that ``merge_multi_segment`` made from
several parts (joined by zero-width bridges, so vertices repeat) is split back at the repeated vertices
first (:func:`split_merged_ring`), since the plain shoelace of such a ring can be wrong by up to 97 %.

The reverse direction writes lines as ultralytics/JSON2YOLO do: ``%g`` numbers (6 significant digits),
crowd annotations and boxes with ``w <= 0`` or ``h <= 0`` skipped, exact duplicate lines dropped, the parts of
a multi-part polygon merged into one ring with :func:`merge_multi_segment`.

The file-system side (layouts, image headers, worker processes) is in :mod:`converters.yolo_files`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from evaluators.errors import ParameterError, RecordError

from .problems import ProblemLog

PathLike = Union[str, "os.PathLike[str]"]

# --------------------------------------------------------------------------- COCO 80 classes

#: The 80 COCO class names in ultralytics' order (``coco.yaml``), which is COCO's category-id order.
COCO80_NAMES: Tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)

#: COCO's supercategory of each of the 80 classes.
COCO80_SUPERCATEGORIES: Tuple[str, ...] = (
    ("person",) + ("vehicle",) * 8 + ("outdoor",) * 5 + ("animal",) * 10 + ("accessory",) * 5
    + ("sports",) * 10 + ("kitchen",) * 7 + ("food",) * 10 + ("furniture",) * 6 + ("electronic",) * 6
    + ("appliance",) * 5 + ("indoor",) * 7
)

#: Class index 0..79 -> COCO category id (1..90 with 11 gaps), as ultralytics' ``coco80_to_coco91_class``.
COCO80_TO_COCO91: Tuple[int, ...] = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33,
    34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
    62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
)

#: COCO category id -> class index 0..79 (the 11 unused ids are absent).
COCO91_TO_COCO80: Dict[int, int] = {cid: i for i, cid in enumerate(COCO80_TO_COCO91)}

TASKS: Tuple[str, ...] = ("auto", "detect", "segment")
CATEGORY_ID_MODES: Tuple[str, ...] = ("auto", "coco91", "contiguous")
OUTSIDE_ACTIONS: Tuple[str, ...] = ("clip", "skip")
SOURCES: Tuple[str, ...] = ("auto", "folder", "list")
#: Normalised slack before a coordinate counts as outside [0, 1]: 6-significant-digit labels put box
#: corners up to ~7.5e-7 beyond the edge.
EDGE_TOL = 1e-6


# --------------------------------------------------------------------------- parsing label text


class LabelObject(NamedTuple):
    """One object of a label file: ``kind`` is ``"box"`` (values ``cx, cy, w, h``) or ``"polygon"``
    (values ``x1, y1, ..., xn, yn``); values are normalised (already clipped when they were outside)."""

    line: int
    cls: int
    kind: str
    values: Tuple[float, ...]


@dataclass(frozen=True)
class LineIssue:
    """A problem of one label line; ``kind`` is a short key (``bad-line``, ``outside-image``...)."""

    line: int
    kind: str
    detail: str
    action: str = "skipped"


def _outside(v: float) -> bool:
    return v < -EDGE_TOL or v > 1.0 + EDGE_TOL


def _clip01(v: float) -> float:
    return 0.0 if v < 0.0 else (1.0 if v > 1.0 else v)


def _parse_box(no: int, cls: int, v: List[float], outside: str,
               issues: List[LineIssue]) -> Optional[LabelObject]:
    cx, cy, w, h = v
    if not (w > 0 and h > 0):
        issues.append(LineIssue(no, "empty-box", f"box width {w:g} / height {h:g} not positive"))
        return None
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    if any(_outside(t) for t in (cx, cy, w, h, x0, x1, y0, y1)):
        detail = f"box corners ({x0:.6g}, {y0:.6g}, {x1:.6g}, {y1:.6g}) outside [0, 1]"
        if outside == "skip":
            issues.append(LineIssue(no, "outside-image", detail))
            return None
        x0, x1, y0, y1 = _clip01(x0), _clip01(x1), _clip01(y0), _clip01(y1)
        if not (x1 > x0 and y1 > y0):
            issues.append(LineIssue(no, "outside-image", detail + "; nothing left inside the image"))
            return None
        issues.append(LineIssue(no, "outside-image", detail, "clipped"))
        cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    return LabelObject(no, cls, "box", (cx, cy, w, h))


def _parse_polygon(no: int, cls: int, v: List[float], outside: str,
                   issues: List[LineIssue]) -> Optional[LabelObject]:
    bad = [t for t in v if _outside(t)]
    if bad:
        detail = f"{len(bad)} polygon coordinate(s) outside [0, 1] (e.g. {bad[0]:.6g})"
        if outside == "skip":
            issues.append(LineIssue(no, "outside-image", detail))
            return None
        issues.append(LineIssue(no, "outside-image", detail, "clipped"))
        v = [_clip01(t) for t in v]
    xs, ys = v[0::2], v[1::2]
    if not (max(xs) > min(xs) and max(ys) > min(ys)):
        issues.append(LineIssue(no, "empty-box", "polygon has no extent (all points on one line)"))
        return None
    return LabelObject(no, cls, "polygon", tuple(v))


def parse_label_text(text: str, outside: str = "clip") -> Tuple[List[LabelObject], List[LineIssue]]:
    """Objects and per-line problems of one label file's text (lines are numbered from 1).

    A line is skipped (and reported) when it has the wrong number of values (a box has 5 numbers with the
    class, a polygon an odd count of at least 7), a value that is not a finite number, a class that is not a
    non-negative integer, no extent, or repeats an earlier line exactly (ultralytics drops such duplicates).
    Coordinates outside [0, 1] (beyond :data:`EDGE_TOL`) are reported and clipped (``outside="clip"``) or the
    line is skipped (``"skip"``). Blank lines are ignored. Class ids are not checked against ``names`` here.
    """
    if outside not in OUTSIDE_ACTIONS:
        raise ParameterError(f"outside={outside!r} is not one of {', '.join(OUTSIDE_ACTIONS)}.",
                             fix="use clip or skip.")
    objects: List[LabelObject] = []
    issues: List[LineIssue] = []
    seen = set()
    lo, hi = -EDGE_TOL, 1.0 + EDGE_TOL
    for no, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if len(tokens) == 5:  # fast path: a well-formed box inside the image (NaN fails every comparison)
            try:
                c, cx, cy, w, h = map(float, tokens)
            except ValueError:
                c = cx = cy = w = h = math.nan  # the full checks below say what is wrong
            hw, hh = w * 0.5, h * 0.5
            if (0.0 < w <= hi and 0.0 < h <= hi and lo <= cx - hw and cx + hw <= hi and lo <= cy - hh
                    and cy + hh <= hi and 0.0 <= c < 1e9 and c.is_integer()):
                key = (c, cx, cy, w, h)
                if key in seen:
                    issues.append(LineIssue(no, "duplicate-line", "repeats an earlier line exactly"))
                else:
                    seen.add(key)
                    objects.append(LabelObject(no, int(c), "box", (cx, cy, w, h)))
                continue
        if not tokens:
            continue
        try:
            v = [float(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not _is_float(t))
            issues.append(LineIssue(no, "bad-number", f"{bad!r} is not a number"))
            continue
        if not all(math.isfinite(t) for t in v):
            issues.append(LineIssue(no, "bad-number", "value is not finite (nan/inf)"))
            continue
        c = v[0]
        if c < 0 or c != int(c):
            issues.append(LineIssue(no, "bad-class", f"class {tokens[0]!r} is not a non-negative integer"))
            continue
        n = len(v) - 1
        if n != 4 and (n < 6 or n % 2):
            issues.append(LineIssue(no, "bad-line", f"{n} value(s) after the class: a box needs 4, "
                                                    "a polygon an even number >= 6"))
            continue
        key = tuple(v)
        if key in seen:
            issues.append(LineIssue(no, "duplicate-line", "repeats an earlier line exactly"))
            continue
        seen.add(key)
        parse = _parse_box if n == 4 else _parse_polygon
        obj = parse(no, int(c), v[1:], outside, issues)
        if obj is not None:
            objects.append(obj)
    return objects, issues


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- geometry


def _r(v: float, decimals: int) -> float:
    return round(v, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def box_to_pixels(values: Sequence[float], width: int, height: int, decimals: int = 2) -> List[float]:
    """``[x, y, w, h]`` in pixels (rounded) of a normalised ``cx, cy, w, h`` box."""
    cx, cy, w, h = values
    return [_r((cx - w / 2) * width, decimals), _r((cy - h / 2) * height, decimals),
            _r(w * width, decimals), _r(h * height, decimals)]


def shoelace(flat: Sequence[float]) -> float:
    """Signed area of the ring ``x1, y1, ..., xn, yn`` (positive when counter-clockwise in y-up axes)."""
    xs = np.asarray(flat[0::2], dtype=np.float64)
    ys = np.asarray(flat[1::2], dtype=np.float64)
    return float(0.5 * (np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))


def split_merged_ring(points: Sequence[Tuple[float, float]]) -> List[List[Tuple[float, float]]]:
    """The simple loops of a ring whose parts touch at repeated vertices (what :func:`merge_multi_segment`
    makes): walking the ring, a vertex met again closes the loop since its first visit, which is cut off.
    Loops of fewer than 3 vertices (the zero-width bridges, and repeated consecutive points) are dropped;
    a ring without repeated vertices comes back whole. Without any loop of 3+ vertices: ``[]``."""
    stack: List[Tuple[float, float]] = []
    where: Dict[Tuple[float, float], int] = {}
    loops: List[List[Tuple[float, float]]] = []
    for p in points:
        i = where.get(p)
        if i is None:
            where[p] = len(stack)
            stack.append(p)
            continue
        loop = stack[i:]
        for q in stack[i + 1:]:
            del where[q]
        del stack[i + 1:]
        if len(loop) >= 3:
            loops.append(loop)
    if len(stack) >= 3:
        loops.append(stack)
    return loops


def polygon_to_pixels(values: Sequence[float], width: int, height: int,
                      decimals: int = 2) -> Tuple[List[List[float]], List[float], float]:
    """``(segmentation, bbox, area)`` in pixels of a normalised polygon line: the ring is split into its parts
    (:func:`split_merged_ring`), each part rounded; ``bbox`` is the extent, ``area`` the sum of the parts'
    absolute shoelace areas."""
    pts = list(zip(values[0::2], values[1::2]))
    loops = split_merged_ring(pts) or [pts]
    seg = [[_r(c, decimals) for x, y in loop for c in (x * width, y * height)] for loop in loops]
    xs = [x * width for x in values[0::2]]
    ys = [y * height for y in values[1::2]]
    x0, y0 = _r(min(xs), decimals), _r(min(ys), decimals)
    bbox = [x0, y0, _r(_r(max(xs), decimals) - x0, decimals), _r(_r(max(ys), decimals) - y0, decimals)]
    area = sum(abs(shoelace(part)) for part in seg)
    return seg, bbox, round(area, 2 * decimals + 1)


def box_polygon(bbox: Sequence[float], decimals: int = 2) -> List[List[float]]:
    """The 4-corner polygon of a pixel box ``[x, y, w, h]`` (as a COCO segmentation)."""
    x, y, w, h = bbox
    x1, y1 = _r(x + w, decimals), _r(y + h, decimals)
    return [[x, y, x1, y, x1, y1, x, y1]]


def object_to_coco(obj: LabelObject, width: int, height: int, task: str = "auto",
                   decimals: int = 2) -> Tuple[List[float], float, list]:
    """``(bbox, area, segmentation)`` in pixels of one label object.

    ``task="auto"``: boxes get ``segmentation: []``, polygons their rings. ``"detect"``: every object becomes
    its box (a polygon's extent) with ``area = w * h`` and ``segmentation: []``. ``"segment"``: as auto, but a
    box line gets its 4-corner polygon so that every annotation has a mask."""
    if obj.kind == "box" or task == "detect":
        if obj.kind == "box":
            bbox = box_to_pixels(obj.values, width, height, decimals)
        else:
            bbox = polygon_to_pixels(obj.values, width, height, decimals)[1]
        area = round(bbox[2] * bbox[3], 2 * decimals + 1)
        return bbox, area, (box_polygon(bbox, decimals) if task == "segment" else [])
    seg, bbox, area = polygon_to_pixels(obj.values, width, height, decimals)
    return bbox, area, seg


# --------------------------------------------------------------------------- categories and ids


def category_ids(names: Sequence[str], mode: str = "auto") -> Tuple[List[int], List[str]]:
    """COCO ``(ids, supercategories)`` of the classes ``names`` (index order).

    ``auto``: COCO's ids when ``names`` are the 80 COCO names in order, else ``contiguous``; ``coco91``: the
    80->91 table (needs exactly 80 classes); ``contiguous``: 1..N. Supercategories are COCO's for the COCO
    names, else the class name."""
    if mode not in CATEGORY_ID_MODES:
        raise ParameterError(f"category id mode {mode!r} is not one of {', '.join(CATEGORY_ID_MODES)}.",
                             fix="use auto, coco91 or contiguous.")
    is_coco = tuple(names) == COCO80_NAMES
    if mode == "coco91" and len(names) != 80:
        raise ParameterError(f"--category-ids coco91 needs 80 classes, the names have {len(names)}.",
                             fix="use --category-ids contiguous (ids 1..N) or auto.")
    use91 = mode == "coco91" or (mode == "auto" and is_coco)
    ids = list(COCO80_TO_COCO91) if use91 else list(range(1, len(names) + 1))
    sup = list(COCO80_SUPERCATEGORIES) if is_coco else [str(n) for n in names]
    return ids, sup


def make_yolo_categories(names: Sequence[str], mode: str = "auto") -> List[dict]:
    """COCO ``categories`` for every class in ``names`` (unused ones too)."""
    ids, sup = category_ids(names, mode)
    return [{"id": i, "name": str(n), "supercategory": s} for i, n, s in zip(ids, names, sup)]


def assign_image_ids(file_names: Sequence[str]) -> List[int]:
    """Image ids for ``file_names`` (in the given order): ``int(stem)`` when every stem is a plain decimal
    number and these numbers are unique (the original COCO ids, and what ultralytics' predictions use), else
    ``1..N`` in the given order. Callers pass every enumerated image, so an unreadable one only leaves a gap."""
    stems = [Path(f).stem for f in file_names]
    if stems and all(s.isascii() and s.isdigit() for s in stems):
        ids = [int(s) for s in stems]
        if len(set(ids)) == len(ids):
            return ids
    return list(range(1, len(file_names) + 1))


def names_from_yaml_value(value: object, source: str) -> List[str]:
    """Class names from a data YAML's ``names`` (a list, or a ``{index: name}`` dict with indices 0..N-1)."""
    from evaluators.errors import InputFileError

    if isinstance(value, (list, tuple)):
        names = [str(n) for n in value]
    elif isinstance(value, dict):
        try:
            keyed = {int(k): str(v) for k, v in value.items()}
        except (TypeError, ValueError):
            raise InputFileError(source, "has a 'names' mapping whose keys are not class indices",
                                 fix="write names as a list, or as {0: name0, 1: name1, ...}.") from None
        if sorted(keyed) != list(range(len(keyed))):
            raise InputFileError(source, f"has 'names' indices {sorted(keyed)[:5]}... that are not 0..N-1",
                                 fix="number the classes 0, 1, 2, ... without gaps.")
        names = [keyed[i] for i in range(len(keyed))]
    else:
        raise InputFileError(source, "has no usable 'names' (a list or an {index: name} mapping)",
                             fix="add names: [class0, class1, ...] to the YAML.")
    if not names:
        raise InputFileError(source, "has an empty 'names' list", fix="list the class names.")
    return names


# --------------------------------------------------------------------------- COCO -> YOLO


def fmt_g(v: float) -> str:
    """A number as ultralytics writes it (``%g``: 6 significant digits, no trailing zeros)."""
    return "%g" % v


def format_label_line(cls: int, values: Iterable[float]) -> str:
    """One label line (no newline): ``cls v1 v2 ...`` with ``%g`` numbers."""
    return " ".join([fmt_g(cls)] + [fmt_g(v) for v in values])


def coco_box_to_yolo(bbox: Sequence[float], width: float, height: float) -> Tuple[float, float, float, float]:
    """Normalised ``cx, cy, w, h`` of a COCO pixel box (no clipping, as ultralytics)."""
    x, y, w, h = (float(t) for t in bbox)
    return (x + w / 2) / width, (y + h / 2) / height, w / width, h / height


def _closest_pair(a: np.ndarray, b: np.ndarray) -> Tuple[int, int]:
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    return int(i), int(j)


def merge_multi_segment(parts: Sequence[Sequence[float]]) -> np.ndarray:
    """One ``(N, 2)`` ring from the polygons ``parts`` (flat pixel lists), joined as ultralytics does.

    Consecutive parts are linked at their closest vertex pair (first pair on ties). Each part is rotated to
    start at the vertex linking it to the previous part (the first part: to the next part) and closed by
    repeating that vertex. The ring walks part 0 whole, then each middle part up to its link to the next one,
    the last part whole, then back through the middle parts' remaining vertices. A middle part whose two
    link indices are decreasing is reversed first while its indices are only swapped, not re-mapped - a quirk
    of the reference kept here so that the output matches it byte for byte.
    """
    segs = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in parts]
    links: List[List[int]] = [[] for _ in segs]
    for i in range(1, len(segs)):
        a, b = _closest_pair(segs[i - 1], segs[i])
        links[i - 1].append(a)
        links[i].append(b)
    last = len(segs) - 1
    out: List[np.ndarray] = []
    for i, idx in enumerate(links):
        if len(idx) == 2 and idx[0] > idx[1]:
            idx = idx[::-1]
            segs[i] = segs[i][::-1, :]
        segs[i] = np.roll(segs[i], -idx[0], axis=0)
        segs[i] = np.concatenate([segs[i], segs[i][:1]])
        if i in (0, last):
            out.append(segs[i])
        else:
            out.append(segs[i][: idx[1] - idx[0] + 1])
    for i in range(last - 1, 0, -1):
        out.append(segs[i][abs(links[i][1] - links[i][0]):])
    return np.concatenate(out, axis=0)


@dataclass
class YoloImageLines:
    """The label lines of one image (``lines`` without newlines) and what they hold."""

    lines: List[str] = field(default_factory=list)
    crowd: int = 0
    boxes: int = 0
    polygons: int = 0


def annotation_to_line(ann: dict, cls: int, width: float, height: float, segments: bool,
                       source: str, log: ProblemLog) -> Optional[Tuple[str, str]]:
    """``(kind, line)`` of one non-crowd COCO annotation (``kind`` ``box``/``polygon``), or None when it is
    skipped (logged). With ``segments`` a polygon line is written (parts merged); an annotation without
    polygon (empty, RLE, or fewer than 3 points) gets its box line, as ultralytics' ``convert_coco``."""
    where = f"annotation id {ann.get('id')}"
    try:
        cx, cy, w, h = coco_box_to_yolo(ann["bbox"], width, height)
    except (KeyError, TypeError, ValueError):
        log.add("bad-annotation", source, None, f"{where}: no usable bbox {ann.get('bbox')!r}")
        return None
    if not (w > 0 and h > 0):
        log.add("empty-box", source, None, f"{where}: bbox {ann.get('bbox')!r} has no area")
        return None
    if segments:
        seg = ann.get("segmentation")
        if isinstance(seg, list) and seg and all(isinstance(p, list) for p in seg):
            try:
                if len(seg) > 1:
                    ring = merge_multi_segment(seg)
                else:
                    ring = np.asarray(seg[0], dtype=np.float64).reshape(-1, 2)
            except ValueError:
                log.add("bad-annotation", source, None, f"{where}: polygon with an odd number of coordinates")
                return None
            if len(ring) >= 3:
                flat = (ring / np.array([width, height])).reshape(-1).tolist()
                return "polygon", format_label_line(cls, flat)
            log.add("short-polygon", source, None, f"{where}: polygon with {len(ring)} point(s)", "box written")
        elif isinstance(seg, dict):
            log.add("rle-segmentation", source, None, f"{where}: RLE mask (not converted to a polygon)",
                    "box written")
    return "box", format_label_line(cls, (cx, cy, w, h))


def image_label_lines(anns: Sequence[dict], width: float, height: float, class_of: Dict[int, int],
                      segments: bool, source: str, log: ProblemLog) -> YoloImageLines:
    """The label lines of one image's annotations (in the given order): crowd skipped and counted, unknown
    category ids logged, exact duplicate lines dropped (logged)."""
    out = YoloImageLines()
    seen = set()
    for ann in anns:
        if ann.get("iscrowd", 0):
            out.crowd += 1
            continue
        cls = class_of.get(ann.get("category_id"))  # type: ignore[arg-type]
        if cls is None:
            log.add("unknown-category", source, None,
                    f"annotation id {ann.get('id')}: category_id {ann.get('category_id')!r} not in categories")
            continue
        made = annotation_to_line(ann, cls, width, height, segments, source, log)
        if made is None:
            continue
        kind, line = made
        if line in seen:
            log.add("duplicate-annotation", source, None, f"annotation id {ann.get('id')}: same line as an "
                    "earlier annotation of the image")
            continue
        seen.add(line)
        out.lines.append(line)
        if kind == "box":
            out.boxes += 1
        else:
            out.polygons += 1
    return out


def class_index_map(categories: Sequence[dict], mode: str = "auto",
                    source: str = "") -> Tuple[Dict[int, int], List[str]]:
    """``({category_id: class index}, names)`` of COCO ``categories``.

    ``auto``: the COCO->80 table when the categories are COCO's 80 (ids and names), else ``contiguous``;
    ``coco91``: the table (every id must be one of COCO's 80); ``contiguous``: index = rank of the id among
    the sorted ids (= ``id - 1`` for ids 1..N)."""
    if mode not in CATEGORY_ID_MODES:
        raise ParameterError(f"category id mode {mode!r} is not one of {', '.join(CATEGORY_ID_MODES)}.",
                             fix="use auto, coco91 or contiguous.")
    pairs = []
    for i, c in enumerate(categories):
        try:
            pairs.append((int(c["id"]), str(c.get("name", c["id"]))))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise RecordError(f"{source} categories", i, c, "needs an integer id",
                              fix="give every category an integer id and a name.") from None
    cats = sorted(pairs, key=lambda t: t[0])
    by_id = dict(cats)
    if len(by_id) != len(cats):
        raise ParameterError(f"{source}: category ids repeat.", fix="give each category a distinct id.")
    is_coco = [by_id.get(cid) for cid in COCO80_TO_COCO91] == list(COCO80_NAMES) and len(cats) == 80
    if mode == "coco91" or (mode == "auto" and is_coco):
        unknown = [cid for cid in by_id if cid not in COCO91_TO_COCO80]
        if unknown:
            raise ParameterError(f"{source}: category ids {unknown[:5]} are not COCO ids.",
                                 fix="use --category-ids contiguous.")
        names = [by_id.get(cid, COCO80_NAMES[i]) for i, cid in enumerate(COCO80_TO_COCO91)]
        return {cid: COCO91_TO_COCO80[cid] for cid in by_id}, names
    return {cid: i for i, (cid, _) in enumerate(cats)}, [n for _, n in cats]


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class CocoFromYoloOptions:
    """Options of ``coco-from-yolo`` (rules: :mod:`converters.yolo_files`)."""

    splits: Optional[Tuple[str, ...]] = None
    names: Optional[str] = None
    task: str = "auto"
    category_ids: str = "auto"
    outside: str = "clip"
    decimals: int = 2
    verify_images: bool = False
    source: str = "auto"
    workers: int = 1
    strict: bool = False

    def check(self) -> None:
        """Raise :class:`ParameterError` for an out-of-range option."""
        for name, value, allowed in (("task", self.task, TASKS), ("category_ids", self.category_ids,
                                     CATEGORY_ID_MODES), ("outside", self.outside, OUTSIDE_ACTIONS),
                                     ("source", self.source, SOURCES)):
            if value not in allowed:
                raise ParameterError(f"{name}={value!r} is not one of {', '.join(allowed)}.",
                                     fix=f"use one of {', '.join(allowed)}.")
        if self.workers < 1:
            raise ParameterError(f"workers={self.workers} must be at least 1.", fix="use --workers 1 or more.")
        if not 0 <= self.decimals <= 10:
            raise ParameterError(f"decimals={self.decimals} must be in 0..10.", fix="use --decimals 2.")


@dataclass(frozen=True)
class YoloFromCocoOptions:
    """Options of ``yolo-from-coco``: ``segments`` writes polygon lines; ``category_ids`` as in
    :func:`converters.yolo.class_index_map`; ``split`` defaults to the JSON stem without ``instances_``;
    ``strict`` makes any problem fatal (nothing written)."""

    segments: bool = False
    category_ids: str = "auto"
    split: Optional[str] = None
    strict: bool = False


# --------------------------------------------------------------------------- load / save entry points


def coco_from_yolo(root: PathLike, options: Optional[CocoFromYoloOptions] = None, progress: bool = False):
    """COCO dicts and summaries of the YOLO dataset ``root``: a list of :class:`~converters.yolo_files.SplitResult`
    (``split``, ``coco``, ``summary``), one per split. See :class:`CocoFromYoloOptions`."""
    from .yolo_files import convert_dataset

    return convert_dataset(root, options or CocoFromYoloOptions(), progress=progress)


def save_coco_from_yolo(root: PathLike, out_dir: Optional[PathLike] = None,
                        options: Optional[CocoFromYoloOptions] = None, progress: bool = False):
    """Convert ``root`` and write ``<out_dir or ROOT/annotations>/instances_<split>.json`` atomically per split;
    returns the list of split summaries (with ``out`` set)."""
    from .yolo_files import save_dataset

    return save_dataset(root, out_dir, options or CocoFromYoloOptions(), progress=progress)


def yolo_from_coco(coco: dict, options: Optional[YoloFromCocoOptions] = None, source: str = "<coco>"):
    """Label files of a COCO dict: ``(labels, names, summary)`` with ``labels`` mapping each image's label path
    (``file_name`` with ``.txt``) to its text. See :class:`YoloFromCocoOptions`."""
    from .yolo_files import build_labels

    return build_labels(coco, options or YoloFromCocoOptions(), source)


def save_yolo_from_coco(ann_json: PathLike, out_root: PathLike, options: Optional[YoloFromCocoOptions] = None,
                        progress: bool = False):
    """Write ``OUT/labels/<split>/*.txt`` (the split folder replaced as a whole) and ``OUT/data.yaml``;
    returns the summary."""
    from .yolo_files import save_labels

    return save_labels(ann_json, out_root, options or YoloFromCocoOptions(), progress=progress)
