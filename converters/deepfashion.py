"""DeepFashion In-shop Clothes Retrieval -> COCO JSON (``shared/docs/formats.md`` section 4).

Two sources, one COCO file per partition (train, query, gallery):

* ``bbox`` (default): ``Anno/list_bbox_inshop.txt`` + ``Eval/list_eval_partition.txt`` (+ optional
  ``Anno/list_landmarks_inshop.txt``). Each list has the row count on line 1, the column names on line 2, then
  whitespace-separated rows, read by position (the second column is named ``source_type`` in some copies).
  One image per partition row, in file order, ids 1..N per partition; ``file_name`` is the image name as
  written (``img/WOMEN/...``, relative to ``Img/``); width and height come from the image header when
  ``Img/`` holds the image, else 256 x 256 (the size of every ``img/`` image). One annotation per image:
  category = clothes type (1 upper-body, 2 lower-body, 3 full-body), ``bbox = [x_1, y_1, x_2 - x_1,
  y_2 - y_1]`` in the 256 x 256 ``img/`` frame (corners taken as given, no +1), ``area = w * h``,
  ``attributes = {pose_type, item_id}`` (+ ``variation_type`` with landmarks). With the landmark list each
  annotation gets COCO ``keypoints`` in its category's landmark order (6 upper, 4 lower, 8 full-body),
  visibility 0 visible -> 2, 1 occluded -> 1, 2 truncated -> 0 (x = y = 0), and ``num_keypoints``; an image
  without a usable landmark row gets all-zero keypoints (reported).
* ``segmentation``: ``Anno/segmentation/DeepFashion_segmentation_<partition>.json`` (mmdetection's files),
  validated and normalised: categories must be named from mmdetection's 15 classes and become ids 1..15 in
  that order (annotations remapped by name); image and annotation ids become 1..N / 1..M in file order
  (duplicate image ids are an error); a missing ``iscrowd`` is 0; a missing or malformed ``area`` is
  pycocotools' pixel area of the segmentation and a missing ``bbox`` is the polygon's vertex extent (or the
  RLE's ``toBbox``); ``file_name`` is resolved under ``Img/`` (as written, then under ``img_highres/`` and
  ``img/``) and rewritten relative to ``Img/``; missing sizes are read from the image header.

The root is checked against ``data_layouts/deepfashion-inshop.yaml`` before anything is read. Bad rows are
reported (file and line) and skipped; a row count that differs from line 1, an unknown partition name or a
missing header line stops the conversion before anything is written.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from evaluators.errors import InputFileError, LayoutError, ParameterError, RecordError

from .coco_json import Conversion, CocoBuilder, make_categories, write_coco
from .problems import ProblemLog
from .split_outputs import split_output_paths

PathLike = Union[str, os.PathLike]

PARTITIONS: Tuple[str, ...] = ("train", "query", "gallery")
SOURCES: Tuple[str, ...] = ("bbox", "segmentation")
BBOX_LIST = "Anno/list_bbox_inshop.txt"
PARTITION_LIST = "Eval/list_eval_partition.txt"
LANDMARK_LIST = "Anno/list_landmarks_inshop.txt"
SEGMENTATION_JSON = "Anno/segmentation/DeepFashion_segmentation_{split}.json"
IMAGE_DIR = "Img"
IMG_SIZE = (256, 256)  # every Img/img/ image: centred and resized to 256 x 256

CLOTHES_TYPES: Tuple[str, ...] = ("upper-body", "lower-body", "full-body")  # clothes_type 1, 2, 3
POSE_TYPES: Dict[int, str] = {1: "frontal", 2: "side", 3: "back", 4: "zoom-out", 5: "zoom-in", 6: "stand-alone"}
LANDMARKS: Dict[int, Tuple[str, ...]] = {
    1: ("left collar", "right collar", "left sleeve", "right sleeve", "left hem", "right hem"),
    2: ("left waistline", "right waistline", "left hem", "right hem"),
    3: ("left collar", "right collar", "left sleeve", "right sleeve", "left waistline", "right waistline",
        "left hem", "right hem"),
}
VISIBILITY_TO_COCO: Dict[int, int] = {0: 2, 1: 1, 2: 0}  # visible, occluded, truncated -> COCO v
MMDET_CLASSES: Tuple[str, ...] = ("top", "skirt", "leggings", "dress", "outer", "pants", "bag", "neckwear",
                                  "headwear", "eyeglass", "belt", "footwear", "hair", "skin", "face")


def out_name(source: str) -> Any:
    """``split -> file name``: ``deepfashion_<split>.json`` (bbox) or ``deepfashion_segmentation_<split>.json``."""
    prefix = "deepfashion_" if source == "bbox" else "deepfashion_segmentation_"
    return lambda split: f"{prefix}{split}.json"


@dataclass(frozen=True)
class DeepFashionOptions:
    """Which source to convert and whether to show progress."""

    source: str = "bbox"
    progress: bool = False

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ParameterError(f"source {self.source!r} is not one of {', '.join(SOURCES)}.",
                                 fix="use --source bbox or --source segmentation.")


@dataclass(frozen=True)
class BoxRow:
    """One row of ``list_bbox_inshop.txt``."""

    line: int
    image_name: str
    clothes_type: int
    pose_type: int
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class PartitionRow:
    """One row of ``list_eval_partition.txt``."""

    line: int
    image_name: str
    item_id: str
    status: str


@dataclass(frozen=True)
class LandmarkRow:
    """One row of ``list_landmarks_inshop.txt``: ``points`` are ``(visibility, x, y)`` in file order."""

    line: int
    image_name: str
    clothes_type: int
    variation_type: int
    points: Tuple[Tuple[int, float, float], ...]


@dataclass
class PartitionSummary:
    """Counts of one written partition."""

    split: str
    images: int = 0
    annotations: int = 0
    per_class: Dict[str, int] = field(default_factory=dict)
    keypoints: int = 0
    recomputed: Dict[str, int] = field(default_factory=dict)
    out: Optional[str] = None

    def line(self) -> str:
        """``train: 3 images, 3 annotations (upper-body=1, ...)``."""
        classes = ", ".join(f"{k}={v}" for k, v in self.per_class.items() if v) or "no objects"
        text = f"{self.split}: {self.images} images, {self.annotations} annotations ({classes})"
        if self.keypoints:
            text += f"; {self.keypoints} with keypoints"
        if self.recomputed:
            text += "; recomputed " + ", ".join(f"{k}={v}" for k, v in sorted(self.recomputed.items()))
        return text


DeepFashionConversion = Conversion  # one COCO dict and summary per split, problems, warnings, options


# --------------------------------------------------------------------------- txt lists (pure)


def parse_list_text(text: str, source: str, what: str) -> List[Tuple[int, List[str]]]:
    """Rows ``(line number, fields)`` of a DeepFashion list: line 1 = row count, line 2 = column names.
    A missing count or header, or a count that differs from the rows present, raises ``InputFileError``."""
    lines = text.splitlines()
    fix = f"re-extract {what} from the DeepFashion In-shop archive (line 1: row count, line 2: column names)."
    first = lines[0].strip() if lines else ""
    if not first.isdigit():
        raise InputFileError(f"{source}:1", f"should hold the number of rows, found {first[:60]!r}", fix=fix)
    declared = int(first)
    header = lines[1].split() if len(lines) > 1 else []
    if declared and (not header or header[0].lower().startswith("img/") or header[0].lower().endswith(".jpg")):
        raise InputFileError(f"{source}:2", f"should hold the column names, found {' '.join(header)[:60]!r}",
                             fix=fix)
    rows = [(n, line.split()) for n, line in enumerate(lines[2:], 3) if line.strip()]
    if len(rows) != declared:
        raise InputFileError(source, f"line 1 declares {declared} rows but the file has {len(rows)}",
                             fix=f"the file is truncated or was edited: {fix}")
    return rows


def _numbers(fields: Sequence[str], cast: type) -> Optional[List[Any]]:
    """``fields`` as ints or floats (zero-padded ``065`` is fine), or None when one is not a number."""
    try:
        return [cast(f) for f in fields]
    except ValueError:
        return None


def parse_bbox_list(text: str, source: str, problems: ProblemLog) -> List[BoxRow]:
    """Rows of ``list_bbox_inshop.txt`` (``image_name clothes_type pose_type x_1 y_1 x_2 y_2``); malformed
    rows are reported and skipped."""
    out = []
    for line, fields in parse_list_text(text, source, BBOX_LIST):
        if len(fields) != 7:
            problems.add("bad-line", source, line, f"{len(fields)} columns, expected 7 "
                         "(image_name clothes_type pose_type x_1 y_1 x_2 y_2)")
            continue
        types, coords = _numbers(fields[1:3], int), _numbers(fields[3:], float)
        if types is None or coords is None:
            problems.add("bad-line", source, line, f"non-numeric value in {' '.join(fields[1:])!r}")
            continue
        if types[0] not in (1, 2, 3):
            problems.add("bad-clothes-type", source, line, f"clothes_type {types[0]} is not 1, 2 or 3")
            continue
        if types[1] not in POSE_TYPES:
            problems.add("bad-pose-type", source, line, f"pose_type {types[1]} is not in 1..6")
            continue
        out.append(BoxRow(line, fields[0], types[0], types[1], *coords))
    return out


def parse_partition_list(text: str, source: str, problems: ProblemLog) -> List[PartitionRow]:
    """Rows of ``list_eval_partition.txt`` (``image_name item_id evaluation_status``); an unknown status
    raises (the file is not the In-shop partition list), malformed rows are reported and skipped."""
    out = []
    for line, fields in parse_list_text(text, source, PARTITION_LIST):
        if len(fields) != 3:
            problems.add("bad-line", source, line, f"{len(fields)} columns, expected 3 "
                         "(image_name item_id evaluation_status)")
            continue
        if fields[2] not in PARTITIONS:
            raise InputFileError(f"{source}:{line}", f"evaluation_status {fields[2]!r} is not one of "
                                 f"{', '.join(PARTITIONS)}",
                                 fix="pass the In-shop Eval/list_eval_partition.txt (the Consumer-to-shop and "
                                     "Category benchmarks use other partitions), or correct the line.")
        out.append(PartitionRow(line, fields[0], fields[1], fields[2]))
    return out


def parse_landmark_list(text: str, source: str, problems: ProblemLog) -> List[LandmarkRow]:
    """Rows of ``list_landmarks_inshop.txt`` (``image_name clothes_type variation_type`` then 1..8 triples
    ``visibility x y``); malformed rows are reported and skipped."""
    out = []
    for line, fields in parse_list_text(text, source, LANDMARK_LIST):
        n = len(fields) - 3
        if n < 3 or n % 3 or n > 24:
            problems.add("bad-line", source, line, f"{len(fields)} columns, expected 3 + 3 per landmark (1..8)")
            continue
        types, values = _numbers(fields[1:3], int), _numbers(fields[3:], float)
        if types is None or values is None:
            problems.add("bad-line", source, line, f"non-numeric value in {' '.join(fields[1:])[:60]!r}")
            continue
        vis = [int(v) for v in values[0::3]]
        if any(v not in VISIBILITY_TO_COCO for v in vis) or any(v != int(v) for v in values[0::3]):
            problems.add("bad-landmarks", source, line, f"visibility values {vis} are not all 0, 1 or 2")
            continue
        points = tuple((v, x, y) for v, x, y in zip(vis, values[1::3], values[2::3]))
        out.append(LandmarkRow(line, fields[0], types[0], types[1], points))
    return out


def keypoints_of(row: LandmarkRow, clothes_type: int) -> Optional[Tuple[List[float], int]]:
    """``(keypoints, num_keypoints)`` of a landmark row for a box of ``clothes_type``, or None when the row
    has the wrong number of landmarks (trailing all-zero slots up to 8 are allowed)."""
    names = LANDMARKS[clothes_type]
    points = list(row.points)
    if len(points) > len(names) and all(p == (0, 0.0, 0.0) for p in points[len(names):]):
        points = points[: len(names)]
    if len(points) != len(names):
        return None
    flat: List[float] = []
    visible = 0
    for vis, x, y in points:
        v = VISIBILITY_TO_COCO[vis]
        flat += [float(x), float(y), v] if v else [0.0, 0.0, 0]
        visible += v > 0
    return flat, visible


def bbox_categories(with_keypoints: bool) -> List[dict]:
    """The 3 clothes types as categories 1..3 (``supercategory`` ``clothes``; landmark names as ``keypoints``)."""
    cats = make_categories(CLOTHES_TYPES, supercategory="clothes")
    if with_keypoints:
        for cat in cats:
            cat["keypoints"] = list(LANDMARKS[cat["id"]])
            cat["skeleton"] = []
    return cats


def build_bbox_cocos(boxes: Sequence[BoxRow], partitions: Sequence[PartitionRow],
                     landmarks: Optional[Sequence[LandmarkRow]] = None,
                     sizes: Optional[Mapping[str, Tuple[int, int]]] = None,
                     problems: Optional[ProblemLog] = None, sources: Tuple[str, str, str] = (
                         BBOX_LIST, PARTITION_LIST, LANDMARK_LIST)) -> Tuple[Dict[str, dict], Dict[str, PartitionSummary]]:
    """One COCO dict per partition present (see the module docstring); ``sizes`` maps image names to
    ``(width, height)`` (default 256 x 256)."""
    problems = problems if problems is not None else ProblemLog()
    sizes = sizes or {}
    bbox_src, part_src, lm_src = sources
    by_name: Dict[str, BoxRow] = {}
    for row in boxes:
        if row.image_name in by_name:
            problems.add("duplicate-image", bbox_src, row.line,
                         f"{row.image_name} already on line {by_name[row.image_name].line}")
            continue
        by_name[row.image_name] = row
    marks: Dict[str, LandmarkRow] = {}
    for lm in landmarks or ():
        if lm.image_name in marks:
            problems.add("duplicate-image", lm_src, lm.line,
                         f"{lm.image_name} already on line {marks[lm.image_name].line}")
        elif lm.image_name not in by_name:
            problems.add("landmarks-without-box", lm_src, lm.line, f"{lm.image_name} is not in {bbox_src}",
                         action="ignored")
        else:
            marks[lm.image_name] = lm

    info = {"description": "DeepFashion In-shop boxes (clothes type as category), made by dataprep "
                           "coco-from-deepfashion",
            "bbox": "[x_1, y_1, x_2 - x_1, y_2 - y_1] in the 256x256 img/ frame",
            "attributes": {"pose_type": {str(k): v for k, v in POSE_TYPES.items()}}}
    with_keypoints = landmarks is not None
    builders = {s: CocoBuilder(bbox_categories(with_keypoints), info=dict(info, partition=s)) for s in PARTITIONS}
    summaries = {s: PartitionSummary(s, per_class={c: 0 for c in CLOTHES_TYPES}) for s in PARTITIONS}
    seen: Dict[str, int] = {}
    for part in partitions:
        if part.image_name in seen:
            problems.add("duplicate-image", part_src, part.line, f"{part.image_name} already on line "
                         f"{seen[part.image_name]}")
            continue
        seen[part.image_name] = part.line
        box = by_name.get(part.image_name)
        if box is None:
            problems.add("missing-box", part_src, part.line, f"{part.image_name} has no row in {bbox_src}")
            continue
        w, h = box.x2 - box.x1, box.y2 - box.y1
        if w <= 0 or h <= 0:
            problems.add("empty-box", bbox_src, box.line, f"x_2 <= x_1 or y_2 <= y_1 in "
                         f"({box.x1:g}, {box.y1:g}, {box.x2:g}, {box.y2:g})")
            continue
        width, height = sizes.get(part.image_name, IMG_SIZE)
        if box.x1 < 0 or box.y1 < 0 or box.x2 > width or box.y2 > height:
            problems.add("box-outside-image", bbox_src, box.line, f"({box.x1:g}, {box.y1:g}, {box.x2:g}, "
                         f"{box.y2:g}) leaves the {width}x{height} image", action="kept")
        builder, summary = builders[part.status], summaries[part.status]
        image_id = len(builder.images) + 1
        builder.add_image(image_id, part.image_name, width, height)
        extra: Dict[str, Any] = {"attributes": {"pose_type": box.pose_type, "item_id": part.item_id}}
        if with_keypoints:
            lm = marks.get(part.image_name)
            kps = None
            if lm is None:
                problems.add("missing-landmarks", bbox_src, box.line, f"{part.image_name} has no row in {lm_src}",
                             action="all keypoints 0")
            elif lm.clothes_type != box.clothes_type:
                problems.add("bad-landmarks", lm_src, lm.line, f"clothes_type {lm.clothes_type} differs from "
                             f"{box.clothes_type} in {bbox_src}", action="all keypoints 0")
            else:
                kps = keypoints_of(lm, box.clothes_type)
                if kps is None:
                    problems.add("bad-landmarks", lm_src, lm.line, f"{len(lm.points)} landmarks, but "
                                 f"{CLOTHES_TYPES[box.clothes_type - 1]} has {len(LANDMARKS[box.clothes_type])}",
                                 action="all keypoints 0")
                else:
                    extra["attributes"]["variation_type"] = lm.variation_type
                    summary.keypoints += 1
            extra["keypoints"], extra["num_keypoints"] = kps or ([0.0, 0.0, 0] * len(LANDMARKS[box.clothes_type]), 0)
        builder.add_annotation(image_id, box.clothes_type, [box.x1, box.y1, w, h], w * h, iscrowd=0, **extra)
        summary.per_class[CLOTHES_TYPES[box.clothes_type - 1]] += 1
    for name, box in by_name.items():
        if name not in seen:
            problems.add("missing-partition", bbox_src, box.line, f"{name} is not in {part_src}")
    cocos, out = {}, {}
    for split in PARTITIONS:
        if builders[split].images:
            cocos[split] = builders[split].to_dict()
            summaries[split].images = len(builders[split].images)
            summaries[split].annotations = len(builders[split].annotations)
            out[split] = summaries[split]
    return cocos, out


# --------------------------------------------------------------------------- segmentation JSONs (pure)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _segmentation_kind(seg: Any, height: int, width: int) -> Optional[str]:
    """``polygon`` / ``rle`` when ``seg`` is a valid COCO segmentation for an ``height x width`` image."""
    if isinstance(seg, list) and seg:
        if all(isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0 and all(_is_number(v) for v in p)
               for p in seg):
            return "polygon"
        return None
    if isinstance(seg, dict) and isinstance(seg.get("size"), list) and "counts" in seg:
        if [int(v) for v in seg["size"] if _is_number(v)] != [height, width]:
            return None
        counts = seg["counts"]
        if isinstance(counts, str) or (isinstance(counts, list) and all(isinstance(c, int) for c in counts)):
            return "rle"
    return None


def segmentation_area_bbox(seg: Any, kind: str, height: int, width: int) -> Tuple[float, List[float]]:
    """pycocotools' pixel area of a segmentation, and its box: the vertex extent of a polygon (as COCO),
    ``toBbox`` of an RLE."""
    import pycocotools.mask as mask_utils

    if kind == "polygon":
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
        xs = [v for p in seg for v in p[0::2]]
        ys = [v for p in seg for v in p[1::2]]
        x0, y0 = min(xs), min(ys)
        return float(mask_utils.area(rle)), [float(x0), float(y0), float(max(xs) - x0), float(max(ys) - y0)]
    rle = seg if isinstance(seg["counts"], bytes) else (
        mask_utils.frPyObjects(seg, height, width) if isinstance(seg["counts"], list)
        else {"size": seg["size"], "counts": seg["counts"].encode("ascii")})
    return float(mask_utils.area(rle)), [float(v) for v in mask_utils.toBbox(rle)]


def normalize_segmentation_coco(doc: Any, source: str, split: str, problems: ProblemLog,
                                resolve: Optional[Any] = None) -> Tuple[dict, PartitionSummary]:
    """Validated, normalised copy of one ``DeepFashion_segmentation_<split>.json`` document (rules in the
    module docstring). ``resolve(file_name) -> (file_name, size or None)`` maps file names under ``Img/``."""
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list) for k in ("images", "annotations",
                                                                                     "categories")):
        raise InputFileError(source, "is not a COCO instance file (needs images, annotations and categories lists)",
                             fix="pass mmdetection's DeepFashion_segmentation_<partition>.json files.")
    cat_map: Dict[Any, int] = {}
    names_seen: Dict[str, int] = {}
    for index, cat in enumerate(doc["categories"]):
        if not isinstance(cat, dict) or "id" not in cat or not isinstance(cat.get("name"), str):
            raise RecordError(f"{source}: categories", index, cat, "needs an id and a name",
                              fix="give every category an id and one of the 15 DeepFashion names.")
        if cat["name"] not in MMDET_CLASSES:
            raise RecordError(f"{source}: categories", index, cat, f"name {cat['name']!r} is not one of "
                              f"mmdetection's DeepFashion classes ({', '.join(MMDET_CLASSES)})",
                              fix="rename the category to one of these names.")
        if cat["id"] in cat_map or cat["name"] in names_seen:
            raise RecordError(f"{source}: categories", index, cat, "repeats a category id or name",
                              fix="give each category one unique id and name.")
        cat_map[cat["id"]] = MMDET_CLASSES.index(cat["name"]) + 1
        names_seen[cat["name"]] = index
    builder = CocoBuilder(make_categories(MMDET_CLASSES, supercategory="fashion"), info={
        "description": f"DeepFashion In-shop segmentation ({split}), normalised by dataprep coco-from-deepfashion",
        "source": os.path.basename(source),
        "file_name": "relative to Img/", "category_ids": "1..15 in mmdetection's class order"})
    summary = PartitionSummary(split, per_class={c: 0 for c in MMDET_CLASSES})
    recomputed: Counter = Counter()
    image_map: Dict[Any, Tuple[int, int, int]] = {}
    seen_ids: Dict[Any, int] = {}
    for index, img in enumerate(doc["images"]):
        if not isinstance(img, dict) or not isinstance(img.get("id"), int) or isinstance(img.get("id"), bool) \
                or not isinstance(img.get("file_name"), str):
            raise RecordError(f"{source}: images", index, img, "needs an integer id and a file_name",
                              fix="repair the image record.")
        if img["id"] in seen_ids:
            raise RecordError(f"{source}: images", index, img, f"repeats image id {img['id']} "
                              f"(record #{seen_ids[img['id']]})", fix="give every image a unique id.")
        seen_ids[img["id"]] = index
        file_name, found_size = resolve(img["file_name"]) if resolve else (img["file_name"], None)
        width, height = img.get("width"), img.get("height")
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            if found_size is None:
                problems.add("missing-size", source, None, f"images record #{index} ({img['file_name']}) has no "
                             "valid width/height and its image was not found; its annotations are skipped")
                continue
            width, height = found_size
            recomputed["size"] += 1
        extra = {k: v for k, v in img.items() if k not in ("id", "file_name", "width", "height")}
        new_id = len(builder.images) + 1
        builder.add_image(new_id, file_name, width, height, **extra)
        image_map[img["id"]] = (new_id, height, width)
    for index, ann in enumerate(doc["annotations"]):
        where = f"annotations record #{index}"
        if not isinstance(ann, dict):
            problems.add("bad-annotation", source, None, f"{where} is not an object")
            continue
        if ann.get("image_id") not in image_map:
            problems.add("unknown-image", source, None, f"{where}: image_id {ann.get('image_id')!r} is not an image")
            continue
        if ann.get("category_id") not in cat_map:
            problems.add("unknown-category", source, None,
                         f"{where}: category_id {ann.get('category_id')!r} is not a category")
            continue
        image_id, height, width = image_map[ann["image_id"]]
        seg = ann.get("segmentation")
        kind = _segmentation_kind(seg, height, width)
        if kind is None:
            problems.add("bad-segmentation", source, None, f"{where}: segmentation is missing or is neither "
                         f"polygons (>= 3 points) nor an RLE of size [{height}, {width}]")
            continue
        area, bbox = ann.get("area"), ann.get("bbox")
        bbox_ok = isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox) \
            and bbox[2] >= 0 and bbox[3] >= 0
        if not (_is_number(area) and area >= 0) or not bbox_ok:
            new_area, new_bbox = segmentation_area_bbox(seg, kind, height, width)
            if not (_is_number(area) and area >= 0):
                area = new_area
                recomputed["area"] += 1
            if not bbox_ok:
                bbox = new_bbox
                recomputed["bbox"] += 1
        extra = {k: v for k, v in ann.items()
                 if k not in ("id", "image_id", "category_id", "bbox", "area", "segmentation", "iscrowd")}
        builder.add_annotation(image_id, cat_map[ann["category_id"]], bbox, area, segmentation=seg,
                               iscrowd=int(bool(ann.get("iscrowd", 0))), **extra)
        summary.per_class[MMDET_CLASSES[cat_map[ann["category_id"]] - 1]] += 1
    summary.images, summary.annotations = len(builder.images), len(builder.annotations)
    summary.recomputed = dict(recomputed)
    return builder.to_dict(), summary


# --------------------------------------------------------------------------- loading


def check_input_layout(root: PathLike, source: str = "bbox") -> List[str]:
    """Input files of ``source`` present under an In-shop root. The root must first match the
    ``deepfashion-inshop`` layout (``data_layouts/deepfashion-inshop.yaml``: the bbox lists with ``Img/img/``,
    or the segmentation JSONs with ``Img/img_highres/``); then ``source``'s own files must be there (bbox: both
    lists; segmentation: at least one partition JSON). Raises :class:`LayoutError` with a tree otherwise."""
    from dataprep.layouts import require_layout

    root = Path(root)
    if source == "bbox":
        require_layout("deepfashion-inshop", root)
        rows = [(BBOX_LIST, True), (PARTITION_LIST, True), (LANDMARK_LIST, False)]
    else:
        present = [s for s in PARTITIONS if (root / SEGMENTATION_JSON.format(split=s)).is_file()]
        require_layout("deepfashion-inshop", root, splits=present or None)
        rows = [(SEGMENTATION_JSON.format(split=s), False) for s in PARTITIONS]
    found = [rel for rel, _ in rows if (root / rel).is_file()]
    missing = [rel for rel, required in rows if required and rel not in found]
    if not missing and (source == "bbox" or found):
        return found
    lines = [f"{root}/"]
    for i, (rel, required) in enumerate(rows):
        state = "ok" if rel in found else ("absent (optional)" if source == "bbox" and not required else "MISSING")
        lines.append(f"{'└──' if i == len(rows) - 1 else '├──'} {rel}  {state}")
    fix = ("--source bbox reads Anno/list_bbox_inshop.txt and Eval/list_eval_partition.txt: put them there, or use "
           "--source segmentation" if source == "bbox" else
           "--source segmentation reads Anno/segmentation/DeepFashion_segmentation_{train,query,gallery}.json: "
           "put mmdetection's files there, or use --source bbox")
    raise LayoutError("deepfashion-inshop", root, "\n".join(lines), fix=fix + ".")


def read_text(path: Path) -> str:
    """A list file's text (UTF-8, undecodable bytes replaced); unreadable files raise ``InputFileError``."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})") from None


