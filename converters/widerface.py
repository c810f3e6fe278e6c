"""WIDER FACE to COCO JSON, from the VOC-XML layout (mmdetection's) or from the original txt lists.

Sources (``data_layouts/widerface.yaml``):

* ``voc``: ``WIDER_<split>/Annotations/<id>.xml`` for the ids of ``<split>.txt`` (sovrasov's conversion, as
  mmdetection's ``WIDERFaceDataset`` reads it). Sizes from ``<size>``, the event folder from ``<folder>``.
* ``txt``: ``wider_face_split/wider_face_<split>_bbx_gt.txt`` (records: image path, count, then ``count`` rows of
  ``x1 y1 w h blur expression illumination invalid occlusion pose``; a ``0`` count may be followed by one
  all-zero dummy row). The six attributes are kept per annotation, named in the order of the dataset's
  ``readme.txt``. Sizes from the XML when it is there, else from the image header.

Rules (``shared/docs/formats.md`` 3.4):

* ``bbox = [xmin, ymin, xmax - xmin, ymax - ymin]``: WIDER's boxes were never 1-based, so no -1
  (``voc_minus_one`` reproduces mmdetection's ``int(float(v)) - 1`` shift on the XML corners for parity);
  ``area = w * h``; one category ``face`` with id 1;
* ``file_name = <event>/<id>.jpg`` (relative to ``WIDER_<split>/`` in mmdetection's layout and to
  ``WIDER_<split>/images/`` in the official one; ``file_prefix`` is prepended);
* ``iscrowd = 1`` (ignored by COCO evaluation) for ``difficult`` faces, with ``invalid_as_crowd`` for faces
  marked invalid, and with ``min_size`` for faces narrower or lower than it (mmdetection's training filter
  ``bbox_min_size``: this changes evaluation, so it is off by default);
* degenerate boxes (w <= 0 or h <= 0) are dropped and counted, located by file and line;
* image ids 1..N in list order; deterministic output.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from evaluators.errors import InputFileError, ParameterError, RecordError

from .coco_json import CocoBuilder, make_categories, write_coco
from .problems import ProblemLog
from .voc_xml import VocAnnotation, read_voc_xml

PathLike = Union[str, os.PathLike]
ATTRIBUTES: Tuple[str, ...] = ("blur", "expression", "illumination", "invalid", "occlusion", "pose")
SPLITS: Tuple[str, ...] = ("train", "val")
SOURCES: Tuple[str, ...] = ("voc", "txt")
CATEGORY = "face"
TXT_LIST = "wider_face_split/wider_face_{split}_bbx_gt.txt"
XML_DIR = "WIDER_{split}/Annotations"
ID_LIST = "{split}.txt"


@dataclass(frozen=True)
class WiderOptions:
    """What to read and how to map it (see the module docstring)."""

    split: str = "val"
    source: str = "voc"
    voc_minus_one: bool = False
    min_size: Optional[float] = None
    invalid_as_crowd: bool = False
    file_prefix: str = ""
    workers: int = 1
    progress: bool = False

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ParameterError(f"unknown WIDER FACE split {self.split!r}.", fix="use train or val (test has no labels).")
        if self.source not in SOURCES:
            raise ParameterError(f"unknown source {self.source!r}.", fix="use voc or txt.")
        if self.voc_minus_one and self.source != "voc":
            raise ParameterError("--voc-minus-one applies to the XML corners only.", fix="use it with --source voc.")
        if self.min_size is not None and not self.min_size >= 0:
            raise ParameterError(f"--min-size {self.min_size!r} must be a non-negative number.", fix="e.g. --min-size 17.")


@dataclass(frozen=True)
class WiderFace:
    """One face: box ``x, y, w, h`` as written, its attributes (txt) or VOC fields, and where it was read."""

    bbox: Tuple[float, float, float, float]
    line: int
    attributes: Optional[Dict[str, int]] = None
    difficult: int = 0


@dataclass
class WiderImage:
    """One image record: ``path`` is ``<event>/<file>.jpg``; sizes are None until known. A face's ``line``
    is its line in the txt list, or its object index in the XML file."""

    path: str
    faces: List[WiderFace]
    source: str  # the txt list or the XML file it was read from
    width: Optional[int] = None
    height: Optional[int] = None


@dataclass
class WiderSummary:
    """Counts of one conversion."""

    split: str = ""
    source: str = ""
    images: int = 0
    annotations: int = 0
    crowd: int = 0
    degenerate: int = 0
    out: Optional[str] = None

    def line(self) -> str:
        """One summary line."""
        return (f"WIDER FACE {self.split} ({self.source}): {self.images} images, {self.annotations} faces "
                f"({self.crowd} iscrowd=1), {self.degenerate} degenerate boxes dropped")


# --------------------------------------------------------------------------- pure parsing


def _looks_like_path(line: str) -> bool:
    return "/" in line or line.lower().endswith((".jpg", ".jpeg", ".png"))


def parse_bbx_gt(text: str, source: str) -> List[WiderImage]:
    """Records of an original ``wider_face_<split>_bbx_gt.txt``; a count that does not match the rows that
    follow raises :class:`RecordError` naming the line."""
    lines = text.splitlines()
    images: List[WiderImage] = []
    i, n = 0, len(lines)
    while i < n:
        path = lines[i].strip()
        if not path:
            i += 1
            continue
        if not _looks_like_path(path):
            raise RecordError(f"{source}, line {i + 1}", None, path, "expected an image path (<event>/<file>.jpg)",
                              fix="each record is: image path, face count, then one row per face.")
        if i + 1 >= n:
            raise RecordError(f"{source}, line {i + 1}", None, path, "the file ends before the face count",
                              fix="add the count line (and the rows) or remove the image path.")
        count_text = lines[i + 1].strip()
        try:
            count = int(count_text)
        except ValueError:
            raise RecordError(f"{source}, line {i + 2}", None, count_text, f"the face count of {path} is not an integer",
                              fix="write the number of faces on the line after the image path.") from None
        if count < 0:
            raise RecordError(f"{source}, line {i + 2}", None, count_text, "the face count is negative",
                              fix="write the number of faces (0 or more).")
        record = WiderImage(path, [], source)
        row = i + 2
        if count == 0 and row < n and lines[row].strip() and not _looks_like_path(lines[row].strip()):
            row += 1  # the official train file writes one all-zero dummy row after a 0 count
        for k in range(count):
            if row >= n or _looks_like_path(lines[row].strip()):
                raise RecordError(f"{source}, line {i + 2}", None, count_text,
                                  f"{path} announces {count} faces but only {k} rows follow",
                                  fix="make the count equal the number of rows (the file may be truncated).")
            record.faces.append(_face_row(lines[row], source, row + 1))
            row += 1
        if row < n and lines[row].strip() and not _looks_like_path(lines[row].strip()):
            raise RecordError(f"{source}, line {row + 1}", None, lines[row].strip(),
                              f"{path} announces {count} faces but more rows follow",
                              fix="make the count equal the number of rows.")
        images.append(record)
        i = row
    return images


def _face_row(raw: str, source: str, line: int) -> WiderFace:
    tokens = raw.split()
    if len(tokens) != 10:
        raise RecordError(f"{source}, line {line}", None, raw.strip(), f"has {len(tokens)} values, a face row has 10",
                          fix="write 'x1 y1 w h blur expression illumination invalid occlusion pose'.")
    try:
        values = [int(float(t)) if k >= 4 else float(t) for k, t in enumerate(tokens)]
    except ValueError:
        raise RecordError(f"{source}, line {line}", None, raw.strip(), "holds a value that is not a number",
                          fix="write integers separated by spaces.") from None
    x, y, w, h = values[:4]
    return WiderFace((x, y, w, h), line, dict(zip(ATTRIBUTES, values[4:])))


def faces_from_voc(ann: VocAnnotation, minus_one: bool = False) -> List[WiderFace]:
    """Faces of one VOC-XML annotation (objects named ``face``); ``minus_one``: mmdetection's shift."""
    faces = []
    for ob in ann.objects:
        if ob.name != CATEGORY:
            continue
        x0, y0, x1, y1 = ob.bbox
        if minus_one:
            x0, y0, x1, y1 = (float(int(v) - 1) for v in (x0, y0, x1, y1))
        faces.append(WiderFace((x0, y0, x1 - x0, y1 - y0), ob.index, None, ob.difficult))
    return faces


