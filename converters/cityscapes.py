"""Cityscapes ``gtFine`` -> COCO instance JSON (the job of mmdetection ``tools/dataset_converters/cityscapes.py``).

Rules (``docs``: ``shared/docs/formats.md`` section 2):

* One annotation per pixel value of ``*_gtFine_instanceIds.png`` (16-bit) whose class is one of the 8
  evaluated instance classes (``hasInstances and not ignoreInEval``: person 24, rider 25, car 26, truck 27,
  bus 28, train 31, motorcycle 32, bicycle 33; the category id is the Cityscapes id). The class of value ``v``
  is ``v // 1000``; values below 1000 are crowd groups (``cargroup`` drawn as 26) and get ``iscrowd=1``.
  Values of other classes (stuff, ``caravan``, ``trailer``) are skipped and counted; values that are no
  Cityscapes class at all are reported as problems (mmdetection crashes on them).
* ``segmentation`` is pycocotools' compressed RLE (``counts`` as str), ``area`` the pixel count and ``bbox``
  pycocotools' ``toBbox`` of that RLE: the same numbers as mmdetection, computed from one column-major
  run-length pass over the map instead of one full-image mask per instance.
* Frames are sorted by ``<city>/<stem>``; ids are 1-based, ``file_name`` is relative to the dataset root
  (``leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png``) and ``segm_file`` names the ``labelIds`` PNG.
  ``mmdet_compat`` writes mmdetection's file instead: 0-based ids, ``file_name``/``segm_file`` relative to
  ``leftImg8bit/<split>/`` and ``gtFine/<split>/``, its key order, ``json.dumps`` bytes, no ``info``, no
  ``annotations`` key when there are none.
* ``source="polygons"`` rasterises ``*_gtFine_polygons.json`` as cityscapesScripts' ``json2instanceImg``
  does (PIL polygon fill in file order, ``<class>group`` -> plain class id, running instance index per
  class, deleted and negative-id polygons not drawn) and converts that map. Maps drawn from the released
  polygons differ from the released PNGs on about 0.6 % of the pixels (object borders), so the two sources
  never agree exactly; the source is recorded in ``info``.
* Split discovery: a split is present when ``gtFine/<split>/`` exists (absent ones are skipped with a
  warning); present splits must match ``data_layouts/cityscapes.yaml`` (checked before anything is read).
  With ``leftImg8bit/<split>/`` present its ``*_leftImg8bit.png`` files are the frames (as in mmdetection)
  and a frame missing its annotation file, or an annotation file without its image, is skipped and
  reported; without it (the layout makes images optional) the annotation files are the frames, with a warning.
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from evaluators.errors import DataprepError, InputFileError, ParameterError, RecordError

from .coco_json import Conversion, CocoBuilder, write_coco
from .problems import ProblemLog
from .split_outputs import split_output_paths

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class CsLabel:
    """One row of cityscapesScripts' ``helpers/labels.py`` (the fields the conversion needs)."""

    name: str
    id: int
    category: str
    has_instances: bool
    ignore_in_eval: bool


CITYSCAPES_LABELS: Tuple[CsLabel, ...] = tuple(CsLabel(*row) for row in (
    ("unlabeled", 0, "void", False, True), ("ego vehicle", 1, "void", False, True),
    ("rectification border", 2, "void", False, True), ("out of roi", 3, "void", False, True),
    ("static", 4, "void", False, True), ("dynamic", 5, "void", False, True), ("ground", 6, "void", False, True),
    ("road", 7, "flat", False, False), ("sidewalk", 8, "flat", False, False), ("parking", 9, "flat", False, True),
    ("rail track", 10, "flat", False, True), ("building", 11, "construction", False, False),
    ("wall", 12, "construction", False, False), ("fence", 13, "construction", False, False),
    ("guard rail", 14, "construction", False, True), ("bridge", 15, "construction", False, True),
    ("tunnel", 16, "construction", False, True), ("pole", 17, "object", False, False),
    ("polegroup", 18, "object", False, True), ("traffic light", 19, "object", False, False),
    ("traffic sign", 20, "object", False, False), ("vegetation", 21, "nature", False, False),
    ("terrain", 22, "nature", False, False), ("sky", 23, "sky", False, False),
    ("person", 24, "human", True, False), ("rider", 25, "human", True, False), ("car", 26, "vehicle", True, False),
    ("truck", 27, "vehicle", True, False), ("bus", 28, "vehicle", True, False),
    ("caravan", 29, "vehicle", True, True), ("trailer", 30, "vehicle", True, True),
    ("train", 31, "vehicle", True, False), ("motorcycle", 32, "vehicle", True, False),
    ("bicycle", 33, "vehicle", True, False), ("license plate", -1, "vehicle", False, True),
))
NAME_TO_LABEL: Dict[str, CsLabel] = {lab.name: lab for lab in CITYSCAPES_LABELS}
ID_TO_LABEL: Dict[int, CsLabel] = {lab.id: lab for lab in CITYSCAPES_LABELS}
INSTANCE_CLASSES: Tuple[CsLabel, ...] = tuple(lab for lab in CITYSCAPES_LABELS
                                              if lab.has_instances and not lab.ignore_in_eval)