def image_size(path: Path) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from an image header (no decoding); None when it is not a readable image."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except (OSError, ValueError):
        return None


def read_sizes(root: Path, names: Iterable[str], problems: ProblemLog, warnings: List[str],
               progress: bool = False) -> Dict[str, Tuple[int, int]]:
    """Header sizes of the images ``names`` under ``ROOT/Img`` (none when ``Img/`` is absent: a warning)."""
    from tqdm import tqdm

    img_root = root / IMAGE_DIR
    names = list(dict.fromkeys(names))
    if not img_root.is_dir():
        warnings.append(f"{img_root} does not exist: every image is taken as 256x256 (the img/ size)")
        return {}
    sizes = {}
    for name in tqdm(names, desc="image sizes", unit="img", disable=not progress, file=sys.stderr):
        size = image_size(img_root / name)
        if size is None:
            problems.add("missing-image", img_root / name, None, "not found or not readable; taken as 256x256",
                         action="kept")
        else:
            sizes[name] = size
    return sizes


def convert_bbox_lists(root: PathLike, options: DeepFashionOptions = DeepFashionOptions()) -> DeepFashionConversion:
    """COCO dicts of the In-shop txt lists under ``root`` (nothing is written)."""
    root = Path(root)
    found = check_input_layout(root, "bbox")
    problems, warnings = ProblemLog(), []
    bbox_path, part_path, lm_path = root / BBOX_LIST, root / PARTITION_LIST, root / LANDMARK_LIST
    boxes = parse_bbox_list(read_text(bbox_path), str(bbox_path), problems)
    parts = parse_partition_list(read_text(part_path), str(part_path), problems)
    landmarks = parse_landmark_list(read_text(lm_path), str(lm_path), problems) if LANDMARK_LIST in found else None
    if landmarks is None:
        warnings.append(f"{lm_path} is absent: no keypoints written")
    sizes = read_sizes(root, (p.image_name for p in parts), problems, warnings, options.progress)
    cocos, summaries = build_bbox_cocos(boxes, parts, landmarks, sizes, problems,
                                        (str(bbox_path), str(part_path), str(lm_path)))
    for split in PARTITIONS:
        if split not in cocos:
            warnings.append(f"partition {split} has no convertible image in {part_path}: not written")
    if not cocos:
        raise InputFileError(part_path, "gives no image with a valid box in any partition",
                             fix="check that the two lists name the same images (see the problems above).")
    return DeepFashionConversion(cocos, summaries, problems, warnings, options)