def build_coco(images: Sequence[WiderImage], opts: WiderOptions,
               problems: Optional[ProblemLog] = None) -> Tuple[dict, WiderSummary]:
    """COCO dict of ``images`` (in list order, ids 1..N) and its summary; degenerate boxes go to ``problems``."""
    problems = problems if problems is not None else ProblemLog()
    coco = CocoBuilder(make_categories([CATEGORY]),
                       info={"description": f"WIDER FACE {opts.split} converted by dataprep coco-from-wider "
                                            f"(source {opts.source})",
                             "bbox": "x, y, w, h in pixels as WIDER writes them"
                                     + (" minus 1 (mmdetection's VOC shift)" if opts.voc_minus_one else "")})
    summary = WiderSummary(opts.split, opts.source)
    for image_id, im in enumerate(images, 1):
        coco.add_image(image_id, opts.file_prefix + im.path, im.width or 0, im.height or 0)
        for face in im.faces:
            x, y, w, h = face.bbox
            if not (w > 0 and h > 0):
                summary.degenerate += 1
                txt = opts.source == "txt"
                problems.add("degenerate-box", im.source, face.line if txt else None,
                             f"{im.path}{'' if txt else f' object #{face.line}'}: box {x:g} {y:g} {w:g} {h:g} "
                             "has no area", "dropped")
                continue
            crowd = bool(face.difficult)
            if opts.invalid_as_crowd and face.attributes and face.attributes.get("invalid"):
                crowd = True
            if opts.min_size is not None and (w < opts.min_size or h < opts.min_size):
                crowd = True
            extra = {"attributes": dict(face.attributes)} if face.attributes is not None else \
                {"difficult": int(face.difficult)}
            coco.add_annotation(image_id, 1, [x, y, w, h], w * h, segmentation=[], iscrowd=int(crowd), **extra)
            summary.crowd += int(crowd)
    summary.images, summary.annotations = len(coco.images), len(coco.annotations)
    return coco.to_dict(), summary


