"""Split large DOTA images into overlapping tiles, reproducing mmrotate's ``tools/data/dota/split/img_split.py``.

Pure functions (window positions, label parsing, object-to-window assignment, label lines) plus a thin IO layer
(:func:`split_dota`). The rules follow ``shared/docs/dota.md`` section 1.1:

* images: ``.jpg .JPG .png .tif .bmp`` (case-sensitive), listed in sorted order; size from the image header;
* labels: ``line.split(' ')``; >= 9 items -> 8 float32 coordinates + class; difficulty ``int(items[9])`` only with
  exactly 10 items, else 0; ``gsd``/``imagesource`` lines skipped;
* windows per size ``int(size/rate)``, gap ``int(gap/rate)``; x outer loop; the last start is moved back to
  ``W - size`` when it overflows; all sizes concatenated, then the img-rate filter (``> thr``, fallback: windows
  within 0.01 of the best rate are kept);
* IoF = shapely intersection area (float64) / float32 polygon area clipped at 1e-6, computed only where the
  horizontal boxes overlap; objects with IoF >= iof_thr are kept unclipped, translated in float32; difficulty '2'
  when IoF < 1;
* tiles ``{id}__{size}__{x}___{y}``: BGR crop, padded to the window size with the BGR pad value.

``style="devkit"`` / ``"ultralytics"`` reproduce DOTA_devkit's ``ImgSplit_multi_process.splitbase`` and
ultralytics' ``split_dota`` instead (``shared/docs/dota.md`` 1.2-1.4; see :func:`split_dota`).

Where mmrotate crashes or silently writes garbage we stop with the file, the line and the fix instead (see
:func:`parse_label_text`). Every output file is written atomically; a per-image marker in ``DST/.done`` makes a
re-run with the same arguments resume.
"""
from __future__ import annotations

import io
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import orjson

from evaluators.errors import DataprepError, InputFileError, ParameterError, RecordError

from .atomic import open_atomic, write_json_atomic

IMAGE_EXTS: Tuple[str, ...] = (".jpg", ".JPG", ".png", ".tif", ".bmp")
SAVE_EXTS: Tuple[str, ...] = (".png", ".jpg", ".bmp", ".tif")
ARGS_FILE = "split_args.json"
DONE_DIR = ".done"
IMG_RATE_EPS = 0.01
IOF_EPS = 1e-6

PathLike = Union[str, os.PathLike]


# ----------------------------------------------------------------------------------------------------------- windows
def _starts(length: int, size: int, step: int) -> List[int]:
    num = 1 if length <= size else math.ceil((length - size) / step + 1)
    starts = [step * i for i in range(num)]
    if len(starts) > 1 and starts[-1] + size > length:
        starts[-1] = length - size
    return starts


def sliding_windows(width: int, height: int, sizes: Sequence[int], gaps: Sequence[int],
                    img_rate_thr: float = 0.6) -> np.ndarray:
    """Windows ``[x0, y0, x1, y1]`` (int64, shape (K, 4)) that mmrotate keeps for a ``width`` x ``height`` image.

    For each (size, gap): x outer loop, y inner loop; then all sizes together go through the img-rate filter.
    """
    if len(sizes) != len(gaps) or not sizes:
        raise ParameterError(f"sizes {list(sizes)} and gaps {list(gaps)} must be non-empty and of the same length.",
                             fix="give one gap per window size")
    blocks = []
    for size, gap in zip(sizes, gaps):
        size, gap = int(size), int(gap)
        if not size > gap >= 0:
            raise ParameterError(f"window size {size} must be larger than its gap {gap} (and the gap >= 0).",
                                 fix="use a smaller --gap or a larger --size")
        step = size - gap
        xs, ys = _starts(int(width), size, step), _starts(int(height), size, step)
        start = np.array([(x, y) for x in xs for y in ys], dtype=np.int64).reshape(-1, 2)
        blocks.append(np.concatenate([start, start + size], axis=1))
    windows = np.concatenate(blocks, axis=0)

    clipped = windows.copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0, width)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0, height)
    img_areas = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    win_areas = (windows[:, 2] - windows[:, 0]) * (windows[:, 3] - windows[:, 1])
    rates = img_areas / win_areas
    if not (rates > img_rate_thr).any():
        best = rates.max()
        rates[np.abs(rates - best) < IMG_RATE_EPS] = 1
    return windows[rates > img_rate_thr]


def scaled_sizes(size: int, gap: int, rates: Sequence[float]) -> Tuple[List[int], List[int]]:
    """mmrotate's multi-scale rule: window ``int(size/rate)`` and gap ``int(gap/rate)`` for each rate."""
    for r in rates:
        if not r > 0:
            raise ParameterError(f"rate {r} must be > 0.", fix="give positive --rates, e.g. 0.5 1.0 1.5")
    return [int(size / r) for r in rates], [int(gap / r) for r in rates]


