"""DOTA ``labelTxt`` / ``annfiles`` -> COCO-style JSON (the job of DOTA_devkit ``DOTA2COCO.py`` and mmrotate
``tools/data/dota/dota2coco.py``).

Pure functions build the records; :func:`load_dota_folder` reads a folder and :func:`save_coco_from_dota`
writes the JSON atomically. Differences from the reference scripts (see ``docs/dota.md`` section 1.5):

* ``segmentation`` holds the **float** coordinates of the label file and ``bbox`` is the float extent of the
  polygon; mmrotate/devkit ``int()``-truncate both (``area`` is the float polygon's shapely area in both).
  ``int(x)`` of our values gives theirs.
* Each annotation also has ``difficulty`` (int, as in the label file; the reference drops it) and ``rbox``
  ``[cx, cy, w, h, angle]``: the minimum-area rectangle of the polygon in the ``le90`` convention (angle in
  radians, ``evaluators.kernels.rbox.poly_to_rbox``).
* Images are sorted by file name (ids 1..N); annotations follow image order, then line order (ids 1..M).
  The reference uses file-system order. The output has no timestamp: the same input gives the same bytes.
* Image files may be ``.png .jpg .jpeg .tif .tiff .bmp`` (the reference hard-codes ``.png``); width and height
  come from the image header only (PIL), the pixels are not decoded.
* A class that is not in the class list is counted in :class:`ConversionSummary` and skipped (the reference
  crashes on ``wordname_15.index``).
* Without images (``no_images=True``) width and height are ``ceil`` of the largest x and y of the image's
  polygons (0 for an image without objects): a lower bound of the true size, good enough where only the
  annotations matter. ``file_name`` is then ``<label stem>.png``.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from evaluators.data.dota import DOTA_V1_CLASSES, DOTA_V15_CLASSES, DOTA_V2_CLASSES, LabelObject, parse_label_text
from evaluators.errors import InputFileError, LayoutError, ParameterError
from evaluators.kernels.rbox import poly_to_rbox

PathLike = Union[str, Path]
ClassesArg = Union[None, str, Sequence[str]]
CLASS_LISTS: Dict[str, Tuple[str, ...]] = {
    "dota-v1.0": DOTA_V1_CLASSES, "dota-v1.5": DOTA_V15_CLASSES, "dota-v2.0": DOTA_V2_CLASSES,
}
IMAGE_EXTS: Tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
LABEL_DIRS: Tuple[str, ...] = ("labelTxt", "annfiles")
ANGLE_VERSION = "le90"
INFO = {"description": "DOTA converted to COCO-style JSON by dataprep coco-from-dota",
        "segmentation": "float polygon of the label file", "rbox": "cx, cy, w, h, angle (le90, radians)"}


@dataclass
class DotaImage:
    """One label file and what is known of its image."""

    file_name: str
    width: int
    height: int
    objects: List[LabelObject]
    label_path: str = ""


@dataclass
class ConversionSummary:
    """Counts of one conversion: per kept class and per skipped (unknown) class."""

    images: int = 0
    annotations: int = 0
    per_class: Dict[str, int] = field(default_factory=dict)
    unknown: Dict[str, int] = field(default_factory=dict)
    out: Optional[str] = None

    def line(self) -> str:
        classes = ", ".join(f"{k}={v}" for k, v in self.per_class.items() if v) or "none"
        text = f"{self.images} images, {self.annotations} annotations ({classes})"
        if self.unknown:
            skipped = ", ".join(f"{k}={v}" for k, v in sorted(self.unknown.items()))
            text += f"; skipped {sum(self.unknown.values())} objects of unknown classes ({skipped})"
        return text


# --------------------------------------------------------------------------- pure functions


def resolve_classes(classes: ClassesArg, found: Sequence[str] = ()) -> List[str]:
    """Class list: ``None``/``"dota-v1.0"`` (default), ``"dota-v1.5"``, ``"dota-v2.0"``, ``"found"`` (the sorted
    names in the labels), a comma-separated string, or a sequence of names."""
    if classes is None:
        return list(DOTA_V1_CLASSES)
    if isinstance(classes, str):
        if classes in CLASS_LISTS:
            return list(CLASS_LISTS[classes])
        if classes == "found":
            return sorted(set(found))
        names = [c.strip() for c in classes.split(",") if c.strip()]
    else:
        names = [str(c) for c in classes]
    if not names:
        raise ParameterError(f"class list {classes!r} is empty.",
                             fix="use dota-v1.0, dota-v1.5, dota-v2.0, found, or comma-separated names.")
    dup = [n for n, k in Counter(names).items() if k > 1]
    if dup:
        raise ParameterError(f"class list repeats {', '.join(dup)}.", fix="give each class once.")
    return names


def categories(names: Sequence[str]) -> List[dict]:
    """COCO categories, ids 1..K in list order, ``supercategory`` = name (as the reference)."""
    return [{"id": i, "name": n, "supercategory": n} for i, n in enumerate(names, 1)]


def polygon_area(poly: Sequence[float]) -> float:
    """Shapely area of the float polygon (what mmrotate's dota2coco writes)."""
    from shapely.geometry import Polygon

    return float(Polygon(np.asarray(poly, dtype=np.float64).reshape(4, 2)).area)


def poly_bbox(poly: Sequence[float]) -> List[float]:
    """``[xmin, ymin, w, h]`` of the polygon's extent (floats)."""
    xs, ys = poly[0::2], poly[1::2]
    x0, y0 = min(xs), min(ys)
    return [float(x0), float(y0), float(max(xs) - x0), float(max(ys) - y0)]


def size_from_polygons(objects: Sequence[LabelObject]) -> Tuple[int, int]:
    """``(width, height)`` when there is no image: ceil of the largest coordinates (0 without objects)."""
    if not objects:
        return 0, 0
    return (max(0, math.ceil(max(max(o.poly[0::2]) for o in objects))),
            max(0, math.ceil(max(max(o.poly[1::2]) for o in objects))))


def build_coco(images: Sequence[DotaImage], classes: ClassesArg = None) -> Tuple[dict, ConversionSummary]:
    """COCO dict and summary of ``images`` (sorted here by file name)."""
    ordered = sorted(images, key=lambda im: im.file_name)
    dup = [n for n, k in Counter(im.file_name for im in ordered).items() if k > 1]
    if dup:
        raise ParameterError(f"image file name {dup[0]!r} appears more than once.",
                             fix="keep one label file per image.")
    names = resolve_classes(classes, [o.name for im in ordered for o in im.objects])
    cat_id = {n: i for i, n in enumerate(names, 1)}
    summary = ConversionSummary(per_class={n: 0 for n in names})
    unknown: Counter = Counter()
    image_records, annotations = [], []
    for image_id, im in enumerate(ordered, 1):
        image_records.append({"file_name": im.file_name, "id": image_id, "width": int(im.width),
                              "height": int(im.height)})
        kept = [o for o in im.objects if o.name in cat_id]
        unknown.update(o.name for o in im.objects if o.name not in cat_id)
        if not kept:
            continue
        rboxes = poly_to_rbox(np.array([o.poly for o in kept], dtype=np.float64), ANGLE_VERSION)
        for obj, rbox in zip(kept, rboxes):
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": cat_id[obj.name],
                "segmentation": [[float(v) for v in obj.poly]], "bbox": poly_bbox(obj.poly),
                "area": polygon_area(obj.poly), "iscrowd": 0, "difficulty": int(obj.difficulty),
                "rbox": [float(v) for v in rbox],
            })
            summary.per_class[obj.name] += 1
    summary.images, summary.annotations = len(image_records), len(annotations)
    summary.unknown = dict(sorted(unknown.items()))
    coco = {"info": dict(INFO), "images": image_records, "categories": categories(names),
            "annotations": annotations}
    return coco, summary