FIRST_INSTANCE_ID = 24  # every smaller pixel value is stuff or void

SPLITS: Tuple[str, ...] = ("train", "val", "test")
SOURCES: Tuple[str, ...] = ("instance-ids", "polygons")
IMG_DIR, GT_DIR = "leftImg8bit", "gtFine"
IMG_SUFFIX = "_leftImg8bit.png"
SEGM_SUFFIX = "_gtFine_labelIds.png"
ANN_SUFFIX: Dict[str, str] = {"instance-ids": "_gtFine_instanceIds.png", "polygons": "_gtFine_polygons.json"}


def out_name(split: str) -> str:
    """mmdetection's output name of ``split``: ``instancesonly_filtered_gtFine_<split>.json``."""
    return f"instancesonly_filtered_gtFine_{split}.json"


@dataclass(frozen=True)
class CityscapesOptions:
    """What to convert and how (see the module docstring)."""

    splits: Tuple[str, ...] = SPLITS
    source: str = "instance-ids"
    mmdet_compat: bool = False
    workers: int = 1
    progress: bool = False

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ParameterError(f"source {self.source!r} is not one of {', '.join(SOURCES)}.",
                                 fix="use --source instance-ids or --source polygons.")
        bad = [s for s in self.splits if s not in SPLITS]
        if bad or not self.splits:
            raise ParameterError(f"splits {list(self.splits)!r}: Cityscapes splits are {', '.join(SPLITS)}.",
                                 fix="pass --splits with some of train, val, test.")
        if len(set(self.splits)) != len(self.splits):
            raise ParameterError(f"splits {list(self.splits)!r} repeat a split.", fix="give each split once.")
        if int(self.workers) < 1:
            raise ParameterError(f"workers={self.workers} must be at least 1.", fix="pass --workers 1 or more.")


@dataclass(frozen=True)
class Instance:
    """One converted instance: its pixel value and its COCO fields."""

    pixel_id: int
    category_id: int
    iscrowd: int
    bbox: Tuple[float, float, float, float]
    area: int
    segmentation: Dict[str, Any]


@dataclass(frozen=True)
class Frame:
    """One Cityscapes frame of a split: ``<city>/<stem>`` and its annotation file (paths as str, picklable)."""

    split: str
    city: str
    stem: str
    ann_path: str


@dataclass
class FrameResult:
    """What a worker returns for one frame (``error`` holds a packed DataprepError)."""

    height: int = 0
    width: int = 0
    instances: List[Instance] = field(default_factory=list)
    ignored: Dict[str, int] = field(default_factory=dict)
    problems: ProblemLog = field(default_factory=ProblemLog)
    error: Optional[Tuple[type, tuple, dict]] = None


