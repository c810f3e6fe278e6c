"""Merge tile-level DOTA detections back to whole images: shift, class-wise NMS, Task1 files and a zip.

Tile names carry the window offset in either family:

* ``P0003__1024__824___0``: mmrotate / ultralytics (window size, tile not resized): coordinates are only
  shifted by (824, 0);
* ``P0003__1__824___0`` or ``P0003__0.5__824___0``: the DOTA devkit (its rate; the tile was resized by
  it): coordinates become (c + offset) / rate, as its ResultMerge does.

A number with a decimal point or at most 16 is read as a devkit rate, a larger integer as a window size
(``name_style`` forces one reading). The original name is everything before the tile suffix, so names that
contain ``__`` themselves still work. NMS is per original image and class, greedy by score (ties: input
order), suppressing IoU > ``nms_iou`` (0.1, the devkit's ``ResultMerge_multi_process``) with the devkit's
polygon IoU (``poly``) or the IoU of the polygons' minimum-area rectangles (``rotated``, as mmrotate's
rotated-box NMS). Output lines are written as the devkit writes them (images in order of first appearance,
detections by descending score, Python float repr).
"""
from __future__ import annotations

import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from evaluators.data import dota
from evaluators.device import resolve_device
from evaluators.errors import InputFileError, ParameterError, RecordError
from evaluators.kernels.poly_nms import batched_poly_nms

from .atomic import open_atomic

_TILE = re.compile(r"^(?P<name>.+?)__(?P<scale>\d+(?:\.\d*)?)__(?P<x>\d+)___(?P<y>\d+)$")
NAME_STYLES = ("auto", "devkit", "mmrotate")
NMS_KINDS = ("poly", "rotated")


@dataclass(frozen=True)
class TileName:
    """A parsed tile name: the original image, the offset and the devkit rate (None: not resized)."""

    image: str
    x: int
    y: int
    rate: Optional[float]


def parse_tile_name(name: str, style: str = "auto") -> TileName:
    """Split ``P0003__1024__824___0`` / ``P0003__1__824___0`` into image, offset and rate."""
    m = _TILE.match(name)
    if m is None:
        raise ValueError(name)
    scale = m.group("scale")
    if style == "devkit":
        rate: Optional[float] = float(scale)
    elif style == "mmrotate":
        rate = None
    else:
        rate = float(scale) if ("." in scale or float(scale) <= 16) else None
    if rate is not None and rate <= 0:
        raise ValueError(name)
    return TileName(m.group("name"), int(m.group("x")), int(m.group("y")), rate)


@dataclass
class MergeSummary:
    """What a merge did, per class and in total."""

    tiles: int = 0
    images: int = 0
    detections_in: int = 0
    detections_out: int = 0
    per_class: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    files: List[Path] = field(default_factory=list)
    zip_path: Optional[Path] = None
    seconds: float = 0.0

    def line(self) -> str:
        """One-line summary for the CLI."""
        return (f"merged {self.detections_in} tile detections from {self.tiles} tiles into {self.detections_out} "
                f"detections on {self.images} images ({len(self.per_class)} classes) in {self.seconds:.2f}s")


def merge_class(lines: dota.Task1Lines, source: str, nms_iou: float = 0.1, nms: str = "poly",
                name_style: str = "auto", device: torch.device = torch.device("cpu")) -> List[str]:
    """Merged Task1 lines of one class file (whole-image names and coordinates, after NMS)."""
    tiles, inverse = dota.image_codes(lines.images)
    parsed = []
    for k, tile in enumerate(tiles):
        try:
            parsed.append(parse_tile_name(str(tile), name_style))
        except ValueError:
            ln = lines.lines[int(np.flatnonzero(inverse == k)[0])]
            raise RecordError(f"{source}, {'record #' if source.endswith('.json') else 'line '}{ln}", None, str(tile),
                              "tile name does not parse",
                              fix="tile names look like P0003__1024__824___0 (mmrotate) or P0003__1__824___0 (devkit); "
                                  "whole-image detections need no merge.") from None
    offsets = np.asarray([(t.x, t.y) for t in parsed], np.float64).reshape(-1, 2)[inverse]
    rates = np.asarray([1.0 if t.rate is None else t.rate for t in parsed], np.float64)[inverse]
    names = [parsed[k].image for k in inverse]
    polys = dota.polys_array(lines.polys)
    shifted = np.empty_like(polys)
    shifted[:, 0::2] = (polys[:, 0::2] + offsets[:, :1]) / rates[:, None]
    shifted[:, 1::2] = (polys[:, 1::2] + offsets[:, 1:]) / rates[:, None]
    first_seen = list(dict.fromkeys(names))
    image_index = {n: i for i, n in enumerate(first_seen)}
    group = np.asarray([image_index[n] for n in names], np.int64)
    scores = np.asarray(lines.scores, np.float64)
    geometry = shifted if nms == "poly" else _rectangles(shifted)
    keep = batched_poly_nms(torch.as_tensor(geometry, device=device), torch.as_tensor(scores, device=device),
                            torch.as_tensor(group, device=device), nms_iou).cpu().numpy()
    kept = np.flatnonzero(keep)
    kept = kept[np.lexsort((kept, -scores[kept], group[kept]))]
    return dota.format_task1_lines([names[i] for i in kept], scores[kept], shifted[kept])