# --------------------------------------------------------------------------- loading


def resolve_source(src: PathLike, images_dir: Optional[PathLike] = None) -> Tuple[Path, Optional[Path]]:
    """``(label folder, images folder or None)`` of a split root (``images/`` + ``labelTxt/`` or ``annfiles/``)
    or of a label folder (its images: ``images_dir``, else ``../images`` when that exists)."""
    src = Path(src)
    if not src.is_dir():
        raise InputFileError(src, "is not a folder" if src.exists() else "does not exist",
                             fix="pass a DOTA split root (images/ + labelTxt/ or annfiles/) or a label folder.")
    found = [src / d for d in LABEL_DIRS if (src / d).is_dir()]
    if len(found) > 1:
        raise InputFileError(src, "has both labelTxt/ and annfiles/",
                             fix="pass the label folder itself (and --images DIR).")
    if found:
        labels = found[0]
        images = Path(images_dir) if images_dir is not None else src / "images"
    else:
        labels = src
        images = Path(images_dir) if images_dir is not None else src.parent / "images"
        if images_dir is None and not images.is_dir():
            images = None  # type: ignore[assignment]
    if not any(labels.glob("*.txt")):
        if not found:
            explain_layout(src)
        raise InputFileError(labels, "holds no .txt label files",
                             fix="pass a split root with labelTxt/ or annfiles/, or the label folder itself.")
    return labels, images