# --------------------------------------------------------------------------- loading


def read_id_list(path: Path) -> List[str]:
    """Image ids of ``<split>.txt`` (bare basenames, one per line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(path, "image-id list does not exist", fix="add <split>.txt beside WIDER_<split>/.") from None
    ids = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not ids:
        raise InputFileError(path, "image-id list is empty", fix="list one image id (basename) per line.")
    return ids


def _read_voc_one(args: Tuple[str, bool]) -> Tuple[str, Optional[str], Optional[int], Optional[int], List[WiderFace]]:
    path, minus_one = args
    ann = read_voc_xml(path)
    return path, ann.folder, ann.width, ann.height, faces_from_voc(ann, minus_one)


def _map(fn, items: List, workers: int, progress: bool, what: str) -> Iterable:
    """``map(fn, items)`` in order, on a process pool when ``workers`` > 1, with a progress bar."""
    from tqdm import tqdm

    if workers > 1 and len(items) > 256:
        import multiprocessing

        with multiprocessing.get_context("spawn" if os.name == "nt" else "fork").Pool(workers) as pool:
            yield from tqdm(pool.imap(fn, items, chunksize=64), total=len(items), desc=what, disable=not progress,
                            file=sys.stderr)
    else:
        yield from tqdm(map(fn, items), total=len(items), desc=what, disable=not progress,
                        file=sys.stderr)


def load_voc_split(root: Path, opts: WiderOptions) -> List[WiderImage]:
    """Images of ``<split>.txt`` with their faces from ``WIDER_<split>/Annotations/<id>.xml``."""
    ids = read_id_list(root / ID_LIST.format(split=opts.split))
    xml_dir = root / XML_DIR.format(split=opts.split)
    jobs = [(str(xml_dir / f"{i}.xml"), opts.voc_minus_one) for i in ids]
    images = []
    for image_id, (path, folder, width, height, faces) in zip(ids, _map(_read_voc_one, jobs, opts.workers,
                                                                         opts.progress, "xml")):
        if width is None or height is None:
            raise RecordError(path, None, "<size>", "has no <size> with <width> and <height>",
                              fix="add <size> (the image's width and height) or convert with --source txt from the images.")
        if not folder:
            raise RecordError(path, None, "<folder>", "has no <folder> (the event folder, e.g. 0--Parade)",
                              fix="add <folder>: file names need the event folder to be found under WIDER_<split>/.")
        images.append(WiderImage(f"{folder}/{image_id}.jpg", faces, path, width, height))
    return images


def load_txt_split(root: Path, opts: WiderOptions) -> List[WiderImage]:
    """Images of the original txt list with their faces; sizes from the XML or the image header."""
    path = root / TXT_LIST.format(split=opts.split)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(path, "WIDER txt ground truth does not exist",
                             fix=f"unpack wider_face_split.zip into {root} (or use --source voc).") from None
    images = parse_bbx_gt(text, str(path))
    xml_dir = root / XML_DIR.format(split=opts.split)
    missing = []
    from tqdm import tqdm

    for im in tqdm(images, desc="sizes", disable=not opts.progress, file=sys.stderr):
        stem = Path(im.path).stem
        xml = xml_dir / f"{stem}.xml"
        if xml.is_file():
            ann = read_voc_xml(xml)
            im.width, im.height = ann.width, ann.height
        if im.width is None or im.height is None:
            size = _image_size(root, opts.split, im.path)
            if size is None:
                missing.append(im.path)
                continue
            im.width, im.height = size
    if missing:
        raise InputFileError(root / f"WIDER_{opts.split}" / "images", f"{len(missing)} image(s) of the txt list have no "
                             f"size: neither an XML nor the image was found (first: {missing[0]})",
                             fix=f"put the images under WIDER_{opts.split}/images/<event>/ (or the VOC-XML files "
                                 f"under WIDER_{opts.split}/Annotations/) so that their sizes can be read.")
    return images


def _image_size(root: Path, split: str, rel: str) -> Optional[Tuple[int, int]]:
    from PIL import Image, UnidentifiedImageError

    for base in (root / f"WIDER_{split}" / "images", root / f"WIDER_{split}"):
        p = base / rel
        if p.is_file():
            try:
                with Image.open(p) as im:
                    return im.size
            except (OSError, UnidentifiedImageError) as exc:
                raise InputFileError(p, f"cannot read the image header ({exc})", fix="replace the file.") from None
    return None


def check_input_layout(root: PathLike, opts: WiderOptions) -> None:
    """Fail with the layout report when the files of ``opts.source`` for ``opts.split`` are not in place."""
    from dataprep.layouts import check_layout
    from evaluators.errors import LayoutError

    root = Path(root)
    report = check_layout("widerface", root, splits=[opts.split])
    need = ([XML_DIR.format(split=opts.split), ID_LIST.format(split=opts.split)] if opts.source == "voc"
            else [TXT_LIST.format(split=opts.split)])
    absent = [p for p in need if not (root / p).exists()]
    if absent:
        raise LayoutError("widerface", root, report.render(),
                          fix=f"--source {opts.source} needs {' and '.join(need)} under {root}"
                              + (" (or try --source txt)" if opts.source == "voc" else " (or try --source voc)") + ".")


def convert_wider(root: PathLike, opts: WiderOptions = WiderOptions(),
                  problems: Optional[ProblemLog] = None) -> Tuple[dict, WiderSummary]:
    """COCO dict and summary of one split of the WIDER FACE tree ``root``."""
    root = Path(root)
    check_input_layout(root, opts)
    images = load_voc_split(root, opts) if opts.source == "voc" else load_txt_split(root, opts)
    return build_coco(images, opts, problems)


def default_out(root: PathLike, split: str) -> Path:
    """``ROOT/annotations/widerface_<split>.json``."""
    return Path(root) / "annotations" / f"widerface_{split}.json"


def save_coco_from_wider(root: PathLike, out: Optional[PathLike] = None, opts: WiderOptions = WiderOptions(),
                         problems: Optional[ProblemLog] = None) -> WiderSummary:
    """Convert and write atomically (default :func:`default_out`); returns the summary with ``out`` set."""
    coco, summary = convert_wider(root, opts, problems)
    path = Path(out) if out is not None else default_out(root, opts.split)
    summary.out = str(write_coco(path, coco))
    return summary