def merge_folder(src: Path, out: Path, *, nms_iou: float = 0.1, nms: str = "poly", name_style: str = "auto",
                 classes: Sequence[str] = dota.DOTA_V1_CLASSES, make_zip: bool = True, device: Any = "cpu",
                 log: Optional[Callable[[str], None]] = None, progress: bool = False) -> MergeSummary:
    """Merge every ``Task1_<class>.txt`` of ``src`` into ``out`` (plus empty files for the other ``classes``)
    and zip them (``out`` + ``.zip``, files at the zip root, as the evaluation server wants)."""
    from tqdm import tqdm

    if nms not in NMS_KINDS:
        raise ParameterError(f"Expected `nms` to be one of {', '.join(NMS_KINDS)} but got {nms!r}.")
    if name_style not in NAME_STYLES:
        raise ParameterError(f"Expected `name_style` to be one of {', '.join(NAME_STYLES)} but got {name_style!r}.")
    if not 0.0 <= nms_iou <= 1.0:
        raise ParameterError(f"Expected `nms_iou` to be in [0, 1] but got {nms_iou!r}.")
    dev = resolve_device(device)  # a torch device (auto, cpu, cuda, cuda:k), or a ParameterError with the fix
    start = time.perf_counter()
    src, out = Path(src), Path(out)
    if src.resolve() == out.resolve():
        raise InputFileError(out, "is the input folder", fix="write the merged files to another folder.")
    inputs = _json_classes(src, classes) if src.is_file() else {c: (p, None) for c, p in dota.task1_files(src).items()}
    summary = MergeSummary()
    tiles, images = set(), set()
    names = list(inputs) + [c for c in classes if c not in inputs]
    for name in tqdm(names, desc="merging", unit="class", disable=not progress):
        merged: List[str] = []
        if name in inputs:
            path, lines = inputs[name]
            lines = lines if lines is not None else dota.load_task1_file(path)
            merged = merge_class(lines, str(path), nms_iou, nms, name_style, dev)
            tiles.update(lines.images)
            images.update(m.split(" ", 1)[0] for m in merged)
            summary.per_class[name] = (len(lines.images), len(merged))
            summary.detections_in += len(lines.images)
            summary.detections_out += len(merged)
        path = out / f"{dota.TASK1_PREFIX}{name}.txt"
        with open_atomic(path, "w") as fh:
            fh.write("".join(m + "\n" for m in merged))
        summary.files.append(path)
        if log and name in inputs:
            n_in, n_out = summary.per_class[name]
            log(f"{name}: {n_in} -> {n_out}")
    written = {p.name for p in summary.files}
    for stale in out.glob(f"{dota.TASK1_PREFIX}*.txt"):  # class files of an earlier run with other input
        if stale.name not in written:
            stale.unlink()
    if make_zip:
        summary.zip_path = out.with_name(out.name + ".zip")
        with open_atomic(summary.zip_path, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in summary.files:
                    zf.write(path, arcname=path.name)
    summary.tiles, summary.images = len(tiles), len(images)
    summary.seconds = time.perf_counter() - start
    return summary


def _json_classes(path: Path, classes: Sequence[str]) -> Dict[str, Tuple[str, dota.Task1Lines]]:
    """Tile detections from a results JSON list, per class: records name the tile (``image_name`` or
    ``file_name``), the class (``category``, or ``category_id`` k = the k-th of ``classes``), the
    ``score`` and ``poly`` (8 numbers) or ``rbox`` (cx, cy, w, h, angle; ``angle_version``)."""
    from evaluators.data.jsonio import load_json
    from evaluators.data.rotated import _json_poly

    records = load_json(path, "tile predictions")
    if not isinstance(records, list):
        raise InputFileError(path, "is not a JSON list of detection records",
                             fix="write [{image_name, category, score, poly|rbox}, ...] or pass a Task1 folder.")
    out: Dict[str, Tuple[str, dota.Task1Lines]] = {}
    for n, r in enumerate(records):
        if not isinstance(r, dict) or "score" not in r or not ("image_name" in r or "file_name" in r):
            raise RecordError(str(path), n, r, "needs image_name (the tile name), score and a class",
                              fix="write {image_name, category, score, poly|rbox}.")
        if "category" in r:
            cls = str(r["category"])
        elif isinstance(r.get("category_id"), int) and 1 <= r["category_id"] <= len(classes):
            cls = classes[r["category_id"] - 1]
        else:
            raise RecordError(str(path), n, r, "names no known class",
                              fix=f"give 'category' (a name) or 'category_id' 1..{len(classes)} of --classes.")
        score = r["score"]
        if not isinstance(score, (int, float)) or not np.isfinite(score):
            raise RecordError(str(path), n, r, f"score {score!r} is not a finite number", fix="drop the record.")
        lines = out.setdefault(cls, (str(path), dota.Task1Lines()))[1]
        lines.images.append(Path(str(r.get("image_name", r.get("file_name")))).stem)
        lines.scores.append(float(score))
        lines.polys.append(_json_poly(r, str(path), n, gt=False))
        lines.lines.append(n)
    return out


def _rectangles(polys: np.ndarray) -> np.ndarray:
    from evaluators.kernels.rbox import poly_to_rbox, rbox_to_poly

    return rbox_to_poly(poly_to_rbox(polys, "le90"), "le90") if polys.shape[0] else polys
