"""PASCAL VOC (``VOCdevkit/VOC<year>/Annotations/*.xml`` + ``ImageSets/Main/<split>.txt``) -> COCO JSON,
one file per year and split (``annotations/voc07_trainval.json``, ...).

Conventions (stated once, in ``evaluators/data/voc.py``): VOC corners are 1-based and inclusive, so a COCO
box is ``x = xmin - 1, y = ymin - 1, w = xmax - xmin + 1, h = ymax - ymin + 1`` (detectron2's
conversion; mmdetection subtracts 1 from every corner and adds the 1 back in its legacy IoU, the same
boxes in pixels), and ``area = w * h``. Categories are the 20 VOC classes in VOC's order, ids 1..20
(``--classes`` extends or replaces the list). Images get ids 1..N in image-set order, ``file_name``
``<id>.jpg`` relative to ``JPEGImages/``, ``width``/``height`` from ``<size>``. Every annotation keeps
``difficult`` (0/1) as a field; a difficult object is ``iscrowd = 1`` (COCO's ignore mechanism) unless
``keep_difficult``. The VOC evaluation reads ``difficult`` first, so it ignores difficult objects either way.
The input is checked against the ``voc`` layout of ``data_layouts/`` (and for the requested image-set files)
before anything is read.

Bad input never crashes the run: an annotation file that is missing or malformed, an object with
non-numeric or inverted corners, a class outside the list, or a missing ``<size>`` is logged with file,
object and field (:class:`~converters.problems.ProblemLog`) and skipped (a missing size is read from the
image header when the JPEG is there); ``strict`` turns the first problem into an error. A missing
``ImageSets`` file or ``Annotations`` folder is a :class:`~evaluators.errors.LayoutError`.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from converters.coco_json import CocoBuilder, make_categories, write_coco
from converters.problems import ProblemLog
from converters.voc_xml import VocAnnotation, VocObject, parse_voc_xml
from evaluators.data.voc import VOC_CLASSES, voc_to_coco_box
from evaluators.errors import DataprepError, InputFileError, LayoutError, ParameterError, RecordError

PathLike = Union[str, os.PathLike]
DEFAULT_SPLITS: Tuple[str, ...] = ("trainval", "test")
YEAR_DIR = re.compile(r"^VOC(\d{4})$")
ClassesArg = Union[None, str, Sequence[str]]


@dataclass(frozen=True)
class VocConvertOptions:
    """What to convert and how: ``years``/``splits`` None = every one found (splits: trainval and test)."""

    years: Optional[Tuple[str, ...]] = None
    splits: Optional[Tuple[str, ...]] = None
    keep_difficult: bool = False
    classes: ClassesArg = None
    workers: int = 1
    strict: bool = False
    progress: bool = False


@dataclass
class SplitSummary:
    """One written file."""

    year: str
    split: str
    path: str
    images: int
    annotations: int
    difficult: int
    skipped_images: int


@dataclass
class VocConversion:
    """The result of a conversion: the files written, the problems and the objects of unknown classes."""

    outputs: List[SplitSummary] = field(default_factory=list)
    problems: ProblemLog = field(default_factory=ProblemLog)
    unknown: Dict[str, int] = field(default_factory=dict)

    def lines(self) -> List[str]:
        """The summary printed at the end."""
        out = []
        for s in self.outputs:
            skipped = f", {s.skipped_images} image(s) skipped" if s.skipped_images else ""
            out.append(f"wrote {s.path}: VOC{s.year} {s.split}, {s.images} images, {s.annotations} annotations "
                       f"({s.difficult} difficult){skipped}")
        if self.unknown:
            names = ", ".join(f"{k}={v}" for k, v in sorted(self.unknown.items()))
            out.append(f"skipped {sum(self.unknown.values())} object(s) of classes outside the list ({names}); "
                       f"--classes voc,{','.join(sorted(self.unknown))} keeps them")
        out.extend(self.problems.summary_lines())
        return out


# --------------------------------------------------------------------------- pure functions


def resolve_classes(classes: ClassesArg, found: Iterable[str] = ()) -> List[str]:
    """Class list: None/``"voc"`` (the 20), ``"found"`` (sorted names in the annotations), or comma-separated
    names / a sequence where ``voc`` stands for the 20 (``voc,face`` extends them)."""
    if classes is None:
        return list(VOC_CLASSES)
    tokens = [c.strip() for c in classes.split(",")] if isinstance(classes, str) else [str(c) for c in classes]
    names: List[str] = []
    for token in (t for t in tokens if t):
        if token == "voc":
            names.extend(VOC_CLASSES)
        elif token == "found":
            names.extend(sorted(set(found)))
        else:
            names.append(token)
    if not names:
        raise ParameterError(f"class list {classes!r} is empty.", fix="use voc, found, or comma-separated names.")
    dup = [n for n, k in Counter(names).items() if k > 1]
    if dup:
        raise ParameterError(f"class list repeats {', '.join(dup)}.", fix="give each class once.")
    return names


def output_name(year: str, split: str) -> str:
    """``voc07_trainval.json`` for (2007, trainval)."""
    return f"voc{year[-2:]}_{split}.json"


def parse_imageset(text: str, source: str) -> List[str]:
    """Image ids of an ``ImageSets/Main/<split>.txt`` file (one per line; blank lines skipped)."""
    ids = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if len(line.split()) != 1:
            raise RecordError(f"{source}, line {number}", None, line, "has more than one token",
                              fix="use ImageSets/Main/<split>.txt (one image id per line), not a per-class list.")
        ids.append(line)
    return ids


@dataclass(frozen=True)
class VocImage:
    """One image ready to write: its size and the objects kept (classes in the list, sane corners)."""

    name: str
    width: int
    height: int
    objects: Tuple[VocObject, ...]


def clean_annotation(ann: VocAnnotation, name: str, cat_id: Dict[str, int], problems: ProblemLog, unknown: Counter,
                     size: Optional[Callable[[], Optional[Tuple[int, int]]]] = None) -> Optional[VocImage]:
    """The image of ``ann`` with its usable objects, or None (logged) when it has no size. Objects of other
    classes are counted in ``unknown``; inverted corners are logged and dropped. ``size()`` is asked for the
    image's size when ``<size>`` is missing or 0."""
    width, height = ann.width, ann.height
    if not width or not height:
        found = size() if size else None
        if found is None:
            problems.add("no-size", ann.source, None, "<size> is missing or 0 and the image is not there to read it",
                         "image skipped")
            return None
        problems.add("size-from-image", ann.source, None, "<size> is missing or 0", "size read from the image")
        width, height = found
    kept = []
    for ob in ann.objects:
        if ob.name not in cat_id:
            unknown[ob.name] += 1
            problems.add("unknown-class", ann.source, None, f"object #{ob.index}: class {ob.name!r} is not in the list")
            continue
        xmin, ymin, xmax, ymax = ob.bbox
        if xmax < xmin or ymax < ymin:
            problems.add("inverted-box", ann.source, None,
                         f"object #{ob.index} ({ob.name}): xmax < xmin or ymax < ymin {list(ob.bbox)}")
            continue
        kept.append(ob)
    return VocImage(name, int(width), int(height), tuple(kept))