@dataclass
class SplitSummary:
    """Counts of one converted split and the path written."""

    split: str
    images: int = 0
    annotations: int = 0
    crowd: int = 0
    per_class: Dict[str, int] = field(default_factory=dict)
    ignored: Dict[str, int] = field(default_factory=dict)
    skipped_images: int = 0
    out: Optional[str] = None

    def line(self) -> str:
        """``train: 2 images, 54 annotations (2 crowd; person=23, ...)``."""
        classes = ", ".join(f"{k}={v}" for k, v in self.per_class.items() if v) or "no objects"
        text = f"{self.split}: {self.images} images, {self.annotations} annotations ({self.crowd} crowd; {classes})"
        if self.ignored:
            text += "; not evaluated, skipped: " + ", ".join(f"{k}={v}" for k, v in sorted(self.ignored.items()))
        if self.skipped_images:
            text += f"; {self.skipped_images} frame(s) skipped (see problems)"
        return text


CityscapesConversion = Conversion  # one COCO dict and summary per split, problems, warnings, options


# --------------------------------------------------------------------------- pure functions


def cityscapes_categories() -> List[dict]:
    """The 8 evaluated classes with their Cityscapes ids and categories (``human`` / ``vehicle``)."""
    return [{"id": lab.id, "name": lab.name, "supercategory": lab.category} for lab in INSTANCE_CLASSES]


def mmdet_categories() -> List[dict]:
    """mmdetection's ``categories``: ``{"id", "name"}`` of the 8 classes."""
    return [{"id": lab.id, "name": lab.name} for lab in INSTANCE_CLASSES]