# ------------------------------------------------------------------------------------------------------------ labels
@dataclass
class Objects:
    """The objects of one image: float32 polygons (N, 8), class names, int64 difficulties, source lines."""

    polys: np.ndarray
    labels: List[str]
    diffs: np.ndarray
    lines: List[int] = field(default_factory=list)

    @classmethod
    def empty(cls) -> "Objects":
        return cls(np.zeros((0, 8), dtype=np.float32), [], np.zeros((0,), dtype=np.int64), [])

    def __len__(self) -> int:
        return len(self.labels)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_label_text(text: str, source: str = "<labels>") -> Objects:
    """Parse a DOTA ``labelTxt`` file the way mmrotate does (``text`` already has universal newlines).

    Differences, all on input mmrotate cannot handle: a line that starts with a number but has fewer than 9 items
    (too few numbers), non-numeric coordinates and a non-integer difficulty raise :class:`RecordError` (mmrotate
    skips the first silently and crashes on the others); the class of a 9-item line loses its line break
    (mmrotate would write it into the tile label, splitting the line in two).
    """
    polys, labels, diffs, lines = [], [], [], []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        if line.startswith("gsd"):
            continue
        items = line.split(" ")
        if len(items) < 9:
            first = items[0].strip()
            if first and _is_number(first):
                numbers = sum(1 for t in items if t.strip() and _is_number(t.strip()))
                raise RecordError(f"{source} line {lineno}", None, line.rstrip("\r\n"),
                                  f"has {len(items)} items ({numbers} numbers); a label line needs 8 coordinates, "
                                  "the class and optionally the difficulty, separated by single spaces",
                                  fix="fix or delete this line")
            continue  # imagesource:..., blank lines
        try:
            coords = [float(t) for t in items[:8]]
        except ValueError:
            raise RecordError(f"{source} line {lineno}", None, line.rstrip("\r\n"),
                              "the first 8 items must be numbers (x1 y1 ... x4 y4)",
                              fix="fix the coordinates; items are separated by exactly one space") from None
        diff = 0
        if len(items) == 10:
            try:
                diff = int(items[9])
            except ValueError:
                raise RecordError(f"{source} line {lineno}", None, line.rstrip("\r\n"),
                                  f"difficulty {items[9].strip()!r} is not an integer",
                                  fix="write 0 or 1 as the 10th item") from None
        polys.append(coords)
        labels.append(items[8].rstrip("\r\n") if len(items) == 9 else items[8])
        diffs.append(diff)
        lines.append(lineno)
    if not labels:
        return Objects.empty()
    return Objects(np.array(polys, dtype=np.float32), labels, np.array(diffs, dtype=np.int64), lines)


# ---------------------------------------------------------------------------------------------------- iof / assign
def window_iofs(polys: np.ndarray, windows: np.ndarray, source: str = "<labels>",
                lines: Optional[Sequence[int]] = None) -> np.ndarray:
    """IoF (N objects x K windows), exactly as mmrotate's ``bbox_overlaps_iof``.

    float64 shapely intersection area divided by the float32 polygon area clipped at 1e-6; the intersection is
    computed only where the object's horizontal box overlaps the window with positive area.
    """
    import shapely

    n, k = polys.shape[0], windows.shape[0]
    if n * k == 0:
        return np.zeros((n, k), dtype=np.float32)
    pts = polys.reshape(n, 4, 2)
    hbb = np.concatenate([pts.min(axis=1), pts.max(axis=1)], axis=1)[:, None, :]  # float32
    lt = np.maximum(hbb[..., :2], windows[..., :2])
    rb = np.minimum(hbb[..., 2:], windows[..., 2:])
    wh = np.clip(rb - lt, 0, np.inf)
    h_overlaps = wh[..., 0] * wh[..., 1]

    obj_geoms = shapely.polygons(pts.astype(np.float64))
    l, t, r, b = (windows[:, i].astype(np.float64) for i in range(4))
    win_geoms = shapely.polygons(np.stack([l, t, r, t, r, b, l, b], axis=-1).reshape(k, 4, 2))
    rows, cols = np.nonzero(h_overlaps)
    overlaps = np.zeros((n, k), dtype=np.float64)
    if rows.size:
        try:
            inter = shapely.area(shapely.intersection(obj_geoms[rows], win_geoms[cols]))
        except shapely.errors.GEOSException:
            inter = np.zeros(rows.size)
            for j, (i, w) in enumerate(zip(rows, cols)):
                try:
                    inter[j] = obj_geoms[i].intersection(win_geoms[w]).area
                except shapely.errors.GEOSException as exc:
                    where = f"{source} line {lines[i]}" if lines else source
                    raise RecordError(where, None, polys[i].tolist(), f"the polygon cannot be intersected ({exc})",
                                      fix="fix the polygon (it is probably self-intersecting)") from None
        overlaps[rows, cols] = inter
    areas = shapely.area(obj_geoms).astype(np.float32)
    areas = np.maximum(areas, np.float32(IOF_EPS))
    return overlaps / areas[:, None]


@dataclass
class TileLabels:
    """The label lines of one window and its counts."""

    text: str
    objects: int
    truncated: int


