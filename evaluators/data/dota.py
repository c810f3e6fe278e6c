"""DOTA text formats: ``labelTxt`` ground truth and ``Task1_<class>.txt`` detections.

Pure parse/format functions on text, plus thin loaders for folders. Parsing follows the devkit:
tokens are separated by single spaces after stripping the line; a label line has 8 coordinates, the
class and optionally a difficulty (any integer; non-zero means difficult); ``imagesource:``/``gsd:``
headers and blank lines are skipped. Where the devkit crashes or silently guesses we stop with the file,
the line and the fix instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputFileError, RecordError
from .text_rows import is_float, read_name_number_rows

DOTA_V1_CLASSES: Tuple[str, ...] = (
    "plane", "baseball-diamond", "bridge", "ground-track-field", "small-vehicle", "large-vehicle", "ship",
    "tennis-court", "basketball-court", "storage-tank", "soccer-ball-field", "roundabout", "harbor",
    "swimming-pool", "helicopter",
)
DOTA_V15_CLASSES: Tuple[str, ...] = DOTA_V1_CLASSES + ("container-crane",)
DOTA_V2_CLASSES: Tuple[str, ...] = DOTA_V15_CLASSES + ("airport", "helipad")
TASK1_PREFIX = "Task1_"


@dataclass
class LabelObject:
    """One ground-truth object of a label file."""

    poly: Tuple[float, ...]
    name: str
    difficulty: int
    line: int


@dataclass
class Task1Lines:
    """Detections of one Task1 file, in file order (lists while parsing, arrays from the fast reader)."""

    images: List[str] = field(default_factory=list)
    scores: List[float] = field(default_factory=list)
    polys: List[Tuple[float, ...]] = field(default_factory=list)
    lines: List[int] = field(default_factory=list)


def _where(source: str, line: int) -> str:
    return f"{source}, line {line}"


def parse_label_text(text: str, source: str) -> List[LabelObject]:
    """Objects of one DOTA label file (``x1 y1 ... x4 y4 class [difficulty]`` per line)."""
    fast = _parse_label_fast(text)
    return fast if fast is not None else _parse_label_careful(text, source)


def _parse_label_fast(text: str) -> Optional[List[LabelObject]]:
    """The whole file at once when every line is clean (else None: the careful parser names the line)."""
    rows, numbers = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        tokens = raw.strip().split(" ")
        n = len(tokens)
        if n == 9 or n == 10:
            rows.append((number, tokens))
            numbers += tokens[:8]
        elif n > 10 or not (raw.strip() == "" or ":" in raw):
            return None
    try:
        values = list(map(float, numbers))
        difficulty = [int(t[9]) if len(t) == 10 else 0 for _, t in rows]
    except ValueError:
        return None
    if not all(map(math.isfinite, values)):
        return None
    return [LabelObject(tuple(values[8 * i: 8 * i + 8]), t[8], d, number)
            for i, ((number, t), d) in enumerate(zip(rows, difficulty))]


def _parse_label_careful(text: str, source: str) -> List[LabelObject]:
    """Line by line, raising a located :class:`RecordError` at the first bad line."""
    objects = []
    for number, raw in enumerate(text.splitlines(), 1):
        tokens = raw.strip().split(" ")
        if len(tokens) < 9:
            if raw.strip() == "" or ":" in raw:
                continue  # blank line or an imagesource:/gsd: header
            raise RecordError(_where(source, number), None, raw.strip(), f"has {len(tokens)} tokens, a label needs 9 or 10",
                              fix="write 'x1 y1 x2 y2 x3 y3 x4 y4 class [difficulty]' separated by single spaces.")
        if len(tokens) > 10:
            raise RecordError(_where(source, number), None, raw.strip(), f"has {len(tokens)} tokens, a label has 9 or 10 "
                              "(the devkit would crash here)",
                              fix="separate tokens by single spaces and keep one object per line.")
        poly = _numbers(tokens[:8], source, number, raw)
        difficulty = 0
        if len(tokens) == 10:
            try:
                difficulty = int(tokens[9])
            except ValueError:
                raise RecordError(_where(source, number), None, raw.strip(), f"difficulty {tokens[9]!r} is not an integer",
                                  fix="use 0 (normal), 1 (difficult) or 2 (truncated by tiling).") from None
        objects.append(LabelObject(poly, tokens[8], difficulty, number))
    return objects


def parse_task1_text(text: str, source: str) -> Task1Lines:
    """Detections of one ``Task1_<class>.txt`` file: ``image score x1 y1 ... x4 y4`` per line."""
    out = Task1Lines()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        tokens = line.split(" ")
        if len(tokens) != 10:
            raise RecordError(_where(source, number), None, line,
                              f"has {len(tokens)} tokens, a Task1 line has 10 (image, score and 8 coordinates)",
                              fix="write 'image score x1 y1 x2 y2 x3 y3 x4 y4' separated by single spaces.")
        values = _numbers(tokens[1:], source, number, raw)
        out.images.append(tokens[0])
        out.scores.append(values[0])
        out.polys.append(values[1:])
        out.lines.append(number)
    return out


def format_task1_line(image: str, score: float, poly: Sequence[float]) -> str:
    """One Task1 line as the devkit writes it (Python float repr, full precision)."""
    return format_task1_lines([image], np.asarray([score], np.float64), np.asarray([poly], np.float64))[0]


def format_task1_lines(images: Sequence[str], scores: np.ndarray, polys: np.ndarray) -> List[str]:
    """Many Task1 lines at once (the same text as :func:`format_task1_line`, column by column)."""
    columns = [images, map(repr, np.asarray(scores, np.float64).tolist())]
    polys = np.asarray(polys, np.float64).reshape(-1, 8)
    columns += [map(repr, polys[:, k].tolist()) for k in range(8)]
    return list(map(" ".join, zip(*columns)))


def _numbers(tokens: Sequence[str], source: str, number: int, raw: str) -> Tuple[float, ...]:
    try:
        values = tuple(map(float, tokens))
    except ValueError:
        bad = next(t for t in tokens if not is_float(t))
        raise RecordError(_where(source, number), None, raw.strip(), f"{bad!r} is not a number",
                          fix="write plain decimal numbers separated by single spaces.") from None
    if not all(map(math.isfinite, values)):
        raise RecordError(_where(source, number), None, raw.strip(), "holds NaN or infinity",
                          fix="drop the record or fix the model output that produced it.")
    return values



def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(path, f"{what} does not exist", fix="check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read {what} ({exc})") from None


def read_imageset(path: Path) -> List[str]:
    """Image names of an image-set file (one per line, as the devkit's ``imagesetfile``)."""
    return [ln.strip() for ln in _read_text(Path(path), "image-set file").splitlines() if ln.strip()]


def load_label_folder(folder: Path, imageset: Optional[Iterable[str]] = None) -> Dict[str, List[LabelObject]]:
    """Label objects per image name: every ``*.txt`` of ``folder`` (sorted), or the names of ``imageset``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "is not a folder of DOTA label files",
                             fix="pass the labelTxt folder (e.g. DOTA/val/labelTxt).")
    if imageset is None:
        names = sorted(p.stem for p in folder.glob("*.txt"))
        if not names:
            raise InputFileError(folder, "holds no .txt label files", fix="pass the labelTxt folder of the split.")
    else:
        names = list(dict.fromkeys(imageset))
    labels = {}
    for name in names:
        path = folder / f"{name}.txt"
        if not path.exists():
            raise InputFileError(path, f"label file of image {name!r} (listed in the image set) does not exist",
                                 fix="remove the image from the image-set file or add its label file (empty for no objects).")
        labels[name] = parse_label_text(_read_text(path, "label file"), str(path))
    return labels


def task1_files(folder: Path) -> Dict[str, Path]:
    """``{class name: path}`` of the ``Task1_<class>.txt`` files in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "is not a folder of Task1_<class>.txt files",
                             fix="pass the folder holding Task1_plane.txt, Task1_ship.txt, ...")
    found = {p.stem[len(TASK1_PREFIX):]: p for p in sorted(folder.glob(f"{TASK1_PREFIX}*.txt"))}
    if not found:
        raise InputFileError(folder, "holds no Task1_<class>.txt files",
                             fix="pass the folder of the detection files (one Task1_<class>.txt per class).")
    return found