def build_split(ids: Sequence[str], images: Dict[str, Optional[VocImage]], names: Sequence[str],
                keep_difficult: bool, info: Optional[dict] = None) -> Tuple[dict, int]:
    """COCO dict of one split (image ids 1..N in list order) and the number of images skipped (None)."""
    cat_id = {n: i for i, n in enumerate(names, 1)}
    builder = CocoBuilder(make_categories(names), info=dict(info or {}))
    skipped = 0
    for image_id, name in enumerate(ids, 1):
        im = images.get(name)
        if im is None:
            skipped += 1
            continue
        builder.add_image(image_id, f"{name}.jpg", im.width, im.height)
        for ob in im.objects:
            x, y, w, h = voc_to_coco_box(*ob.bbox)
            difficult = int(ob.difficult != 0)
            builder.add_annotation(image_id, cat_id[ob.name], [x, y, w, h], w * h,
                                   iscrowd=0 if keep_difficult else difficult, difficult=difficult)
    return builder.to_dict(), skipped


# --------------------------------------------------------------------------- layout


def find_years(root: Path) -> List[str]:
    """The years of the ``VOC<year>`` folders in ``root`` (sorted)."""
    return sorted(m.group(1) for p in root.iterdir() if p.is_dir() for m in [YEAR_DIR.match(p.name)] if m)