def translate(polys: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Shift (N, 8) float32 polygons by (dx, dy) in float32, like mmrotate's ``translate``."""
    return polys + np.array([dx, dy] * (polys.shape[-1] // 2), dtype=np.float32)


def assign_objects(objects: Objects, windows: np.ndarray, iof_thr: float = 0.7, source: str = "<labels>"
                   ) -> Tuple[List[TileLabels], int]:
    """Label text per window and the number of objects that landed in no window."""
    iofs = window_iofs(objects.polys, windows, source, objects.lines)
    tiles = []
    used = np.zeros(len(objects), dtype=bool)
    for w in range(windows.shape[0]):
        win_iofs = iofs[:, w]
        keep = np.nonzero(win_iofs >= iof_thr)[0]
        used[keep] = True
        shifted = translate(objects.polys[keep], -int(windows[w, 0]), -int(windows[w, 1]))
        trunc = win_iofs[keep] < 1
        out = []
        for row, i, tr in zip(shifted, keep, trunc):
            diff = "2" if tr else str(objects.diffs[i])
            out.append(" ".join(str(v) for v in row) + " " + objects.labels[i] + " " + diff + "\n")
        tiles.append(TileLabels("".join(out), len(keep), int(trunc.sum())))
    return tiles, int((~used).sum())


def tile_name(image_id: str, window: Sequence[int]) -> str:
    """mmrotate tile name ``{id}__{x1-x0}__{x0}___{y0}``."""
    x0, y0, x1, _ = (int(v) for v in window)
    return f"{image_id}__{x1 - x0}__{x0}___{y0}"


def crop_tile(img: np.ndarray, window: Sequence[int], padding: bool = True,
              pad_value: Union[int, Sequence[int]] = (104, 116, 124)) -> np.ndarray:
    """``img[y0:y1, x0:x1]``, placed top-left on a window-sized canvas of ``pad_value`` when it is smaller."""
    x0, y0, x1, y1 = (int(v) for v in window)
    patch = img[y0:y1, x0:x1]
    if padding and (y1 - y0 > patch.shape[0] or x1 - x0 > patch.shape[1]):
        canvas = np.empty((y1 - y0, x1 - x0) + patch.shape[2:], dtype=np.uint8)
        canvas[...] = pad_value
        canvas[:patch.shape[0], :patch.shape[1], ...] = patch
        patch = canvas
    return patch


# ------------------------------------------------------------------------------------------------ other styles
STYLES: Tuple[str, ...] = ("mmrotate", "devkit", "ultralytics")
LABEL_DIRS: Dict[str, str] = {"mmrotate": "annfiles", "devkit": "labelTxt", "ultralytics": "labels"}
DEFAULT_PAD: Dict[str, Tuple[int, ...]] = {"mmrotate": (104, 116, 124), "devkit": (0,), "ultralytics": (0,)}
DEFAULT_EXT: Dict[str, str] = {"mmrotate": ".png", "devkit": ".png", "ultralytics": ".jpg"}
# ultralytics convert_dota_to_yolo_obb class order (shared/docs/dota.md 1.3)
ULTRALYTICS_CLASSES: Tuple[str, ...] = (
    "plane", "ship", "storage-tank", "baseball-diamond", "tennis-court", "basketball-court", "ground-track-field",
    "harbor", "bridge", "large-vehicle", "small-vehicle", "helicopter", "roundabout", "soccer-ball-field",
    "swimming-pool", "container-crane", "airport", "helipad")


@dataclass
class DevkitObjects:
    """Objects parsed the DOTA_devkit way: int-truncated coordinates (N, 8) int64, names, difficulty strings."""

    polys: np.ndarray
    labels: List[str]
    diffs: List[str]
    lines: List[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)


def parse_label_text_devkit(text: str, source: str = "<labels>") -> DevkitObjects:
    """DOTA_devkit ``parse_dota_poly2``: ``line.strip().split(' ')``, lines with < 9 items skipped, difficulty the
    10th item as a string ('0' with 9 items), coordinates ``int(float(x))`` (truncated toward zero).

    Non-numeric coordinates raise :class:`RecordError` (the devkit crashes there).
    """
    polys, labels, diffs, lines = [], [], [], []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        items = line.strip().split(" ")
        if len(items) < 9:
            continue
        try:
            coords = [int(float(t)) for t in items[:8]]
        except (ValueError, OverflowError):
            raise RecordError(f"{source} line {lineno}", None, line.rstrip("\r\n"),
                              "the first 8 items must be finite numbers (x1 y1 ... x4 y4)",
                              fix="fix the coordinates; items are separated by exactly one space") from None
        polys.append(coords)
        labels.append(items[8])
        diffs.append(items[9] if len(items) >= 10 else "0")
        lines.append(lineno)
    arr = np.array(polys, dtype=np.int64).reshape(-1, 8)
    return DevkitObjects(arr, labels, diffs, lines)


def devkit_windows(width: int, height: int, subsize: int, gap: int) -> List[Tuple[int, int, int, int]]:
    """DOTA_devkit window loop: ``(left, up, right, down)`` with right/bottom ``min(start+subsize, W-1 / H-1)``
    (the rectangle used for the object test); x outer loop; no img-rate filter."""
    slide = subsize - gap
    if slide <= 0 or gap < 0:
        raise ParameterError(f"window size {subsize} must be larger than its gap {gap} (and the gap >= 0).",
                             fix="use a smaller --gap or a larger --size")
    out = []
    left = 0
    while left < width:
        if left + subsize >= width:
            left = max(width - subsize, 0)
        up = 0
        while up < height:
            if up + subsize >= height:
                up = max(height - subsize, 0)
            out.append((left, up, min(left + subsize, width - 1), min(up + subsize, height - 1)))
            if up + subsize >= height:
                break
            up += slide
        if left + subsize >= width:
            break
        left += slide
    return out


def _poly4_from_poly5(pts: List[Tuple[float, float]]) -> List[Tuple[float, float]]:
    """Merge the two end points of the shortest edge (edges i -> i+1, the last one 4 -> 0) into their midpoint."""
    lengths = [math.sqrt((pts[i][0] - pts[(i + 1) % 5][0]) ** 2 + (pts[i][1] - pts[(i + 1) % 5][1]) ** 2)
               for i in range(5)]
    pos = int(np.array(lengths).argsort()[0])
    out = []
    for i in range(5):
        if i == pos:
            a, b = pts[i], pts[(i + 1) % 5]
            out.append(((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
        elif i == (pos + 1) % 5:
            continue
        else:
            out.append(pts[i])
    return out


def _best_start(flat: Sequence[float], ref: Sequence[float]) -> List[float]:
    """The cyclic rotation of the 4-gon ``flat`` with the least squared distance to ``ref`` (first on ties)."""
    rots = [list(flat[2 * k:]) + list(flat[:2 * k]) for k in range(4)]
    target = np.array(ref, dtype=np.float64)
    dists = np.array([np.sum((np.array(r, dtype=np.float64) - target) ** 2) for r in rots])
    return rots[int(dists.argsort()[0])]


def assign_objects_devkit(objects: DevkitObjects, windows: Sequence[Tuple[int, int, int, int]], subsize: int,
                          thresh: float = 0.7, source: str = "<labels>", rate: float = 1.0,
                          used: Optional[np.ndarray] = None) -> Tuple[List[TileLabels], int]:
    """DOTA_devkit ``savepatches`` for every window: label text per window and the number of objects written
    nowhere (zero area, or only > 5-gon / < 4-gon pieces). Polygons are multiplied by ``rate`` first."""
    import shapely
    from shapely.geometry.polygon import orient

    n = len(objects)
    polys = objects.polys.astype(np.float64) * float(rate)
    geoms = shapely.polygons(polys.reshape(-1, 4, 2)) if n else np.zeros((0,), dtype=object)
    areas = shapely.area(geoms) if n else np.zeros((0,))
    if used is None:
        used = np.zeros(n, dtype=bool)
    written = np.zeros(n, dtype=bool)
    tiles = []
    for left, up, right, down in windows:
        win = shapely.Polygon([(left, up), (right, up), (right, down), (left, down)])
        out: List[str] = []
        truncated = 0
        if n:
            # an intersection of positive area needs overlapping bounding boxes (the rest has IoF 0)
            cand = np.nonzero((areas > 0) & (polys[:, 0::2].max(1) > left) & (polys[:, 0::2].min(1) < right)
                              & (polys[:, 1::2].max(1) > up) & (polys[:, 1::2].min(1) < down))[0]
        else:
            cand = np.zeros((0,), dtype=np.int64)
        for i in cand:
            try:
                inter = geoms[i].intersection(win)
            except shapely.errors.GEOSException as exc:
                raise RecordError(f"{source} line {objects.lines[i]}", None, objects.polys[i].tolist(),
                                  f"the polygon cannot be intersected ({exc})",
                                  fix="fix the polygon (it is probably self-intersecting)") from None
            iof = inter.area / areas[i]
            if iof == 1:
                vals = [float(int(v - (left if j % 2 == 0 else up))) for j, v in enumerate(polys[i].tolist())]
                diff = objects.diffs[i]
            elif iof > 0:
                if inter.geom_type != "Polygon":
                    continue  # MultiPolygon/collection from a concave object: the devkit crashes here
                ring = list(orient(inter, sign=1).exterior.coords)[:-1]
                if len(ring) < 4 or len(ring) > 5:
                    continue
                if len(ring) == 5:
                    ring = _poly4_from_poly5(ring)
                flat = [c for pt in ring for c in pt]
                flat = _best_start(flat, polys[i].tolist())
                vals = []
                for j, v in enumerate(flat):
                    t = float(int(v - (left if j % 2 == 0 else up)))
                    vals.append(1.0 if t <= 1 else float(subsize) if t >= subsize else t)
                if iof > thresh:
                    diff = objects.diffs[i]
                else:
                    diff = "2"
                    truncated += 1
            else:
                continue
            used[i] = written[i] = True
            out.append(" ".join(str(v) for v in vals) + " " + objects.labels[i] + " " + diff + "\n")
        tiles.append(TileLabels("".join(out), len(out), truncated))
    return tiles, int((~written).sum())


def devkit_tile_name(image_id: str, rate: float, left: int, up: int) -> str:
    """``{id}__{rate}__{left}___{up}``; an integral rate is written like ``splitdata(1)`` (``__1__``)."""
    r = float(rate)
    text = str(int(r)) if r.is_integer() else str(r)
    return f"{image_id}__{text}__{left}___{up}"


def devkit_crop(img: np.ndarray, left: int, up: int, subsize: int, padding: bool = True,
                pad_value: Union[int, Sequence[int]] = 0) -> np.ndarray:
    """``img[up:up+subsize, left:left+subsize]``; with padding placed top-left on a subsize x subsize canvas."""
    patch = img[up:up + subsize, left:left + subsize]
    if padding:
        canvas = np.empty((subsize, subsize, 3), dtype=np.uint8)
        canvas[...] = pad_value
        canvas[:patch.shape[0], :patch.shape[1], :] = patch if patch.ndim == 3 else patch[..., None]
        patch = canvas
    return patch


def ultralytics_label_text(objects: Objects, keep: np.ndarray, window: Sequence[int], patch_w: int, patch_h: int,
                           source: str = "<labels>") -> str:
    """YOLO-OBB lines ``class_index x1 y1 ... y4`` of the objects ``keep``: translated to the window and normalised
    by the patch size in float32, each value ``{:.6g}`` (not clamped, like ultralytics)."""
    index = {name: i for i, name in enumerate(ULTRALYTICS_CLASSES)}
    pts = objects.polys[keep].astype(np.float32).copy()
    pts[:, 0::2] -= np.float32(window[0])
    pts[:, 1::2] -= np.float32(window[1])
    pts[:, 0::2] /= np.float32(patch_w)
    pts[:, 1::2] /= np.float32(patch_h)
    out = []
    for row, i in zip(pts, keep):
        name = objects.labels[i]
        if name not in index:
            raise RecordError(f"{source} line {objects.lines[i]}", None, name,
                              f"class {name!r} is not in ultralytics' DOTA class list",
                              fix=f"use one of {', '.join(ULTRALYTICS_CLASSES)}, or another --style")
        out.append(f"{index[name]} " + " ".join(f"{float(v):.6g}" for v in row) + "\n")
    return "".join(out)


# --------------------------------------------------------------------------------------------------------------- IO
@dataclass
class ImageTask:
    """One source image to split."""

    image_id: str
    image_path: str
    label_path: Optional[str]  # None: no labelTxt folder (test set)
    width: int
    height: int


@dataclass
class ImageResult:
    image_id: str
    tiles: int = 0
    objects: int = 0
    truncated: int = 0
    dropped: int = 0
    input_objects: int = 0
    missing_labels: bool = False
    unknown: Dict[str, int] = field(default_factory=dict)  # objects of classes outside the list, per class


@dataclass
class SplitSummary:
    """What a split did (skipped images are those a previous run had finished)."""

    images: int = 0
    skipped: int = 0
    tiles: int = 0
    objects: int = 0
    truncated: int = 0
    dropped: int = 0
    input_objects: int = 0
    missing_labels: List[str] = field(default_factory=list)
    unknown: Dict[str, int] = field(default_factory=dict)
    restricted: bool = False
    seconds: float = 0.0
    out: str = ""

    def line(self) -> str:
        """One-line summary for the CLI."""
        resumed = f" ({self.skipped} already done)" if self.skipped else ""
        return (f"split {self.images} images{resumed} into {self.tiles} tiles; {self.objects} objects written "
                f"({self.truncated} truncated '2'), {self.dropped} dropped (in no window) of {self.input_objects}; "
                f"{self.seconds:.2f}s" + self._unknown_text())

    def _unknown_text(self) -> str:
        if not self.unknown:
            return ""
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.unknown.items()))
        what = "dropped (not in --classes)" if self.restricted else "kept, but not DOTA classes"
        return f"; objects of other classes {what}: {shown}"


def _image_size(path: Path) -> Tuple[int, int]:
    from PIL import Image

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputFileError(path, f"cannot read the image header ({exc})",
                             fix="replace the file or remove it from images/") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def _layout_hint(src: Path) -> str:
    """The ``dota`` layout report of ``src`` when it holds something of a DOTA tree (e.g. a root with train/ and
    val/, or images one level too deep), else nothing."""
    from .layouts import check_layout

    report = check_layout("dota", src)
    if not any(it.present or it.misplaced for it in report.items):
        return ""
    return ". What the folder holds (dota layout):\n" + report.render()


def list_images(src: PathLike) -> List[ImageTask]:
    """The images of one DOTA split folder (``images/`` + optional ``labelTxt/``), sorted by file name."""
    src = Path(src)
    img_dir, ann_dir = src / "images", src / "labelTxt"
    if not src.is_dir():
        raise InputFileError(src, "is not a folder", fix="give a DOTA split folder holding images/ (and labelTxt/)")
    if not img_dir.is_dir():
        raise InputFileError(src, "has no images/ folder",
                             fix="give the folder that contains images/ and labelTxt/ (e.g. DOTA/train), not images/ "
                                 "itself" + _layout_hint(src))
    has_labels = ann_dir.is_dir()
    tasks = []
    for name in sorted(os.listdir(img_dir)):
        image_id, ext = os.path.splitext(name)
        if ext not in IMAGE_EXTS or not (img_dir / name).is_file():
            continue
        w, h = _image_size(img_dir / name)
        label = str(ann_dir / f"{image_id}.txt") if has_labels else None
        tasks.append(ImageTask(image_id, str(img_dir / name), label, int(w), int(h)))
    return tasks


def read_labels(path: Optional[str], style: str = "mmrotate"):
    """Objects of a label file; (empty, True) when the file is missing (mmrotate: treated as empty)."""
    parse = parse_label_text_devkit if style == "devkit" else parse_label_text
    if path is None:
        return parse("", "<none>"), False
    if not os.path.isfile(path):
        return parse("", path), True
    try:
        with open(path, "r", encoding="utf-8") as fh:  # universal newlines, like mmrotate's open(..., 'r')
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"is not UTF-8 text ({exc})", fix="save the label file as UTF-8") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc})", fix="check the file and its permissions") from None
    return parse(text, path), False


def _read_image(task: ImageTask) -> np.ndarray:
    import cv2

    img = cv2.imread(task.image_path)
    if img is None:
        raise InputFileError(task.image_path, "cannot be decoded (truncated or corrupt image)",
                             fix="re-download or replace the image, or move it out of images/, then run again "
                                 "(finished images are skipped)")
    if img.shape[1] != task.width or img.shape[0] != task.height:
        raise InputFileError(task.image_path,
                             f"decodes to {img.shape[1]}x{img.shape[0]} but its header says {task.width}x{task.height} "
                             "(EXIF rotation or a damaged file)",
                             fix="re-save the image without EXIF orientation, or replace it")
    return img


def _write_bytes(path: Path, data: bytes) -> None:
    with open_atomic(path, "wb") as fh:
        fh.write(data)


def _encode(ext: str, patch: np.ndarray, name: str) -> bytes:
    import cv2

    ok, buf = cv2.imencode(ext, patch)
    if not ok:
        raise DataprepError(f"OpenCV could not encode tile {name} as {ext}.", fix="use --ext .png")
    return buf.tobytes()


def split_image(task: ImageTask, out: str, sizes: Sequence[int], gaps: Sequence[int], img_rate_thr: float,
                iof_thr: float, padding: bool, pad_value, ext: str, style: str = "mmrotate",
                rates: Sequence[float] = (1.0,), size: int = 1024, gap: int = 200,
                classes: Optional[Tuple[str, ...]] = None) -> ImageResult:
    """Split one image: write its tiles and labels atomically, then its ``.done`` marker.

    ``sizes``/``gaps`` are mmrotate's scaled windows (styles mmrotate and ultralytics); the devkit style resizes the
    image by each of ``rates`` and uses ``size``/``gap`` as they are.
    """
    out_p = Path(out)
    label_dir = out_p / LABEL_DIRS[style]
    objects, missing = read_labels(task.label_path, style)
    source = task.label_path or task.image_path
    objects, unknown = _restrict(objects, classes)
    res = ImageResult(task.image_id, input_objects=len(objects), missing_labels=missing, unknown=unknown)
    if style == "devkit":
        import cv2

        img = _read_image(task)
        used_all = np.zeros(len(objects), dtype=bool)
        for rate in rates:
            scaled = img if float(rate) == 1 else cv2.resize(img, None, fx=rate, fy=rate,
                                                             interpolation=cv2.INTER_CUBIC)
            h, w = scaled.shape[:2]
            windows = devkit_windows(w, h, int(size), int(gap))
            tile_labels, _ = assign_objects_devkit(objects, windows, int(size), iof_thr, source, rate, used_all)
            for (left, up, _, _), labels in zip(windows, tile_labels):
                name = devkit_tile_name(task.image_id, rate, left, up)
                patch = devkit_crop(scaled, left, up, int(size), padding, pad_value)
                _write_bytes(out_p / "images" / f"{name}{ext}", _encode(ext, patch, name))
                _write_bytes(label_dir / f"{name}.txt", labels.text.encode("utf-8"))
                res.tiles += 1
                res.objects += labels.objects
                res.truncated += labels.truncated
        res.dropped = int((~used_all).sum())
    else:
        windows = sliding_windows(task.width, task.height, sizes, gaps, img_rate_thr)
        img = _read_image(task)
        if style == "mmrotate":
            tile_labels, dropped = assign_objects(objects, windows, iof_thr, source)
            res.dropped = dropped
            for window, labels in zip(windows, tile_labels):
                name = tile_name(task.image_id, window)
                patch = crop_tile(img, window, padding, pad_value)
                _write_bytes(out_p / "images" / f"{name}{ext}", _encode(ext, patch, name))
                _write_bytes(label_dir / f"{name}.txt", labels.text.encode("utf-8"))
                res.tiles += 1
                res.objects += labels.objects
                res.truncated += labels.truncated
        else:  # ultralytics
            iofs = window_iofs(objects.polys, windows, source, objects.lines)
            used = np.zeros(len(objects), dtype=bool)
            for w, window in enumerate(windows):
                name = tile_name(task.image_id, window)
                patch = crop_tile(img, window, False)
                keep = np.nonzero(iofs[:, w] >= iof_thr)[0]
                used[keep] = True
                _write_bytes(out_p / "images" / f"{name}{ext}", _encode(ext, patch, name))
                if keep.size:
                    text = ultralytics_label_text(objects, keep, window, patch.shape[1], patch.shape[0], source)
                    _write_bytes(label_dir / f"{name}.txt", text.encode("utf-8"))
                res.tiles += 1
                res.objects += int(keep.size)
                res.truncated += int((iofs[keep, w] < 1).sum())
            res.dropped = int((~used).sum())
    marker = {k: getattr(res, k) for k in ("tiles", "objects", "truncated", "dropped", "input_objects",
                                             "missing_labels", "unknown")}
    write_json_atomic(out_p / DONE_DIR / task.image_id, marker, indent=False)
    return res


def _restrict(objects: Objects, classes: Optional[Tuple[str, ...]]) -> Tuple[Objects, Dict[str, int]]:
    """Objects of ``classes`` only (all when None) and the count of the others per class; without a list,
    names outside DOTA v2.0's 18 classes are counted (and kept) so that typos get reported."""
    from evaluators.data.dota import DOTA_V2_CLASSES

    known = set(classes) if classes else set(DOTA_V2_CLASSES)
    unknown: Dict[str, int] = {}
    for name in objects.labels:
        if name not in known:
            unknown[name] = unknown.get(name, 0) + 1
    if not classes or not unknown:
        return objects, unknown
    keep = np.asarray([name in known for name in objects.labels], dtype=bool)
    lines = [ln for ln, k in zip(objects.lines, keep) if k] if objects.lines else objects.lines
    return Objects(objects.polys[keep], [n for n, k in zip(objects.labels, keep) if k], objects.diffs[keep],
                   lines), unknown


def _split_star(args) -> ImageResult:
    return split_image(*args)


def _check_out(out: Path, record: Dict[str, object]) -> None:
    if out.exists() and not out.is_dir():
        raise InputFileError(out, "exists and is not a folder", fix="give a new folder for --out")
    args_path = out / ARGS_FILE
    if args_path.is_file():
        try:
            old = orjson.loads(args_path.read_bytes())
            if isinstance(old, dict):
                old.setdefault("style", "mmrotate")  # written before styles existed
        except orjson.JSONDecodeError as exc:
            raise InputFileError(args_path, f"is not valid JSON ({exc})",
                                 fix="delete the output folder and split again") from None
        diff = sorted(k for k in set(old) | set(record) if old.get(k) != record.get(k))
        if diff:
            shown = "; ".join(f"{k}: {old.get(k)!r} there, {record.get(k)!r} now" for k in diff)
            raise DataprepError(f"{out} holds a split made with other arguments ({shown}).",
                                fix="use a new --out folder, delete this one, or repeat the original arguments "
                                    "to resume it")
    elif out.is_dir() and any(p for p in out.iterdir()):
        raise DataprepError(f"{out} is not empty and holds no {ARGS_FILE}, so it is not a split made by dataprep.",
                            fix="give a new or empty folder for --out")


def split_dota(srcs: Union[PathLike, Sequence[PathLike]], out: PathLike, size: int = 1024, gap: int = 200,
               rates: Sequence[float] = (1.0,), img_rate_thr: float = 0.6, iof_thr: float = 0.7,
               padding: Optional[bool] = None, pad_value: Union[None, int, Sequence[int]] = None,
               ext: Optional[str] = None, workers: int = 1, progress: bool = False, style: str = "mmrotate",
               classes: Optional[Sequence[str]] = None) -> SplitSummary:
    """Split the DOTA folders ``srcs`` into tiles the way ``style`` does.

    * ``mmrotate`` (default): ``img_split.py``, ``out/images`` + ``out/annfiles``; padding (104,116,124), .png.
    * ``devkit``: DOTA_devkit ``ImgSplit_multi_process.splitbase(...).splitdata(rate)`` for each rate (real resize),
      clipped int polygons, ``out/images`` + ``out/labelTxt``; padding black (0) to ``size``, .png;
      ``img_rate_thr`` is not used and ``iof_thr`` is the devkit's ``thresh`` (difficulty '2' at IoF <= it).
    * ``ultralytics``: ``split_dota.split_trainval`` on DOTA labels: mmrotate's windows and IoF rule, no padding,
      .jpg, YOLO-OBB normalised labels in ``out/labels`` (no file for an empty tile).

    ``classes`` restricts the objects written to those classes (the others are counted in the summary);
    without it every object is written and names outside DOTA v2.0's classes are reported.
    ``padding``/``pad_value``/``ext`` left as None take the style's default. A re-run with the same arguments skips
    the images that are finished (``out/.done/<id>``).
    """
    t0 = time.time()
    if style not in STYLES:
        raise ParameterError(f"style {style!r} is not known.", fix=f"use one of {', '.join(STYLES)}")
    if padding is None:
        padding = style != "ultralytics"
    if style == "ultralytics" and padding:
        raise ParameterError("the ultralytics style writes unpadded tiles.", fix="drop --padding or use another --style")
    if pad_value is None:
        pad_value = DEFAULT_PAD[style]
    if ext is None:
        ext = DEFAULT_EXT[style]
    if isinstance(srcs, (str, os.PathLike)):
        srcs = [srcs]
    srcs = [Path(s) for s in srcs]
    if not srcs:
        raise ParameterError("no source folder given.", fix="give at least one DOTA split folder")
    if ext not in SAVE_EXTS:
        raise ParameterError(f"--ext {ext!r} is not supported.", fix=f"use one of {', '.join(SAVE_EXTS)}")
    if not 0 <= iof_thr < 1:
        raise ParameterError(f"iof_thr {iof_thr} must be in [0, 1).", fix="use e.g. --iof-thr 0.7")
    if not 0 <= img_rate_thr < 1:
        raise ParameterError(f"img_rate_thr {img_rate_thr} must be in [0, 1).", fix="use e.g. --img-rate-thr 0.6")
    pad = [int(v) for v in (pad_value if isinstance(pad_value, (list, tuple)) else [pad_value])]
    if len(pad) not in (1, 3) or any(not 0 <= v <= 255 for v in pad):
        raise ParameterError(f"pad value {pad} must be one or three integers in 0..255 (B,G,R).",
                             fix="use e.g. --pad-value 104,116,124")
    pad_arg: Union[int, Tuple[int, ...]] = pad[0] if len(pad) == 1 else tuple(pad)
    sizes, gaps = scaled_sizes(int(size), int(gap), rates)
    if style == "devkit":
        devkit_windows(1, 1, int(size), int(gap))  # validates size > gap
    else:
        sliding_windows(1, 1, sizes, gaps, img_rate_thr)  # validates size > gap

    out = Path(out)
    record = {"srcs": [str(s.resolve()) for s in srcs], "size": int(size), "gap": int(gap),
              "rates": [float(r) for r in rates], "img_rate_thr": float(img_rate_thr), "iof_thr": float(iof_thr),
              "padding": bool(padding), "pad_value": pad, "ext": ext, "style": style}
    if classes:
        record["classes"] = [str(c) for c in classes]
    _check_out(out, record)

    tasks: List[ImageTask] = []
    seen: Dict[str, str] = {}
    for src in srcs:
        for task in list_images(src):
            if task.image_id in seen:
                raise DataprepError(f"image id {task.image_id} is in both {seen[task.image_id]} and "
                                    f"{task.image_path}; their tiles would overwrite each other.",
                                    fix="split these folders into different --out folders")
            seen[task.image_id] = task.image_path
            tasks.append(task)

    out.mkdir(parents=True, exist_ok=True)
    if not (out / ARGS_FILE).is_file():
        write_json_atomic(out / ARGS_FILE, record)
    for sub in ("images", LABEL_DIRS[style], DONE_DIR):
        (out / sub).mkdir(exist_ok=True)

    summary = SplitSummary(out=str(out), restricted=bool(classes))
    todo = []
    for task in tasks:
        marker = out / DONE_DIR / task.image_id
        if marker.is_file():
            try:
                done = orjson.loads(marker.read_bytes())
                summary.skipped += 1
                _add(summary, ImageResult(task.image_id, **done))
                continue
            except (orjson.JSONDecodeError, TypeError):
                pass  # damaged marker: redo the image
        todo.append(task)

    from tqdm import tqdm

    jobs = [(t, str(out), sizes, gaps, img_rate_thr, iof_thr, padding, pad_arg, ext, style, tuple(rates), int(size),
             int(gap), tuple(classes) if classes else None) for t in todo]
    bar = tqdm(total=len(tasks), initial=summary.skipped, disable=not progress, file=sys.stderr, unit="img",
               desc="dota-split")
    try:
        if workers > 1 and len(jobs) > 1:
            import multiprocessing

            with multiprocessing.get_context().Pool(min(workers, len(jobs))) as pool:
                for res in pool.imap(_split_star, jobs):
                    _add(summary, res)
                    bar.update(1)
        else:
            for job in jobs:
                _add(summary, _split_star(job))
                bar.update(1)
    finally:
        bar.close()
    summary.seconds = time.time() - t0
    return summary


def _add(summary: SplitSummary, res: ImageResult) -> None:
    summary.images += 1
    summary.tiles += res.tiles
    summary.objects += res.objects
    summary.truncated += res.truncated
    summary.dropped += res.dropped
    summary.input_objects += res.input_objects
    if res.missing_labels:
        summary.missing_labels.append(res.image_id)
    for name, n in res.unknown.items():
        summary.unknown[name] = summary.unknown.get(name, 0) + n


__all__ = ["STYLES", "devkit_windows", "parse_label_text_devkit", "assign_objects_devkit", "devkit_tile_name",
           "devkit_crop", "ultralytics_label_text", "sliding_windows", "scaled_sizes", "parse_label_text", "window_iofs", "assign_objects", "tile_name",
           "crop_tile", "list_images", "split_image", "split_dota", "SplitSummary", "Objects"]