def load_task1_file(path: Path) -> Task1Lines:
    """Detections of one Task1 file (an empty file means no detections).

    Well-formed files are read by pandas' C parser (correctly rounded, as ``float``: pandas >= 3 by
    default, ``round_trip`` before); anything it does not read cleanly goes through
    :func:`parse_task1_text`, which names the offending line.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "Task1 file does not exist", fix="check the path.") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read Task1 file ({exc})") from None
    fast = _parse_task1_fast(data)
    return fast if fast is not None else parse_task1_text(_read_text(path, "Task1 file"), str(path))


def _parse_task1_fast(data: bytes) -> Optional[Task1Lines]:
    """The vectorised reading of a clean Task1 file (:mod:`.text_rows`), or None when the careful parser
    must look at it."""
    rows = read_name_number_rows(data, 9, categorical_names=True)
    if rows is None:
        return None
    names, values, lines = rows
    if names.size == 0:
        return Task1Lines()
    return Task1Lines(names, values[:, 0], values[:, 1:], lines)  # names: a pandas Categorical


def image_codes(images: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
    """``(sorted distinct names, index of each line's name among them)``, as ``np.unique(return_inverse)``;
    cheap for the pandas Categorical that the fast reader gives (no string per line)."""
    codes = getattr(images, "codes", None)
    if codes is not None:
        names = np.asarray(images.categories, dtype=object).astype(str)
        order = np.argsort(names, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return names[order], rank[np.asarray(codes, np.int64)]
    names, inverse = np.unique(np.asarray(images, dtype=object).astype(str), return_inverse=True)
    return names, inverse.reshape(-1)


def polys_array(polys: Sequence[Sequence[float]]) -> np.ndarray:
    """(N, 8) float64 array of polygons (also for N = 0)."""
    return np.asarray(polys, dtype=np.float64).reshape(-1, 8)