def check_input_layout(root: PathLike, years: Sequence[str], splits: Dict[str, Sequence[str]]) -> None:
    """The ``voc`` layout of ``data_layouts/`` for the years' folders (Annotations, ImageSets/Main), then
    the image-set file of every requested split; :class:`LayoutError` with a readable tree otherwise."""
    from dataprep.layouts import require_layout

    root = Path(root)
    require_layout("voc", root, [f"VOC{y}" for y in years])
    lines, missing = [f"{root}/"], []
    for year in years:
        main = root / f"VOC{year}" / "ImageSets" / "Main"
        present = sorted(p.stem for p in main.glob("*.txt") if "_" not in p.stem)
        lines.append(f"  VOC{year}/ImageSets/Main/  (splits here: {', '.join(present) or 'none'})")
        for split in splits[year]:
            ok = (main / f"{split}.txt").is_file()
            lines.append(f"    {'ok     ' if ok else 'MISSING'} {split}.txt")
            if not ok:
                missing.append((year, split, present))
    if missing:
        year, split, present = missing[0]
        raise LayoutError("voc", root, "\n".join(lines),
                          fix=f"VOC{year} has no image set {split!r}: choose --splits among "
                              f"{', '.join(present) or '(none)'}, or add ImageSets/Main/{split}.txt.")


def _plan(root: Path, options: VocConvertOptions) -> Tuple[Path, List[str], Dict[str, List[str]]]:
    """The VOCdevkit folder, the years and the per-year splits to convert (explicit ones are required,
    defaults are the ones found). A year folder as ``root`` stands for its parent and that year."""
    if not root.is_dir():
        raise InputFileError(root, "does not exist" if not root.exists() else "is not a folder",
                             fix="pass the VOCdevkit folder (the one holding VOC2007/, VOC2012/).")
    m = YEAR_DIR.match(root.name)
    if m and (root / "Annotations").is_dir():
        if options.years and tuple(options.years) != (m.group(1),):
            raise ParameterError(f"{root} is the VOC{m.group(1)} folder but --years asks for {', '.join(options.years)}.",
                                 fix=f"pass its parent, {root.parent}, to convert other years.")
        root, years = root.parent, [m.group(1)]
    else:
        years = list(options.years) if options.years else find_years(root)
    if not years:
        from dataprep.layouts import require_layout

        require_layout("voc", root)  # explains where VOC2007/ is (e.g. one level down in VOCdevkit/)
        raise LayoutError("voc", root, f"{root}/\n  MISSING VOC<year>/  (VOC2007/Annotations, VOC2007/ImageSets/Main)",
                          fix="pass the VOCdevkit folder that holds VOC2007/ or VOC2012/.")
    for y in years:
        if not re.fullmatch(r"\d{4}", y):
            raise ParameterError(f"year {y!r} is not a 4-digit year.", fix="use e.g. --years 2007,2012.")
    splits: Dict[str, List[str]] = {}
    for y in years:
        if options.splits:
            splits[y] = list(options.splits)
        else:
            main = root / f"VOC{y}" / "ImageSets" / "Main"
            splits[y] = [s for s in DEFAULT_SPLITS if (main / f"{s}.txt").is_file()] or ["trainval"]
    return root, years, splits


# --------------------------------------------------------------------------- loading and writing