def label_of_pixel(value: int) -> Optional[CsLabel]:
    """Label of an instanceIds pixel value (``v // 1000`` from 1000 on, ``v`` itself below); None if unknown."""
    value = int(value)
    return ID_TO_LABEL.get(value // 1000 if value >= 1000 else value)


def column_major_runs(ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, ends, values)`` of the maximal runs of equal values of ``ids`` read column by column
    (COCO RLE order); ``ends`` are exclusive flat indices."""
    if ids.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, ids.reshape(-1)
    if ids.dtype in (np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64):
        import cv2

        flat = cv2.transpose(ids).reshape(-1)   # a blocked transpose, ~4x faster than numpy's copy of ids.T
    else:
        flat = np.ascontiguousarray(ids.T).reshape(-1)
    bounds = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.empty(bounds.size + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = bounds
    ends = np.empty_like(starts)
    ends[:-1] = bounds
    ends[-1] = flat.size
    return starts, ends, flat[starts]


def runs_to_counts(starts: np.ndarray, ends: np.ndarray, total: int) -> np.ndarray:
    """Uncompressed COCO RLE counts of the mask made of runs ``[starts, ends)`` (sorted, disjoint, not
    touching) in an image of ``total`` pixels: zeros, ones, zeros, ... as pycocotools' encoder writes them."""
    m = starts.size
    tail = total - int(ends[-1]) if m else total
    counts = np.empty(2 * m + (1 if tail > 0 else 0), dtype=np.uint32)
    if m:
        counts[0] = starts[0]
        counts[2:2 * m:2] = starts[1:] - ends[:-1]
        counts[1:2 * m:2] = ends - starts
    if tail > 0:
        counts[-1] = tail
    return counts


def instances_from_map(ids: np.ndarray) -> Tuple[List[Instance], Dict[str, int], Dict[int, int]]:
    """Instances of an instanceIds map, in increasing pixel value (mmdetection's order).

    Returns ``(instances, ignored, unknown)``: ``ignored`` counts the skipped values per class name (stuff
    given instance values, ``caravan``, ``trailer``), ``unknown`` maps values that are no Cityscapes class to
    their pixel counts."""
    import pycocotools.mask as mask_utils

    if ids.ndim != 2:
        raise ValueError(f"an instance map is 2-D, got shape {ids.shape}")
    height, width = (int(v) for v in ids.shape)
    starts, ends, values = column_major_runs(ids)
    sel = values >= FIRST_INSTANCE_ID
    starts, ends, values = starts[sel], ends[sel], values[sel]
    if values.size == 0:
        return [], {}, {}
    uniq, inverse = np.unique(values, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    offsets = np.zeros(uniq.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(inverse, minlength=uniq.size), out=offsets[1:])
    starts, ends = starts[order], ends[order]

    kept: List[Tuple[int, CsLabel]] = []
    rles: List[dict] = []
    ignored: Counter = Counter()
    unknown: Dict[int, int] = {}
    for k, value in enumerate(uniq.tolist()):
        lo, hi = offsets[k], offsets[k + 1]
        label = label_of_pixel(value)
        if label is None:
            unknown[value] = int((ends[lo:hi] - starts[lo:hi]).sum())
            continue
        if not label.has_instances or label.ignore_in_eval:
            ignored[label.name] += 1
            continue
        kept.append((value, label))
        rles.append({"size": [height, width], "counts": runs_to_counts(starts[lo:hi], ends[lo:hi], height * width)})
    if not kept:
        return [], dict(ignored), unknown
    encoded = mask_utils.frPyObjects(rles, height, width)
    areas = mask_utils.area(encoded).tolist()
    boxes = mask_utils.toBbox(encoded).tolist()
    out = []
    for (value, label), rle, area, box in zip(kept, encoded, areas, boxes):
        rle["counts"] = rle["counts"].decode("ascii")
        out.append(Instance(value, label.id, int(value < 1000), tuple(box), int(area), rle))
    return out, dict(ignored), unknown


def rasterize_polygons(doc: Any, source: str = "<polygons>",
                       problems: Optional[ProblemLog] = None) -> np.ndarray:
    """Instance map (uint16, H x W) of a ``*_gtFine_polygons.json`` document, drawn as cityscapesScripts'
    ``json2instanceImg(..., "ids")``. Unknown labels are reported in ``problems`` and not drawn
    (cityscapesScripts stops there)."""
    from PIL import Image, ImageDraw

    if not isinstance(doc, dict):
        raise RecordError(source, None, doc, "is not a polygons document (a JSON object)",
                          fix="pass a *_gtFine_polygons.json file.")
    try:
        width, height = int(doc["imgWidth"]), int(doc["imgHeight"])
        objects = doc["objects"]
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(source, None, {k: doc[k] for k in list(doc)[:3]},
                          f"needs integer imgWidth, imgHeight and an objects list ({exc!r})",
                          fix="pass a *_gtFine_polygons.json file.") from None
    if width <= 0 or height <= 0 or not isinstance(objects, list):
        raise RecordError(source, None, {"imgWidth": width, "imgHeight": height},
                          "needs a positive image size and an objects list", fix="pass a *_gtFine_polygons.json file.")
    image = Image.new("I", (width, height), NAME_TO_LABEL["unlabeled"].id)
    draw = ImageDraw.Draw(image)
    next_index: Counter = Counter()
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("label"), str) or "polygon" not in obj:
            raise RecordError(f"{source}: objects", index, obj, "needs a 'label' string and a 'polygon' list",
                              fix="repair the object or remove it from the file.")
        if obj.get("deleted", 0):
            continue
        name, group = obj["label"], False
        if name not in NAME_TO_LABEL and name.endswith("group"):
            name, group = name[: -len("group")], True
        label = NAME_TO_LABEL.get(name)
        if label is None:
            if problems is not None:
                problems.add("unknown-label", source, None, f"object #{index} has label {obj['label']!r}, "
                             "which is not a Cityscapes class", action="not drawn")
            continue
        value = label.id
        if label.has_instances and not group:
            value = value * 1000 + next_index[name]
            next_index[name] += 1
        if value < 0:
            continue
        try:
            points = [(p[0], p[1]) for p in obj["polygon"]]
            draw.polygon(points, fill=value)
        except (TypeError, IndexError, ValueError) as exc:
            raise RecordError(f"{source}: objects", index, obj, f"has a polygon that cannot be drawn ({exc})",
                              fix="give the polygon as a list of [x, y] points.") from None
    ids = np.asarray(image, dtype=np.int64)
    if ids.size and (ids.max() > 65535 or ids.min() < 0):
        raise RecordError(source, None, {"max": int(ids.max())}, "gives pixel values outside 0..65535 (more than 1000 instances of "
                          "a class?)", fix="check the file; Cityscapes instance ids are 16-bit.")
    return ids.astype(np.uint16)


def image_record_names(frame: Frame, compat: bool) -> Tuple[str, str]:
    """``(file_name, segm_file)`` of a frame: relative to the dataset root, or mmdetection's (relative to
    ``leftImg8bit/<split>/`` and ``gtFine/<split>/``) with ``compat``."""
    image = f"{frame.city}/{frame.stem}{IMG_SUFFIX}"
    segm = f"{frame.city}/{frame.stem}{SEGM_SUFFIX}"
    if compat:
        return image, segm
    return f"{IMG_DIR}/{frame.split}/{image}", f"{GT_DIR}/{frame.split}/{segm}"


def build_split_coco(split: str, frames: Sequence[Frame], results: Sequence[FrameResult],
                     options: CityscapesOptions) -> Tuple[dict, SplitSummary]:
    """COCO dict (ours, or mmdetection's with ``options.mmdet_compat``) and summary of one split."""
    summary = SplitSummary(split, per_class={lab.name: 0 for lab in INSTANCE_CLASSES})
    names = {lab.id: lab.name for lab in INSTANCE_CLASSES}
    ignored: Counter = Counter()
    if options.mmdet_compat:
        images, annotations = [], []
        for image_id, (frame, res) in enumerate(zip(frames, results)):
            file_name, segm_file = image_record_names(frame, True)
            images.append({"file_name": file_name, "height": res.height, "width": res.width,
                           "segm_file": segm_file, "id": image_id})
            for inst in res.instances:
                annotations.append({"iscrowd": inst.iscrowd, "category_id": inst.category_id,
                                    "bbox": list(inst.bbox), "area": inst.area,
                                    "segmentation": dict(inst.segmentation), "image_id": image_id,
                                    "id": len(annotations)})
            ignored.update(res.ignored)
        coco: dict = {"images": images, "categories": mmdet_categories(), "annotations": annotations}
        if not annotations:
            coco.pop("annotations")
    else:
        builder = CocoBuilder(cityscapes_categories(), info={
            "description": f"Cityscapes gtFine {split}: the 8 evaluated instance classes (Cityscapes ids), "
                           "made by dataprep coco-from-cityscapes",
            "source": options.source, "split": split,
            "file_name": "relative to the dataset root (leftImg8bit/<split>/<city>/...)",
            "segmentation": "compressed RLE; area = pixel count; bbox = pycocotools toBbox; iscrowd=1 for groups"})
        for image_id, (frame, res) in enumerate(zip(frames, results), 1):
            file_name, segm_file = image_record_names(frame, False)
            builder.add_image(image_id, file_name, res.width, res.height, segm_file=segm_file)
            for inst in res.instances:
                builder.add_annotation(image_id, inst.category_id, inst.bbox, inst.area,
                                       segmentation=dict(inst.segmentation), iscrowd=inst.iscrowd)
            ignored.update(res.ignored)
        coco = builder.to_dict()
        annotations = coco["annotations"]
    for res in results:
        for inst in res.instances:
            summary.per_class[names[inst.category_id]] += 1
            summary.crowd += inst.iscrowd
    summary.images, summary.annotations = len(frames), sum(len(r.instances) for r in results)
    summary.ignored = dict(sorted(ignored.items()))
    return coco, summary


def mmdet_json_bytes(coco: dict) -> bytes:
    """The bytes mmengine's ``dump`` writes for ``coco`` (``json.dump`` with default separators)."""
    return json.dumps(coco).encode("utf-8")


# --------------------------------------------------------------------------- loading


def check_input_layout(root: PathLike, splits: Sequence[str] = SPLITS) -> Tuple[List[str], List[str]]:
    """``(present, absent)`` splits of a Cityscapes root: a split is present when ``gtFine/<split>/`` is a
    folder. The present splits (all requested ones when none is) must then match the ``cityscapes`` layout
    (``data_layouts/cityscapes.yaml``: instanceIds PNGs or polygon JSONs; images optional), else
    :class:`LayoutError` shows the tree with fixes."""
    from dataprep.layouts import require_layout

    root = Path(root)
    present = [s for s in splits if (root / GT_DIR / s).is_dir()]
    absent = [s for s in splits if s not in present]
    require_layout("cityscapes", root, splits=present or list(splits))
    return present, absent


def collect_frames(root: PathLike, split: str, source: str, problems: ProblemLog,
                   warnings: List[str]) -> Tuple[List[Frame], int]:
    """``(frames, skipped)``: the frames of ``split`` sorted by ``<city>/<stem>``, and how many frames were
    skipped for a missing image or annotation file (see the module docstring for which files count)."""
    root = Path(root)
    suffix = ANN_SUFFIX[source]
    gt_split, img_split = root / GT_DIR / split, root / IMG_DIR / split
    anns = {f"{p.parent.name}/{p.name[: -len(suffix)]}": p for p in gt_split.glob(f"*/*{suffix}") if p.is_file()}
    if not img_split.is_dir():
        keys, skipped = sorted(anns), 0
        if keys:
            warnings.append(f"{img_split} does not exist: the frames are the {gt_split}/*/*{suffix} files "
                            "(file names derived from them, images not checked)")
    else:
        images = {}
        for p in img_split.glob("*/*.png"):
            if p.name.endswith(IMG_SUFFIX):
                images[f"{p.parent.name}/{p.name[: -len(IMG_SUFFIX)]}"] = p
            else:
                problems.add("unexpected-image-name", p, None, f"does not end with {IMG_SUFFIX}")
        keys, skipped = [], 0
        for key in sorted(images):
            if key in anns:
                keys.append(key)
            else:
                skipped += 1
                problems.add("missing-annotation", images[key], None,
                             f"has no {gt_split / key}{suffix}; frame skipped")
        for key in sorted(set(anns) - set(images)):
            skipped += 1
            problems.add("missing-image", anns[key], None, f"has no {img_split / key}{IMG_SUFFIX}; frame skipped")
    if not keys:
        raise InputFileError(gt_split, f"holds no <city>/*{suffix} file" + (
            f" matching an image of {img_split}" if anns and img_split.is_dir() else ""),
            fix=f"unpack the gtFine {split} annotations there"
                + (", or use --source instance-ids" if source == "polygons" else
                   " (instanceIds PNGs), or use --source polygons") + f", or leave {split} out of --splits.")
    return [Frame(split, key.split("/", 1)[0], key.split("/", 1)[1], str(anns[key])) for key in keys], skipped


def read_instance_map(path: PathLike) -> np.ndarray:
    """A ``*_gtFine_instanceIds.png`` as a 2-D uint16 array; anything else raises with the fix."""
    import cv2

    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    ids = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if ids is None:
        raise InputFileError(path, "is not a readable PNG image",
                             fix="re-extract the file from gtFine_trainvaltest.zip.")
    if ids.dtype != np.uint16 or ids.ndim != 2:
        kind = f"{ids.dtype} with {1 if ids.ndim == 2 else ids.shape[2]} channel(s)"
        raise InputFileError(path, f"is a {kind} image, not a 16-bit single-channel instance map "
                                   "(pixel = class id * 1000 + instance index)",
                             fix="pass the *_gtFine_instanceIds.png files (not labelIds or color PNGs), "
                                 "or use --source polygons.")
    return ids


def read_polygon_map(path: PathLike, problems: ProblemLog) -> np.ndarray:
    """The instance map of a ``*_gtFine_polygons.json`` (see :func:`rasterize_polygons`)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise InputFileError(path, f"is not valid JSON ({exc})",
                             fix="re-extract the file from gtFine_trainvaltest.zip.") from None
    return rasterize_polygons(doc, str(path), problems)


def convert_frame(frame: Frame, source: str = "instance-ids") -> FrameResult:
    """Read one frame and convert it (runs in a worker; errors come back packed, not raised)."""
    result = FrameResult()
    try:
        if source == "polygons":
            ids = read_polygon_map(frame.ann_path, result.problems)
        else:
            ids = read_instance_map(frame.ann_path)
        result.height, result.width = (int(v) for v in ids.shape)
        result.instances, result.ignored, unknown = instances_from_map(ids)
        for value, pixels in unknown.items():
            result.problems.add("unknown-class-id", frame.ann_path, None,
                                f"pixel value {value} (class {value // 1000 if value >= 1000 else value}) is no "
                                f"Cityscapes class ({pixels} pixels)")
    except DataprepError as exc:
        result.error = (type(exc), exc.args, dict(exc.__dict__))
    return result


def _convert_star(job: Tuple[Frame, str]) -> FrameResult:
    return convert_frame(*job)


def _reraise(packed: Tuple[type, tuple, dict]) -> None:
    cls, args, state = packed
    exc = Exception.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    raise exc


def _run_frames(frames: Sequence[Frame], options: CityscapesOptions) -> Iterator[FrameResult]:
    from tqdm import tqdm

    jobs = [(f, options.source) for f in frames]
    bar = tqdm(total=len(jobs), disable=not options.progress, file=sys.stderr, unit="img", desc="cityscapes")
    try:
        if options.workers > 1 and len(jobs) > 1:
            import multiprocessing

            with multiprocessing.get_context().Pool(min(options.workers, len(jobs))) as pool:
                for res in pool.imap(_convert_star, jobs, chunksize=2):
                    bar.update(1)
                    yield res
        else:
            for job in jobs:
                res = _convert_star(job)
                bar.update(1)
                yield res
    finally:
        bar.close()


def convert_cityscapes(root: PathLike, options: CityscapesOptions = CityscapesOptions()) -> CityscapesConversion:
    """Convert every present split of ``root`` (nothing is written; see :func:`save_coco_from_cityscapes`)."""
    root = Path(root)
    present, absent = check_input_layout(root, options.splits)
    problems, warnings = ProblemLog(), []
    for split in absent:
        warnings.append(f"split {split} skipped: {root / GT_DIR / split} does not exist")
    frames, skipped = {}, {}
    for split in present:
        frames[split], skipped[split] = collect_frames(root, split, options.source, problems, warnings)
    ordered = [f for split in present for f in frames[split]]
    results: List[FrameResult] = []
    for frame, res in zip(ordered, _run_frames(ordered, options)):
        if res.error is not None:
            _reraise(res.error)
        problems.extend(res.problems)
        results.append(res)
    cocos, summaries = {}, {}
    start = 0
    for split in present:
        n = len(frames[split])
        cocos[split], summaries[split] = build_split_coco(split, frames[split], results[start:start + n], options)
        summaries[split].skipped_images = skipped[split]
        start += n
    return CityscapesConversion(cocos, summaries, problems, warnings, options)


def default_out_dir(root: PathLike) -> Path:
    """``ROOT/annotations``."""
    return Path(root) / "annotations"


def save_coco_from_cityscapes(root: PathLike, out: Optional[PathLike] = None,
                              options: CityscapesOptions = CityscapesOptions(),
                              strict: bool = False) -> CityscapesConversion:
    """Convert ``root`` and write one JSON per present split (atomically, after every split converted):
    ``out`` is a folder (default ``ROOT/annotations``) or a ``.json`` path (``{split}`` for several splits).
    With ``strict`` any reported problem raises before anything is written."""
    conversion = convert_cityscapes(root, options)
    paths = split_output_paths(out, list(conversion.cocos), default_out_dir(root), out_name)
    conversion.problems.raise_if_strict(strict, f"{root} (cityscapes)")
    if len(set(paths.values())) != len(paths):
        raise ParameterError(f"--out {out} gives the same file to several splits.", fix="put {split} in it.")
    for split, coco in conversion.cocos.items():
        path = paths[split]
        if options.mmdet_compat:
            from dataprep.atomic import open_atomic

            with open_atomic(path, "wb") as fh:
                fh.write(mmdet_json_bytes(coco))
        else:
            write_coco(path, coco)
        conversion.summaries[split].out = str(path)
    return conversion


__all__ = ["CsLabel", "CITYSCAPES_LABELS", "INSTANCE_CLASSES", "SPLITS", "SOURCES", "CityscapesOptions",
           "Instance", "Frame", "FrameResult", "SplitSummary", "CityscapesConversion", "cityscapes_categories",
           "mmdet_categories", "label_of_pixel", "column_major_runs", "runs_to_counts", "instances_from_map",
           "rasterize_polygons", "image_record_names", "build_split_coco", "mmdet_json_bytes",
           "check_input_layout", "collect_frames", "read_instance_map", "read_polygon_map", "convert_frame",
           "convert_cityscapes", "save_coco_from_cityscapes", "out_name", "default_out_dir"]