def make_resolver(root: Path, problems: ProblemLog, warnings: List[str]) -> Any:
    """``file_name -> (name relative to Img/, size or None)``: tries ``Img/<name>``, ``<name>`` relative to the
    root, then ``Img/img_highres/<name>`` and ``Img/img/<name>``; unresolved names are reported and kept."""
    img_root = root / IMAGE_DIR
    if not img_root.is_dir():
        warnings.append(f"{img_root} does not exist: file names are kept as they are and not checked")
        return lambda name: (name, None)

    def resolve(name: str) -> Tuple[str, Optional[Tuple[int, int]]]:
        rel = name.replace("\\", "/").lstrip("/")
        if rel.startswith(f"{IMAGE_DIR}/"):
            rel = rel[len(IMAGE_DIR) + 1:]
        for cand in (rel, f"img_highres/{rel}", f"img/{rel}"):
            path = img_root / cand
            if path.is_file():
                return cand, image_size(path)
        problems.add("missing-image", img_root / rel, None, "not found under Img/ (as written, img_highres/, img/)",
                     action="kept")
        return rel, None

    return resolve


def convert_segmentation_jsons(root: PathLike,
                               options: DeepFashionOptions = DeepFashionOptions("segmentation")) -> DeepFashionConversion:
    """Validated, normalised COCO dicts of the segmentation JSONs under ``root`` (nothing is written)."""
    import orjson

    root = Path(root)
    check_input_layout(root, "segmentation")
    problems, warnings = ProblemLog(), []
    resolve = make_resolver(root, problems, warnings)
    cocos, summaries = {}, {}
    for split in PARTITIONS:
        path = root / SEGMENTATION_JSON.format(split=split)
        if not path.is_file():
            warnings.append(f"partition {split} skipped: {path} does not exist")
            continue
        try:
            doc = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise InputFileError(path, f"cannot be read ({exc.strerror or exc})") from None
        except orjson.JSONDecodeError as exc:
            raise InputFileError(path, f"is not valid JSON ({exc})", fix="re-extract the file.") from None
        cocos[split], summaries[split] = normalize_segmentation_coco(doc, str(path), split, problems, resolve)
    return DeepFashionConversion(cocos, summaries, problems, warnings, options)