def _parse_file(path: str) -> Tuple[str, Optional[VocAnnotation], Optional[Tuple[str, str]]]:
    """(path, annotation or None, (problem kind, detail) or None): one XML file, for a worker pool."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return path, None, ("missing-annotation", "the annotation file listed in the image set does not exist")
    except OSError as exc:
        return path, None, ("unreadable-annotation", f"cannot read the file ({exc.strerror})")
    try:
        return path, parse_voc_xml(data, path), None
    except DataprepError as exc:  # the log names the file: keep the rest (line / object, field, reason)
        detail = exc.message[len(path):].lstrip(", ") if exc.message.startswith(path) else exc.message
        return path, None, ("bad-annotation", detail)


def _image_size(path: Path) -> Optional[Tuple[int, int]]:
    if not path.is_file():
        return None
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except OSError:
        return None


def _parse_all(paths: List[str], workers: int, progress: bool) -> List[Tuple[str, Optional[VocAnnotation], Optional[Tuple[str, str]]]]:
    from tqdm import tqdm

    bar = tqdm(total=len(paths), desc="annotations", unit="file", disable=not progress, leave=False)
    try:
        if workers > 1 and len(paths) > 64:
            from multiprocessing import get_context

            with get_context("spawn" if os.name == "nt" else "fork").Pool(workers) as pool:
                out = []
                for item in pool.imap(_parse_file, paths, chunksize=64):
                    out.append(item)
                    bar.update(1)
                return out
        out = []
        for p in paths:
            out.append(_parse_file(p))
            bar.update(1)
        return out
    finally:
        bar.close()


def convert_voc(root: PathLike, out_dir: Optional[PathLike] = None,
                options: VocConvertOptions = VocConvertOptions()) -> VocConversion:
    """Convert every requested year and split of the VOCdevkit ``root`` (or of one year folder); files go
    to ``out_dir`` (default ``<VOCdevkit>/annotations``). Returns what was written and the problems met."""
    root, years, splits = _plan(Path(root), options)
    check_input_layout(root, years, splits)
    out = Path(out_dir) if out_dir is not None else root / "annotations"
    result = VocConversion()
    planned = []
    for year in years:
        base = root / f"VOC{year}"
        split_ids = {}
        for split in splits[year]:
            path = base / "ImageSets" / "Main" / f"{split}.txt"
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputFileError(path, f"cannot read the image-set file ({exc})") from None
            ids = parse_imageset(text, str(path))
            unique = list(dict.fromkeys(ids))
            if len(unique) < len(ids):
                result.problems.add("repeated-id", path, None, f"{len(ids) - len(unique)} id(s) listed twice", "counted once")
            split_ids[split] = unique
        wanted = list(dict.fromkeys(i for ids in split_ids.values() for i in ids))
        parsed = _parse_all([str(base / "Annotations" / f"{i}.xml") for i in wanted], max(1, options.workers),
                            options.progress)
        annotations: Dict[str, Optional[VocAnnotation]] = {}
        for image_id, (path, ann, problem) in zip(wanted, parsed):
            annotations[image_id] = ann
            if problem is not None:
                result.problems.add(problem[0], path, None, problem[1], "image skipped")
        planned.append((year, base, split_ids, annotations))
    names = resolve_classes(options.classes, (o.name for _, _, _, anns in planned for a in anns.values() if a
                                              for o in a.objects))
    cat_id = {n: i for i, n in enumerate(names, 1)}
    unknown: Counter = Counter()
    written = []
    for year, base, split_ids, annotations in planned:
        images = {i: (clean_annotation(a, i, cat_id, result.problems, unknown,
                                       lambda i=i, b=base: _image_size(b / "JPEGImages" / f"{i}.jpg"))
                      if a is not None else None) for i, a in annotations.items()}
        for split, ids in split_ids.items():
            info = {"description": f"PASCAL VOC{year} {split}, converted by dataprep coco-from-voc",
                    "bbox": "x = xmin - 1, y = ymin - 1, w = xmax - xmin + 1, h = ymax - ymin + 1 "
                            "(VOC corners are 1-based, inclusive)",
                    "difficult": "kept as 'difficult'; iscrowd = 0" if options.keep_difficult
                                 else "kept as 'difficult'; also iscrowd = 1"}
            coco, skipped = build_split(ids, images, names, options.keep_difficult, info)
            written.append((year, split, coco, skipped))
    result.unknown = dict(sorted(unknown.items()))
    result.problems.raise_if_strict(options.strict, str(root))
    if not any(coco["images"] for _, _, coco, _ in written):
        first = "; ".join(result.problems.summary_lines()[:3])
        raise InputFileError(root, f"no image could be converted ({first or 'the image sets are empty'})",
                             fix="repair the annotation files named here, or check the image-set files.")
    for year, split, coco, skipped in written:
        path = write_coco(out / output_name(year, split), coco)
        result.outputs.append(SplitSummary(year, split, str(path), len(coco["images"]), len(coco["annotations"]),
                                           sum(a["difficult"] for a in coco["annotations"]), skipped))
    return result
