"""DOTA text formats: ``labelTxt`` ground truth and ``Task1_<class>.txt`` detections.

Pure parse/format functions on text, plus thin loaders for folders. Parsing follows the devkit:
tokens are separated by single spaces after stripping the line; a label line has 8 coordinates, the
class and optionally a difficulty (any integer; non-zero means difficult); ``imagesource:``/``gsd:``
headers and blank lines are skipped. Where the devkit crashes or silently guesses we stop with the file,
the line and the fix instead.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputFileError, RecordError
from ..kernels.stable_sort import stable_argsort_int
from .text_rows import csv_float_options, is_float, is_int, numeric_columns, read_name_number_rows, text_categories

DOTA_V1_CLASSES: Tuple[str, ...] = (
    "plane", "baseball-diamond", "bridge", "ground-track-field", "small-vehicle", "large-vehicle", "ship",
    "tennis-court", "basketball-court", "storage-tank", "soccer-ball-field", "roundabout", "harbor",
    "swimming-pool", "helicopter",
)
DOTA_V15_CLASSES: Tuple[str, ...] = DOTA_V1_CLASSES + ("container-crane",)
DOTA_V2_CLASSES: Tuple[str, ...] = DOTA_V15_CLASSES + ("airport", "helipad")
TASK1_PREFIX = "Task1_"
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


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


@dataclass
class LabelColumns:
    """The objects of a labelTxt folder as columns, in image order then file order."""

    images: List[str]  # image names (file stems), in folder (or image-set) order
    paths: List[Path]  # their label files
    image: np.ndarray  # (N,) int64 index into ``images``
    poly: np.ndarray  # (N, 8) float64
    name: np.ndarray  # (N,) object: class names
    difficulty: np.ndarray  # (N,) int64
    line: np.ndarray  # (N,) int64, 1-based line in its file

    def where(self, i: int) -> str:
        """File and line of object ``i``, for messages."""
        return _where(str(self.paths[int(self.image[i])]), int(self.line[i]))


def label_paths(folder: Path, imageset: Optional[Iterable[str]] = None) -> Tuple[List[str], List[Path]]:
    """Image names and label files: every ``*.txt`` of ``folder`` (sorted), or the names of ``imageset``."""
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
    paths = [folder / f"{name}.txt" for name in names]
    return names, paths


def load_label_columns(folder: Path, imageset: Optional[Iterable[str]] = None) -> LabelColumns:
    """Every object of the label files of ``folder`` (or of the images of ``imageset``) as columns.

    Clean files (headers only at the top, one object per line, single spaces) are read together by
    pandas' C parser, with the same values as :func:`parse_label_text`; any other file goes through
    :func:`parse_label_text` itself, which names a bad line.
    """
    names, paths = label_paths(folder, imageset)
    clean: List[Tuple[int, bytes, int, int]] = []  # (image, body, rows, header lines)
    careful: List[int] = []
    for i, path in enumerate(paths):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if imageset is None:
                raise InputFileError(path, "label file does not exist", fix="check the path.") from None
            raise InputFileError(path, f"label file of image {names[i]!r} (listed in the image set) does not exist",
                                 fix="remove the image from the image-set file or add its label file (empty for no objects).") from None
        except OSError as exc:
            raise InputFileError(path, f"cannot read label file ({exc})") from None
        body = _clean_label_body(data)
        if body is None:
            careful.append(i)
        elif body[1]:
            clean.append((i, *body))
    columns = _label_rows_fast(clean)
    if columns is None:  # the batch did not parse cleanly: every file line by line (names the bad line)
        careful, columns = sorted(careful + [c[0] for c in clean]), _empty_label_columns()
    parts = [columns]
    for i in careful:
        objects = parse_label_text(_read_text(paths[i], "label file"), str(paths[i]))
        parts.append((np.full(len(objects), i, np.int64), polys_array([o.poly for o in objects]),
                      np.asarray([o.name for o in objects], object), np.asarray([o.difficulty for o in objects], np.int64),
                      np.asarray([o.line for o in objects], np.int64)))
    image, poly, name, difficulty, line = (np.concatenate(cols) for cols in zip(*parts))
    if careful:  # back to image order (stable: file order within an image)
        order = stable_argsort_int(image)
        image, poly, name, difficulty, line = image[order], poly[order], name[order], difficulty[order], line[order]
    return LabelColumns(names, paths, image, poly, name, difficulty, line)


_LabelRows = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _empty_label_columns() -> _LabelRows:
    return (np.zeros(0, np.int64), np.zeros((0, 8)), np.zeros(0, object), np.zeros(0, np.int64), np.zeros(0, np.int64))


def _clean_label_body(data: bytes) -> Optional[Tuple[bytes, int, int]]:
    """``(body, rows, header lines)`` of a label file the batch reader can take, else None: header
    lines (``imagesource:``/``gsd:``) only at the top, no blank line, no ``:`` in the body, no trailing
    space, the first object with 10 tokens (the batch's column count), lines ending in a newline."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    headers = 0
    while data:
        end = data.find(b"\n")
        first = data if end < 0 else data[:end]
        if b":" not in first or len(first.strip().split(b" ")) >= 9:
            break
        headers += 1
        data = b"" if end < 0 else data[end + 1:]
    if not data.strip():
        return (b"", 0, headers) if not data else None  # trailing blank lines: the careful parser
    if not data.endswith(b"\n"):
        data += b"\n"
    first = data[: data.find(b"\n")].rstrip(b"\r")
    if (b":" in data or data[:1].isspace() or _BLANK_LINE.search(data) is not None or b" \n" in data
            or b" \r" in data or first.count(b" ") != 9 or b"\r" in first):
        return None
    return data, data.count(b"\n"), headers


def _label_rows_fast(clean: List[Tuple[int, bytes, int, int]]) -> Optional[_LabelRows]:
    """The clean files' objects in one pandas parse, or None when something in them is not clean."""
    if not clean:
        return _empty_label_columns()
    import pandas as pd

    rows = np.asarray([c[2] for c in clean], np.int64)
    try:
        frame = pd.read_csv(io.BytesIO(b"".join(c[1] for c in clean)), sep=" ", header=None, index_col=False,
                            dtype={**dict.fromkeys(range(8), np.float64), 8: "category", 9: "category"}, keep_default_na=False, na_filter=False,
                            engine="c", encoding="utf-8", low_memory=False, **csv_float_options())
    except Exception:  # irregular rows: the careful parser explains
        return None
    if frame.shape != (int(rows.sum()), 10) or not numeric_columns(frame, range(8)):
        return None
    poly = frame.iloc[:, :8].to_numpy(np.float64)
    if not np.isfinite(poly).all():
        return None
    name_col, diff_col = frame.iloc[:, 8].array, frame.iloc[:, 9].array
    if not text_categories(name_col):  # class names that look like numbers: taken as written, line by line
        return None
    classes = list(name_col.categories)
    if "" in classes:
        return None
    levels = []
    for value in diff_col.categories:  # the distinct difficulty tokens ("" where a line has 9 tokens)
        text = str(value)
        if isinstance(value, (float, np.floating)) or (text != "" and not is_int(text)):
            return None
        levels.append(int(text) if text else 0)
    name = np.asarray(classes, object)[np.asarray(name_col.codes, np.int64)]
    difficulty = np.asarray(levels, np.int64)[np.asarray(diff_col.codes, np.int64)]
    image = np.repeat(np.asarray([c[0] for c in clean], np.int64), rows)
    starts = np.cumsum(rows) - rows
    line = np.arange(rows.sum()) - np.repeat(starts, rows) + 1 + np.repeat(np.asarray([c[3] for c in clean]), rows)
    return image, poly, name, difficulty, line.astype(np.int64)


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