def convert_deepfashion(root: PathLike, options: DeepFashionOptions = DeepFashionOptions()) -> DeepFashionConversion:
    """COCO dicts of ``root`` from ``options.source`` (nothing is written)."""
    if options.source == "segmentation":
        return convert_segmentation_jsons(root, options)
    return convert_bbox_lists(root, options)


def save_coco_from_deepfashion(root: PathLike, out: Optional[PathLike] = None,
                               options: DeepFashionOptions = DeepFashionOptions(),
                               strict: bool = False) -> DeepFashionConversion:
    """Convert ``root`` and write one JSON per partition atomically, after every partition converted:
    ``out`` is a folder (default ``ROOT/annotations``) or a ``.json`` path (``{split}`` for several)."""
    conversion = convert_deepfashion(root, options)
    conversion.problems.raise_if_strict(strict, f"{root} (deepfashion)")
    paths = split_output_paths(out, list(conversion.cocos), Path(root) / "annotations", out_name(options.source))
    for split, coco in conversion.cocos.items():
        write_coco(paths[split], coco)
        conversion.summaries[split].out = str(paths[split])
    return conversion


__all__ = ["PARTITIONS", "SOURCES", "CLOTHES_TYPES", "POSE_TYPES", "LANDMARKS", "MMDET_CLASSES",
           "DeepFashionOptions", "BoxRow", "PartitionRow", "LandmarkRow", "PartitionSummary", "DeepFashionConversion",
           "parse_list_text", "parse_bbox_list", "parse_partition_list", "parse_landmark_list", "keypoints_of",
           "bbox_categories", "build_bbox_cocos", "segmentation_area_bbox", "normalize_segmentation_coco",
           "check_input_layout", "convert_bbox_lists", "convert_segmentation_jsons", "convert_deepfashion",
           "save_coco_from_deepfashion", "out_name"]