def explain_layout(src: Path) -> None:
    """``src`` has no labels of its own: if it holds a DOTA tree (a root with train/ val/, or a split whose labels
    are misplaced), raise an error with the ``dota`` layout report; return when nothing of DOTA is there."""
    from dataprep.layouts import check_layout

    report = check_layout("dota", src)
    if not any(it.present or it.misplaced for it in report.items):
        return
    if report.ok and not report.single_split:
        splits = [s for s in report.splits + report.optional_splits
                  if any(it.present and it.path.startswith(f"{s}/") for it in report.items)]
        raise LayoutError("dota", src, report.render(),
                          fix=f"{src} is a DOTA root: pass one split folder, e.g. {src / splits[0]}.")
    raise LayoutError("dota", src, report.render(), fix="apply the numbered fixes, then run again.")


def find_image(images_dir: Path, stem: str) -> Optional[Path]:
    """The image of label ``stem`` in ``images_dir`` (first of :data:`IMAGE_EXTS`, either case)."""
    for ext in IMAGE_EXTS:
        for cand in (images_dir / f"{stem}{ext}", images_dir / f"{stem}{ext.upper()}"):
            if cand.is_file():
                return cand
    return None


def image_size(path: Path) -> Tuple[int, int]:
    """``(width, height)`` from the image header (no decoding; no pixel limit, DOTA images reach 20000 px)."""
    from PIL import Image

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except OSError as exc:
        raise InputFileError(path, f"is not a readable image ({exc})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def read_label_file(path: Path) -> List[LabelObject]:
    """Objects of one label file; a malformed line raises with the file and line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read the label file ({exc})") from None
    return parse_label_text(text, str(path))


def load_dota_folder(src: PathLike, images_dir: Optional[PathLike] = None,
                     no_images: bool = False) -> List[DotaImage]:
    """Every label file of ``src`` with its image's file name and size."""
    labels, images = resolve_source(src, images_dir)
    if not no_images and images_dir is None and labels.parent == Path(src):
        from dataprep.layouts import require_layout

        require_layout("dota", src, splits=["."])  # a split root: images/ + labelTxt/ or annfiles/
    if not no_images:
        if images is None:
            raise InputFileError(labels, "is a label folder without an images/ folder beside it",
                                 fix="pass --images DIR, or --no-images to take sizes from the polygons.")
        if not images.is_dir():
            raise InputFileError(images, "does not exist (needed for image sizes)",
                                 fix="pass --images DIR, or --no-images to take sizes from the polygons.")
    out = []
    for path in sorted(labels.glob("*.txt")):
        objects = read_label_file(path)
        if no_images:
            width, height = size_from_polygons(objects)
            file_name = f"{path.stem}.png"
        else:
            image = find_image(images, path.stem)  # type: ignore[arg-type]
            if image is None:
                raise InputFileError(path, f"has no image {path.stem}{{{','.join(IMAGE_EXTS)}}} in {images}",
                                     fix="add the image, pass --images DIR, or --no-images.")
            width, height = image_size(image)
            file_name = image.name
        out.append(DotaImage(file_name, width, height, objects, str(path)))
    return out


def convert_dota(src: PathLike, images_dir: Optional[PathLike] = None, classes: ClassesArg = None,
                 no_images: bool = False) -> Tuple[dict, ConversionSummary]:
    """COCO dict and summary of the DOTA folder ``src``."""
    return build_coco(load_dota_folder(src, images_dir, no_images), classes)


def dota_to_coco(root_or_label_dir: PathLike, images_dir: Optional[PathLike] = None, classes: ClassesArg = None,
                 no_images: bool = False) -> dict:
    """COCO-style dict of a DOTA split root or label folder (see the module docstring for the rules)."""
    return convert_dota(root_or_label_dir, images_dir, classes, no_images)[0]


def default_out(src: PathLike) -> Path:
    """``SRC/annotations/dota_coco.json`` for a split root; beside the label folder for a label folder."""
    src = Path(src)
    base = src if any((src / d).is_dir() for d in LABEL_DIRS) else src.parent
    return base / "annotations" / "dota_coco.json"


def save_coco_from_dota(src: PathLike, out_json: Optional[PathLike] = None, images_dir: Optional[PathLike] = None,
                        classes: ClassesArg = None, no_images: bool = False) -> ConversionSummary:
    """Convert ``src`` and write the JSON atomically to ``out_json`` (default :func:`default_out`)."""
    from dataprep.atomic import write_json_atomic

    coco, summary = convert_dota(src, images_dir, classes, no_images)
    out = Path(out_json) if out_json is not None else default_out(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, coco, indent=False)
    summary.out = str(out)
    return summary
