"""File-system side of the YOLO converters: finding splits, images, label files and class names, reading
image headers, the worker pool, and writing the outputs atomically. Pure logic is in :mod:`converters.yolo`.

Rules (``coco-from-yolo``):

* Layout ``ultralytics-coco`` checked first (:func:`dataprep.layouts.require_layout`).
* Splits: ``--splits`` or, by default, every sub-folder of ``ROOT/images``. A split's images are the image
  files under ``ROOT/images/<split>`` (recursive), or, without that folder, the paths listed in
  ``ROOT/<split>.txt`` (``./x`` and other relative paths are relative to the list file's folder);
  ``source="list"`` / ``"folder"`` forces one of them.
* Labels: the image path with its last ``images`` component replaced by ``labels`` and the suffix by ``.txt``
  (ultralytics' ``img2label_paths``). No label file, or an empty one: an image without objects. Label files
  under ``ROOT/labels/<split>`` that belong to no listed image are reported as ``orphan-label``.
* ``file_name``: the image path relative to ``ROOT/images/<split>`` (COCO's own style, e.g.
  ``000000000009.jpg``); for listed images elsewhere, relative to ROOT, else the absolute path.
* Image size: the header with the EXIF orientation applied (5-8 swap width and height), read by
  :func:`header_size` for JPEG/PNG and by Pillow (lazy open, no pixels decoded) otherwise;
  ``verify_images`` decodes every image with Pillow and skips (and reports) the corrupt ones.
* Image ids: :func:`converters.yolo.assign_image_ids` over every enumerated image (sorted by ``file_name``).
* Class names: ``names`` (a data YAML with ``names`` as list or dict, or a text file with one name per line),
  else the one ``ROOT/*.yaml``/``*.yml`` with ``names`` (several must agree), else - for COCO's own split names
  (``train2017``, ``val2017``, ``test-dev2017``, ``*2014``) - the 80 COCO names, provided every class id is
  below 80. Otherwise a ``ParameterError`` says to pass ``--names``.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import orjson

from evaluators.errors import InputFileError, ParameterError, RecordError

from .problems import ProblemLog
from .yolo import (
    CATEGORY_ID_MODES,
    COCO80_NAMES,
    CocoFromYoloOptions,
    LabelObject,
    YoloFromCocoOptions,
    assign_image_ids,
    class_index_map,
    image_label_lines,
    make_yolo_categories,
    names_from_yaml_value,
    object_to_coco,
    parse_label_text,
)

PathLike = Union[str, "os.PathLike[str]"]
IMAGE_EXTS = frozenset({".bmp", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp"})
LAYOUT = "ultralytics-coco"
COCO_SPLIT_RE = re.compile(r"^(train|val|test|test-dev)20(14|17)$")
EXIF_ORIENTATION = 0x0112


# --------------------------------------------------------------------------- options and results


@dataclass
class SplitSummary:
    """Counts of one converted split; ``problems`` holds every located problem."""

    split: str
    images: int = 0
    background: int = 0
    annotations: int = 0
    boxes: int = 0
    polygons: int = 0
    label_files: int = 0
    problems: ProblemLog = field(default_factory=ProblemLog)
    names_from: str = ""
    category_ids: str = ""
    out: Optional[str] = None

    def lines(self) -> List[str]:
        """Human summary: counts, then one line per problem kind with its first examples."""
        head = (f"{self.split}: {self.images} images ({self.background} without objects), "
                f"{self.annotations} annotations ({self.boxes} boxes, {self.polygons} polygons); "
                f"names from {self.names_from}, category ids {self.category_ids}")
        out = [head]
        if self.problems:
            out.append(f"{self.split}: {self.problems.total} problem(s):")
            out.extend("  " + line for line in self.problems.summary_lines())
        if self.out:
            out.append(f"wrote {self.out}")
        return out


@dataclass
class SplitResult:
    """One converted split: its COCO dict and summary. From :func:`convert_dataset` with ``as_json=True`` the
    dict holds ``images`` and ``annotations`` as lists of their compact JSON encodings (bytes), which
    :func:`write_split_json` joins; the file is the same, byte for byte, as ``orjson.dumps`` of the dict."""

    split: str
    coco: dict
    summary: SplitSummary


# --------------------------------------------------------------------------- discovery


def find_splits(root: Path) -> List[str]:
    """Default splits: the sub-folders of ``ROOT/images`` (sorted)."""
    images = root / "images"
    if not images.is_dir():
        return []
    return sorted(p.name for p in images.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_input_layout(root: PathLike, splits: Optional[Sequence[str]] = None) -> List[str]:
    """Check the ``ultralytics-coco`` layout (:func:`dataprep.layouts.require_layout`) before anything is read
    and return the splits to convert: ``splits``, else the folders under ``ROOT/images``, else the layout's
    default splits (then their list files). A missing part raises :class:`LayoutError` with the tree."""
    from dataprep.layouts import load_layout, require_layout

    chosen = list(splits) if splits else find_splits(Path(root))
    require_layout(LAYOUT, root, chosen or None)
    return chosen or list(load_layout(LAYOUT).default_splits)


def _walk_images(folder: str) -> List[Tuple[str, str]]:
    """``(path relative to folder with '/', full path)`` of the image files under ``folder`` (recursive)."""
    out: List[Tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, folder).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        for f in filenames:
            if os.path.splitext(f)[1].lower() in IMAGE_EXTS:
                out.append((prefix + f, os.path.join(dirpath, f)))
    return out


def label_path_for(image: str) -> Optional[str]:
    """The label file of ``image``: the last ``images`` folder in the path -> ``labels``, suffix -> ``.txt``
    (ultralytics' ``img2label_paths``); None when the path has no ``images`` folder."""
    sep = os.sep
    i = image.rfind(f"{sep}images{sep}")
    if i < 0:
        if not image.startswith(f"images{sep}"):
            return None
        i = -1
    return image[:i + 1] + "labels" + sep + os.path.splitext(image[i + 8:])[0] + ".txt"


@dataclass
class SplitInputs:
    """What one split converts: ``items`` are ``(file_name, image path, label path or None)`` sorted by
    ``file_name``; ``source`` says where they came from."""

    split: str
    items: List[Tuple[str, str, Optional[str]]]
    source: str
    label_dir: Path


def split_inputs(root: Path, split: str, source: str, log: ProblemLog) -> SplitInputs:
    """Images of ``split`` (folder or list file, see the module docstring), logged problems in ``log``."""
    img_dir, lst = root / "images" / split, root / f"{split}.txt"
    use_list = source == "list" or (source == "auto" and not img_dir.is_dir() and lst.is_file())
    if use_list:
        if not lst.is_file():
            raise InputFileError(lst, "does not exist", fix="use --source folder, or write the list file.")
        named = [(_file_name(p, img_dir, root), str(p)) for p in _read_list(lst, log)]
        where = str(lst)
    else:
        if not img_dir.is_dir():
            raise InputFileError(img_dir, "is not a folder", fix="use --source list with ROOT/<split>.txt.")
        named = _walk_images(str(img_dir))
        where = str(img_dir)
    items: Dict[str, Tuple[str, str, Optional[str]]] = {}
    for name, path in named:
        if name in items:
            log.add("duplicate-image", where, None, f"{name} listed more than once", "first kept")
            continue
        lab = label_path_for(path)
        if lab is None:
            log.add("no-label-path", path, None, "path has no 'images' folder, so no label file can be "
                    "found (ultralytics' rule)", "image kept without objects")
        items[name] = (name, path, lab)
    return SplitInputs(split, [items[k] for k in sorted(items)], where, root / "labels" / split)


def _read_list(lst: Path, log: ProblemLog) -> List[Path]:
    try:
        text = lst.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(lst, f"cannot be read ({exc})", fix="check the list file.") from None
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        entry = raw.strip()
        if not entry:
            continue
        p = Path(entry)
        if not p.is_absolute():
            p = lst.parent / (entry[2:] if entry.startswith("./") else entry)
        p = Path(os.path.normpath(p))
        if p.suffix.lower() not in IMAGE_EXTS:
            log.add("not-an-image", str(lst), no, f"{entry!r} has no image suffix")
            continue
        if not p.is_file():
            log.add("missing-image", str(lst), no, f"{entry!r} does not exist")
            continue
        out.append(p)
    return out


def _file_name(p: Path, img_dir: Path, root: Path) -> str:
    for base in (img_dir, root):
        with contextlib.suppress(ValueError):
            return p.relative_to(base).as_posix()
    return p.as_posix()


def find_orphans(label_dir: Path, items: Sequence[Tuple[str, str, Optional[str]]]) -> List[str]:
    """Label files under ``label_dir`` that belong to no image of ``items`` (sorted)."""
    if not label_dir.is_dir():
        return []
    expected = {os.path.normpath(lab) for _, _, lab in items if lab}
    found = []
    for dirpath, dirnames, filenames in os.walk(label_dir, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:
            if f.endswith(".txt"):
                path = os.path.normpath(os.path.join(dirpath, f))
                if path not in expected:
                    found.append(path)
    return sorted(found)


# --------------------------------------------------------------------------- class names


def load_names_file(path: PathLike) -> List[str]:
    """Class names from a data YAML (``names`` list or dict) or a text file (one name per line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot be read ({exc})", fix="pass an existing data YAML to --names.") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputFileError(path, f"is not valid YAML ({str(exc).splitlines()[0]})",
                                 fix="fix the YAML syntax.") from None
        if not isinstance(data, dict) or "names" not in data:
            raise InputFileError(path, "has no 'names' key", fix="add names: [class0, class1, ...].")
        names = names_from_yaml_value(data["names"], str(path))
        nc = data.get("nc")
        if nc is not None and nc != len(names):
            raise InputFileError(path, f"says nc: {nc} but lists {len(names)} names",
                                 fix="make nc equal the number of names (or remove nc).")
        return names
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise InputFileError(path, "lists no class names", fix="write one class name per line.")
    return names


def find_names(root: Path) -> Tuple[Optional[List[str]], str]:
    """``(names, source)`` from the YAML files directly in ``root`` that have ``names``; ``(None, "")`` when
    there is none. Several YAMLs with different names raise :class:`ParameterError`."""
    import yaml

    found: Dict[str, List[str]] = {}
    for p in sorted(list(root.glob("*.yaml")) + list(root.glob("*.yml"))):
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and "names" in data:
            found[str(p)] = load_names_file(p)
    if not found:
        return None, ""
    distinct = {tuple(v) for v in found.values()}
    if len(distinct) > 1:
        raise ParameterError(f"{root}: the YAML files {', '.join(found)} list different class names.",
                             fix="choose one with --names FILE.")
    first = next(iter(found))
    return found[first], first


def resolve_names(root: Path, splits: Sequence[str], names_arg: Optional[str]) -> Tuple[Optional[List[str]], str]:
    """``(names, source)`` by the rule of the module docstring; ``(None, "coco80?")`` means "the COCO names if
    every class id is below 80" (decided after parsing). No names and no COCO split names: ParameterError."""
    if names_arg:
        return load_names_file(names_arg), str(names_arg)
    names, src = find_names(root)
    if names is not None:
        return names, src
    if splits and all(COCO_SPLIT_RE.match(s) for s in splits):
        return None, "coco80?"
    raise ParameterError(f"{root}: no class names: no --names, no ROOT/*.yaml with 'names', and the splits "
                         f"({', '.join(splits)}) are not COCO's (train2017, val2017, ...).",
                         fix="pass --names data.yaml (an ultralytics data YAML with names: [...]) or a text "
                             "file with one class name per line.")


# --------------------------------------------------------------------------- images


def image_size(path: str, verify: bool = False) -> Tuple[int, int, Optional[str]]:
    """``(width, height, note)`` of an image as loaders see it: the header size with EXIF orientation 5-8
    swapping width and height. JPEG and PNG headers are read by :func:`header_size` (no decoder); anything
    else, anything it is unsure of, and every image with ``verify`` go through Pillow. ``note`` tells when the
    EXIF block could not be read (size as stored). Raises ``OSError``/``ValueError`` (among others) for an
    unreadable (or, with ``verify``, corrupt) image."""
    if not verify:
        with open(path, "rb") as fh:
            head = fh.read(HEADER_BYTES[0])
            fast = header_size(head)
            if fast is None and len(head) == HEADER_BYTES[0]:  # a long EXIF/ICC block: read a bit more
                head += fh.read(HEADER_BYTES[1] - len(head))
                fast = header_size(head)
        if fast is not None:
            return fast[0], fast[1], None
    return pillow_size(path, verify)


def pillow_size(path: str, verify: bool = False) -> Tuple[int, int, Optional[str]]:
    """:func:`image_size` through Pillow (lazy open: header only, unless ``verify`` decodes the pixels)."""
    import warnings

    from PIL import Image

    note = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # Pillow warns (at open or getexif) on some corrupt EXIF blocks
        with Image.open(path) as im:
            w, h = im.size
            try:
                if im.format == "PNG":  # getexif() on a PNG decodes the pixels; use the header chunks only
                    raw = im.info.get("exif")
                    exif = Image.Exif() if raw is None else _exif_from_bytes(raw)
                else:
                    exif = im.getexif()
                o = exif.get(EXIF_ORIENTATION, 1)
            except Exception as exc:  # noqa: BLE001 - any broken EXIF: keep the stored size, say so
                o, note = 1, f"EXIF block unreadable ({type(exc).__name__}); size as stored"
            if verify:
                im.load()
    exif_warnings = [str(c.message).strip() for c in caught if "exif" in str(c.message).lower()]
    if exif_warnings and note is None:
        note = f"EXIF block unreadable ({exif_warnings[0]}); orientation {o} used"
    if o in (5, 6, 7, 8):
        w, h = h, w
    return int(w), int(h), note


def _exif_from_bytes(raw: bytes):
    from PIL import Image

    exif = Image.Exif()
    exif.load(raw)
    return exif


HEADER_BYTES = (8192, 65536)  # first read, then at most this much
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PNG_SIG = b"\x89PNG\r\n\x1a\n"


def header_size(head: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` (EXIF orientation applied) from the first bytes of a baseline/progressive JPEG or a
    PNG; None when the bytes are another format, truncated, or hold anything unusual (then Pillow decides).
    JPEG: the SOFn segment, and orientation from the first APP1 ``Exif`` segment before it. PNG: IHDR; a PNG
    with an ``eXIf`` chunk before IDAT returns None."""
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    if head[:8] == _PNG_SIG:
        return _png_size(head)
    return None


def _jpeg_size(b: bytes) -> Optional[Tuple[int, int]]:
    i, n, orient = 2, len(b), 1
    seen_exif = False
    while i + 4 <= n:
        if b[i] != 0xFF:
            return None
        m = b[i + 1]
        if m == 0xFF:  # fill byte
            i += 1
            continue
        if m == 0x01 or 0xD0 <= m <= 0xD8:  # standalone markers
            i += 2
            continue
        if m in (0xD9, 0xDA):  # EOI / SOS before any SOF
            return None
        seg = (b[i + 2] << 8) | b[i + 3]
        if seg < 2:
            return None
        if m == 0xE1 and not seen_exif and b[i + 4:i + 10] == b"Exif\x00\x00":
            seen_exif = True
            if i + 2 + seg > n:
                return None
            o = _tiff_orientation(b[i + 10:i + 2 + seg])
            if o is None:
                return None
            orient = o
        elif m in _SOF:
            if i + 9 > n:
                return None
            h, w = (b[i + 5] << 8) | b[i + 6], (b[i + 7] << 8) | b[i + 8]
            if not (w and h):
                return None
            return (h, w) if orient in (5, 6, 7, 8) else (w, h)
        i += 2 + seg
    return None


def _tiff_orientation(t: bytes) -> Optional[int]:
    """Orientation tag of IFD0 of a TIFF/EXIF block (1 when absent); None when the block looks malformed."""
    import struct

    if len(t) < 8 or t[:2] not in (b"II", b"MM"):
        return None
    e = "<" if t[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(e + "I", t, 4)
    if ifd + 2 > len(t):
        return None
    (count,) = struct.unpack_from(e + "H", t, ifd)
    if ifd + 2 + 12 * count > len(t):
        return None
    for k in range(count):
        tag, typ, cnt = struct.unpack_from(e + "HHI", t, ifd + 2 + 12 * k)
        if tag == EXIF_ORIENTATION:
            if typ != 3 or cnt != 1:
                return None
            return struct.unpack_from(e + "H", t, ifd + 2 + 12 * k + 8)[0]
    return 1


def _png_size(b: bytes) -> Optional[Tuple[int, int]]:
    if len(b) < 24 or b[12:16] != b"IHDR":
        return None
    w, h = int.from_bytes(b[16:20], "big"), int.from_bytes(b[20:24], "big")
    i = 8
    while i + 8 <= len(b):  # look for eXIf before the image data
        length, ctype = int.from_bytes(b[i:i + 4], "big"), b[i + 4:i + 8]
        if ctype == b"IDAT":
            return (w, h) if w and h else None
        if ctype == b"eXIf":
            return None
        i += 12 + length
    return None


# --------------------------------------------------------------------------- the work of one chunk

# Per image: (image record, annotations with "id" still 0, has a label file, polygons) or None (skipped);
# records are dicts, or their JSON bytes (annotations then without "id")
ImageResult = Optional[Tuple[object, list, bool, int]]
ChunkItem = Tuple[str, str, Optional[str], int]  # file_name, image path, label path, image id


def convert_chunk(items: Sequence[ChunkItem], task: str, outside: str, decimals: int, verify: bool,
                  cat_ids: Sequence[int], as_json: bool = False) -> Tuple[List[ImageResult], ProblemLog, int]:
    """Read sizes and labels of ``items`` and build their COCO records (runs in a worker): ``(results, problems,
    largest class index seen)``. ``cat_ids[cls]`` is the category id of class ``cls``; a class beyond it is
    reported and skipped. With ``as_json`` the records are their compact JSON (annotations without the
    ``"id"`` key, which the caller splices in)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # sizes only; large aerial images are fine
    log = ProblemLog()
    out: List[ImageResult] = []
    area_decimals = 2 * decimals + 1
    nc = len(cat_ids)
    top = -1
    dumps = orjson.dumps
    for name, image, label, image_id in items:
        try:
            width, height, note = image_size(image, verify)
        except Exception as exc:  # noqa: BLE001 - any decoder error: report the image, go on
            kind = "corrupt-image" if verify else "unreadable-image"
            log.add(kind, image, None, f"{type(exc).__name__}: {exc}", "image skipped")
            out.append(None)
            continue
        if note:
            log.add("bad-exif", image, None, note, "kept")
        objects: List[LabelObject] = []
        has_label = False
        if label is not None:
            try:
                with open(label, "rb") as fh:
                    text = fh.read().decode("utf-8")
                has_label = True
            except FileNotFoundError:
                text = ""
            except (OSError, UnicodeDecodeError) as exc:
                log.add("unreadable-label", label, None, f"{type(exc).__name__}: {exc}", "image kept without objects")
                text = ""
            if text:
                objects, issues = parse_label_text(text, outside)
                for issue in issues:
                    log.add(issue.kind, label, issue.line, issue.detail, issue.action)
        anns: list = []
        polygons = 0
        for obj in objects:
            cls = obj.cls
            if cls > top:
                top = cls
            if cls >= nc:
                log.add("class-out-of-range", label, obj.line, f"class {cls} but the names have {nc} classes "
                        f"(0..{nc - 1})")
                continue
            cid = cat_ids[cls]
            if obj.kind == "box" and task != "segment":  # inline of object_to_coco for the common case
                cx, cy, w, h = obj.values
                bbox = [round((cx - w / 2) * width, decimals) + 0.0, round((cy - h / 2) * height, decimals) + 0.0,
                        round(w * width, decimals) + 0.0, round(h * height, decimals) + 0.0]
                area, seg = round(bbox[2] * bbox[3], area_decimals), []
            else:
                bbox, area, seg = object_to_coco(obj, width, height, task, decimals)
                polygons += obj.kind == "polygon" and task != "detect"
            if as_json:
                anns.append(dumps({"image_id": image_id, "category_id": cid, "bbox": bbox, "area": area,
                                   "iscrowd": 0, "segmentation": seg}))
            else:
                anns.append({"id": 0, "image_id": image_id, "category_id": cid, "bbox": bbox, "area": area,
                             "iscrowd": 0, "segmentation": seg})
        record = {"id": image_id, "file_name": name, "width": width, "height": height}
        out.append((dumps(record) if as_json else record, anns, has_label, polygons))
    return out, log, top


def _chunk_worker(args: tuple) -> Tuple[List[ImageResult], ProblemLog, int]:
    return convert_chunk(*args)


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def convert_split(inputs: SplitInputs, image_ids: Sequence[int], options: CocoFromYoloOptions,
                  cat_ids: Sequence[int], progress: bool,
                  as_json: bool = False) -> Tuple[list, list, SplitSummary, int]:
    """``(images, annotations, summary, largest class index)`` of one split: chunks of images converted in
    order, in-process (1 worker) or by a process pool; annotation ids 1..M in image order. With ``as_json``
    the records are JSON bytes (see :class:`SplitResult`)."""
    from tqdm import tqdm

    summary = SplitSummary(inputs.split)
    images: list = []
    annotations: list = []
    top = -1
    items = [(n, i, lab, iid) for (n, i, lab), iid in zip(inputs.items, image_ids)]
    size = max(64, min(2048, len(items) // (options.workers * 8) + 1))
    jobs = [(chunk, options.task, options.outside, options.decimals, options.verify_images, cat_ids, as_json)
            for chunk in _chunks(items, size)]
    pool = None
    bar = tqdm(total=len(items), desc=f"coco-from-yolo {inputs.split}", unit="img", disable=not progress,
               file=sys.stderr, leave=False)
    try:
        if options.workers == 1 or len(jobs) <= 1:
            mapped = map(_chunk_worker, jobs)
        else:
            import multiprocessing as mp

            pool = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn").Pool(
                min(options.workers, len(jobs)))
            mapped = pool.imap(_chunk_worker, jobs)
        next_id = 1
        for job, (results, chunk_log, chunk_top) in zip(jobs, mapped):
            summary.problems.extend(chunk_log)
            top = max(top, chunk_top)
            for res in results:
                if res is None:
                    continue
                record, anns, has_label, polygons = res
                images.append(record)
                summary.label_files += has_label
                summary.background += not anns
                summary.polygons += polygons
                if as_json:  # b'{"image_id":...}' -> b'{"id":N,"image_id":...}'
                    annotations.extend(b'{"id":%d,%s' % (k, frag[1:]) for k, frag in enumerate(anns, next_id))
                else:
                    for k, ann in enumerate(anns, next_id):
                        ann["id"] = k
                    annotations.extend(anns)
                next_id += len(anns)
            bar.update(len(job[0]))
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    summary.images, summary.annotations = len(images), len(annotations)
    summary.boxes = summary.annotations - summary.polygons
    return images, annotations, summary, top


# --------------------------------------------------------------------------- coco-from-yolo


def convert_dataset(root: PathLike, options: CocoFromYoloOptions, progress: bool = False,
                    as_json: bool = False) -> List[SplitResult]:
    """Every split of ``root`` as COCO dicts (nothing written; ``as_json``: see :class:`SplitResult`). With
    ``options.strict`` any problem raises :class:`RecordError` naming the file and line."""
    options.check()
    root = Path(root)
    splits = check_input_layout(root, options.splits)
    names, names_from = resolve_names(root, splits, options.names)
    fallback = names is None  # COCO split names without a YAML: the COCO names, if the class ids fit
    if fallback:
        names, names_from = list(COCO80_NAMES), "the 80 COCO names (COCO split names, no YAML found)"
    categories = make_yolo_categories(names, options.category_ids)
    cat_ids = [c["id"] for c in categories]
    done, top = [], -1
    for split in splits:
        log = ProblemLog()
        inputs = split_inputs(root, split, options.source, log)
        image_ids = assign_image_ids([item[0] for item in inputs.items])
        images, annotations, summary, split_top = convert_split(inputs, image_ids, options, cat_ids, progress,
                                                                as_json)
        top = max(top, split_top)
        log.extend(summary.problems)
        for orphan in find_orphans(inputs.label_dir, inputs.items):
            log.add("orphan-label", orphan, None, "label file without an image", "ignored")
        summary.problems = log
        summary.names_from = names_from
        summary.category_ids = _id_note(names, options.category_ids)
        info = {"description": f"YOLO labels of split {split} converted by dataprep coco-from-yolo"}
        coco = {"info": info, "images": images, "annotations": annotations,
                "categories": [dict(c) for c in categories]}
        done.append(SplitResult(split, coco, summary))
    if fallback and top >= len(COCO80_NAMES):
        raise ParameterError(f"{root}: no class names were given and class ids reach {top}, beyond the "
                             "80 COCO classes assumed for COCO split names.",
                             fix="pass --names data.yaml with the dataset's names.")
    for res in done:
        res.summary.problems.raise_if_strict(options.strict, f"{root} split {res.split}")
    return done


def _id_note(names: Sequence[str], mode: str) -> str:
    ids = make_yolo_categories(names, mode)
    return "COCO 1..90 (80->91 map)" if ids and ids[-1]["id"] == 90 and len(ids) == 80 else f"1..{len(ids)}"


def default_out_dir(root: PathLike) -> Path:
    """``ROOT/annotations``."""
    return Path(root) / "annotations"


def usable(results: Sequence[SplitResult]) -> bool:
    """Whether anything usable came out: at least one image, and not zero annotations while label lines were
    skipped (every object line bad)."""
    images = sum(r.summary.images for r in results)
    anns = sum(r.summary.annotations for r in results)
    line_problems = sum(n for r in results for k, n in r.summary.problems.counts.items() if k in _LINE_KINDS)
    return images > 0 and not (anns == 0 and line_problems > 0)


_LINE_KINDS = frozenset({"bad-number", "bad-class", "bad-line", "empty-box", "outside-image",
                         "class-out-of-range"})


def save_dataset(root: PathLike, out_dir: Optional[PathLike], options: CocoFromYoloOptions,
                 progress: bool = False) -> List[SplitSummary]:
    """Convert and write ``instances_<split>.json`` per split (atomically); nothing is written when nothing
    usable came out (the summaries then have ``out=None``)."""
    results = convert_dataset(root, options, progress, as_json=True)
    out = Path(out_dir) if out_dir is not None else default_out_dir(root)
    if usable(results):
        for res in results:
            res.summary.out = str(write_split_json(out / f"instances_{res.split}.json", res.coco))
            res.coco.clear()
    return [r.summary for r in results]


def write_split_json(path: Path, coco: dict) -> Path:
    """Write a COCO dict whose ``images``/``annotations`` are JSON fragments (``as_json``) atomically; the
    bytes equal ``orjson.dumps`` of the same dict with the records as dicts."""
    from dataprep.atomic import open_atomic

    with open_atomic(path, "wb") as fh:
        fh.write(b'{"info":' + orjson.dumps(coco["info"]) + b',"images":[')
        fh.write(b",".join(coco["images"]))
        fh.write(b'],"annotations":[')
        fh.write(b",".join(coco["annotations"]))
        fh.write(b'],"categories":' + orjson.dumps(coco["categories"]) + b"}")
    return path


# --------------------------------------------------------------------------- yolo-from-coco


@dataclass
class LabelSummary:
    """Counts of one ``yolo-from-coco`` run."""

    split: str
    images: int = 0
    label_files: int = 0
    lines: int = 0
    boxes: int = 0
    polygons: int = 0
    crowd: int = 0
    names: List[str] = field(default_factory=list)
    problems: ProblemLog = field(default_factory=ProblemLog)
    out: Optional[str] = None
    yaml: Optional[str] = None

    def summary_lines(self) -> List[str]:
        """Human summary."""
        out = [f"{self.split}: {self.images} images, {self.label_files} label files, {self.lines} lines "
               f"({self.boxes} boxes, {self.polygons} polygons); skipped {self.crowd} crowd annotations; "
               f"{len(self.names)} classes"]
        if self.problems:
            out.append(f"{self.split}: {self.problems.total} problem(s):")
            out.extend("  " + line for line in self.problems.summary_lines())
        if self.out:
            out.append(f"wrote {self.out}")
        if self.yaml:
            out.append(f"wrote {self.yaml}")
        return out


def build_labels(coco: dict, options: YoloFromCocoOptions, source: str = "<coco>",
                 progress: bool = False) -> Tuple[Dict[str, str], List[str], LabelSummary]:
    """``(labels, names, summary)``: ``labels`` maps ``<file_name stem>.txt`` to the file's text for every image
    with a non-crowd annotation kept (an image whose only annotations are crowd gets an empty file, as
    ultralytics); images in the order of ``images``, lines in annotation order."""
    from tqdm import tqdm

    if options.category_ids not in CATEGORY_ID_MODES:
        raise ParameterError(f"category_ids={options.category_ids!r} is not one of "
                             f"{', '.join(CATEGORY_ID_MODES)}.", fix="use auto, coco91 or contiguous.")
    for key in ("images", "annotations", "categories"):
        if not isinstance(coco.get(key), list):
            raise InputFileError(source, f"has no '{key}' list", fix="pass a COCO instances JSON.")
    split = options.split or _split_of(source)
    class_of, names = class_index_map(coco["categories"], options.category_ids, source)
    summary = LabelSummary(split, names=names)
    log = summary.problems
    images: Dict[int, dict] = {}
    for i, img in enumerate(coco["images"]):
        try:
            iid, w, h = img["id"], float(img["width"]), float(img["height"])
            str(img["file_name"])  # must be there
        except (KeyError, TypeError, ValueError):
            raise RecordError(f"{source} images", i, img, "needs id, file_name, width and height",
                              fix="complete the image record.") from None
        if not (w > 0 and h > 0):
            raise RecordError(f"{source} images", i, img, "width and height must be positive",
                              fix="fix the image size.")
        images[iid] = img
    by_image: Dict[int, List[dict]] = {}
    for i, ann in enumerate(coco["annotations"]):
        if not isinstance(ann, dict):
            log.add("bad-annotation", source, None, f"annotation #{i} is not an object: {str(ann)[:60]}")
            continue
        iid = ann.get("image_id")
        if iid not in images:
            log.add("unknown-image", source, None, f"annotation id {ann.get('id')}: image_id {iid!r} not in images")
            continue
        by_image.setdefault(iid, []).append(ann)
    labels: Dict[str, str] = {}
    summary.images = len(images)
    for iid, anns in tqdm(by_image.items(), desc=f"yolo-from-coco {split}", unit="img", disable=not progress,
                          file=sys.stderr, leave=False):
        img = images[iid]
        made = image_label_lines(anns, float(img["width"]), float(img["height"]), class_of, options.segments,
                                 source, log)
        name = str(Path(str(img["file_name"])).with_suffix(".txt").as_posix())
        labels[name] = "".join(line + "\n" for line in made.lines)
        summary.crowd += made.crowd
        summary.boxes += made.boxes
        summary.polygons += made.polygons
    summary.label_files = len(labels)
    summary.lines = summary.boxes + summary.polygons
    return labels, names, summary


def _split_of(source: str) -> str:
    stem = Path(source).stem
    return stem[len("instances_"):] if stem.startswith("instances_") else stem


def read_coco_json(path: PathLike) -> dict:
    """The COCO dict of ``path`` (InputFileError when missing or not JSON)."""
    path = Path(path)
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})", fix="check the path.") from None
    except orjson.JSONDecodeError as exc:
        raise InputFileError(path, f"is not valid JSON ({exc})", fix="pass a COCO instances JSON.") from None
    if not isinstance(data, dict):
        raise InputFileError(path, "is not a JSON object", fix="pass a COCO instances JSON.")
    return data


def write_label_folder(folder: Path, labels: Dict[str, str], progress: bool = False) -> None:
    """Write ``labels`` into a fresh temporary folder beside ``folder``, then swap it in (the old folder, if
    any, is replaced as a whole; a crash leaves the old one untouched)."""
    from tqdm import tqdm

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    for leftover in (tmp, old):
        shutil.rmtree(leftover, ignore_errors=True)
    tmp.mkdir()
    try:
        made = set()
        for name, text in tqdm(labels.items(), desc=f"writing {folder.name}", unit="file", disable=not progress,
                               file=sys.stderr, leave=False):
            path = tmp / name
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not folder.exists():
            os.replace(old, folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


def data_yaml_text(names: Sequence[str], splits: Dict[str, str], source: str) -> str:
    """An ultralytics data YAML: ``path: .``, the split entries, ``nc`` and ``names`` as ``{index: name}``."""
    import yaml

    doc: Dict[str, object] = {"path": "."}
    doc.update(splits)
    doc["nc"] = len(names)
    doc["names"] = {i: str(n) for i, n in enumerate(names)}
    return f"# written by dataprep yolo-from-coco from {Path(source).name}\n" + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _split_key(split: str) -> str:
    for key in ("train", "val", "test"):
        if split.startswith(key):
            return key
    return split


def save_labels(ann_json: PathLike, out_root: PathLike, options: YoloFromCocoOptions,
                progress: bool = False) -> LabelSummary:
    """Write ``OUT/labels/<split>/`` (replaced as a whole) and ``OUT/data.yaml`` (split entries of an existing
    one with the same names are kept; different names raise before anything is written)."""
    import yaml

    from dataprep.atomic import open_atomic

    coco = read_coco_json(ann_json)
    labels, names, summary = build_labels(coco, options, str(ann_json), progress)
    summary.problems.raise_if_strict(options.strict, str(ann_json))
    out_root = Path(out_root)
    yaml_path = out_root / "data.yaml"
    splits: Dict[str, str] = {}
    if yaml_path.is_file():
        try:
            old = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            old = None
        if isinstance(old, dict) and "names" in old:
            old_names = names_from_yaml_value(old["names"], str(yaml_path))
            if old_names != list(names):
                raise ParameterError(f"{yaml_path} lists other class names than {ann_json} ({len(old_names)} vs "
                                     f"{len(names)} classes).", fix="write into another --out folder, or remove "
                                     "the old data.yaml.")
            splits = {k: v for k, v in old.items() if k not in ("path", "nc", "names") and isinstance(v, str)}
    splits[_split_key(summary.split)] = f"images/{summary.split}"
    folder = out_root / "labels" / summary.split
    write_label_folder(folder, labels, progress)
    with open_atomic(yaml_path, "w") as fh:
        fh.write(data_yaml_text(names, splits, str(ann_json)))
    summary.out, summary.yaml = str(folder), str(yaml_path)
    return summary
