"""Tile merge (``dataprep.dota_merge``) against the plain-Python devkit merge (``dotaref.merge_ref``).

* Generated tile Task1 files mixing devkit names (rates ``1``, ``1.0``, ``0.5``: coordinates become
  (c + offset) / rate) and mmrotate names (``__1024__``: window size, coordinates only shifted) give,
  byte for byte, what ``merge_ref`` gives on the same lines with the mmrotate names rewritten to
  ``__1__`` (the devkit would otherwise read 1024 as a rate).
* The shared sample's ``perturbed_tiles`` (mmrotate names) and ``perturbed_tiles_devkitnames`` both
  merge to ``merged_devkit`` byte for byte (skipped when the shared data is absent).
* Output layout: empty Task1 files for the other DOTA classes, a zip with the files at its root,
  clean re-runs; ``nms="rotated"`` keeps a subset; an unparsable tile name names file and line.
"""
from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dotagen
from dataprep.dota_merge import merge_folder, parse_tile_name
from dotaref import merge_ref
from evaluators.data.dota import DOTA_V1_CLASSES
from evaluators.errors import DataprepError, RecordError

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "dota-sample"
DET_DIR = SAMPLE / "reference_outputs" / "detections"
needs_sample = pytest.mark.skipif(not (DET_DIR / "merged_devkit").is_dir(),
                                  reason="shared/data/dota-sample not available")

TILE_CLASSES = ("plane", "ship", "small-vehicle", "my-class")  # the last one is not a DOTA class
STYLES = ("devkit1", "devkit1.0", "devkit0.5", "mmrotate")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------------------
# generated tiles
# ----------------------------------------------------------------------------------------

def _num(rng, v: float) -> str:
    """Coordinates as detectors write them: 1 decimal, full repr, or an integer."""
    r = rng.random()
    if r < 0.4:
        return f"{v:.1f}"
    if r < 0.8:
        return repr(float(v))
    return str(int(round(v)))


def _tile_name(img: str, style: str, x: int, y: int) -> str:
    scale = {"devkit1": "1", "devkit1.0": "1.0", "devkit0.5": "0.5", "mmrotate": "1024"}[style]
    return f"{img}__{scale}__{x}___{y}"


def _make_tiles(seed: int, styles=STYLES):
    """{class: [tile Task1 lines]} for 2-4 images: objects in image coordinates seen by every window
    holding them (so overlapping windows give near-duplicates), false positives, tied scores."""
    rng = np.random.default_rng([seed, 0x3E6])
    out = {c: [] for c in TILE_CLASSES}
    for k in range(int(rng.integers(2, 5))):
        img = f"P{seed:03d}{k}"
        width, height = int(rng.integers(1200, 2600)), int(rng.integers(1200, 2600))
        windows = [(x, y) for x in range(0, width, 824) for y in range(0, height, 824)]
        for cls in TILE_CLASSES:
            tied = rng.random() < 0.4
            objects = [dotagen.random_object(rng, width, height)[1] for _ in range(int(rng.integers(0, 12)))]
            for x, y in windows:
                style = styles[int(rng.integers(len(styles)))]
                rate = 0.5 if style == "devkit0.5" else 1.0
                name = _tile_name(img, style, x, y)
                for obj in objects:
                    xs, ys = obj[0::2], obj[1::2]
                    if xs.max() < x or xs.min() > x + 1024 or ys.max() < y or ys.min() > y + 1024:
                        continue
                    for _ in range(1 + int(rng.random() < 0.3)):  # sometimes a near-duplicate in the tile too
                        local = obj * rate - np.tile([x, y], 4) + rng.normal(0, 1.5, 8)
                        score = float(rng.choice([0.5, 0.75, 0.9])) if tied else float(np.round(rng.uniform(0.05, 1), 4))
                        out[cls].append(f"{name} {score!r} " + " ".join(_num(rng, v) for v in local))
                for _ in range(int(rng.integers(0, 3))):  # a false positive in tile coordinates
                    fp = dotagen.random_object(rng, 1024, 1024)[1]
                    out[cls].append(f"{name} {float(np.round(rng.random(), 3))!r} " + " ".join(_num(rng, v) for v in fp))
    out["my-class"] = out["my-class"][: len(out["my-class"]) // 2]
    for cls in out:
        rng.shuffle(out[cls])
    return out


def _write_tiles(folder: Path, tiles: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for cls, lines in tiles.items():
        (folder / f"Task1_{cls}.txt").write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")


_MM_NAME = re.compile(r"__1024__(\d+___\d+) ")


def _expected(lines, nms_thresh: float = 0.1) -> bytes:
    """merge_ref output with mmrotate window names read as devkit rate 1 (a pure shift)."""
    conv = [_MM_NAME.sub(r"__1__\1 ", ln, count=1) for ln in lines]
    return "".join(ln + "\n" for ln in merge_ref(conv, nms_thresh)).encode()


# ----------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------

def test_parse_tile_name_both_families():
    assert parse_tile_name("P0003__1024__824___0") == parse_tile_name("P0003__1024__824___0", "auto")
    t = parse_tile_name("P0003__1024__824___0")
    assert (t.image, t.x, t.y, t.rate) == ("P0003", 824, 0, None)
    t = parse_tile_name("P0003__1__824___12")
    assert (t.image, t.x, t.y, t.rate) == ("P0003", 824, 12, 1.0)
    assert parse_tile_name("P0003__0.5__0___0").rate == 0.5
    assert parse_tile_name("P0003__1.0__0___0").rate == 1.0
    assert parse_tile_name("P0003__1__0___0", "mmrotate").rate is None
    assert parse_tile_name("P0003__1024__0___0", "devkit").rate == 1024.0
    t = parse_tile_name("my__image__1024__200___400")  # names holding "__" themselves
    assert (t.image, t.x, t.y) == ("my__image", 200, 400)
    for bad in ("P0003", "P0003__1024__824", "P0003__a__0___0", "P0003__1024__-5___0"):
        with pytest.raises(ValueError):
            parse_tile_name(bad)


@pytest.mark.parametrize("seed,nms_iou", [(1, 0.1), (2, 0.1), (3, 0.1), (4, 0.1), (5, 0.3), (6, 0.5)])
def test_merge_equals_devkit_reference(tmp_path, seed, nms_iou):
    tiles = _make_tiles(seed)
    assert all(any(f"__{s}__" in ln for ln in tiles["ship"] + tiles["plane"]) for s in ("1", "1.0", "0.5", "1024"))
    _write_tiles(tmp_path / "tiles", tiles)
    summary = merge_folder(tmp_path / "tiles", tmp_path / "merged", nms_iou=nms_iou)
    n_out = 0
    for cls, lines in tiles.items():
        want = _expected(lines, nms_iou)
        assert (tmp_path / "merged" / f"Task1_{cls}.txt").read_bytes() == want, cls
        assert summary.per_class[cls] == (len(lines), want.count(b"\n"))
        n_out += want.count(b"\n")
    assert summary.detections_in == sum(len(v) for v in tiles.values())
    assert summary.detections_out == n_out < summary.detections_in
    others = [c for c in DOTA_V1_CLASSES if c not in tiles]
    for cls in others:  # every other DOTA class gets an empty file
        assert (tmp_path / "merged" / f"Task1_{cls}.txt").read_bytes() == b""
    names = {p.name for p in summary.files}
    assert names == {f"Task1_{c}.txt" for c in list(tiles) + others}
    assert {p.name for p in (tmp_path / "merged").iterdir()} == names


@pytest.mark.parametrize("style", STYLES)
def test_merge_each_name_family_alone(tmp_path, style):
    tiles = _make_tiles(10 + STYLES.index(style), styles=(style,))
    _write_tiles(tmp_path / "tiles", tiles)
    merge_folder(tmp_path / "tiles", tmp_path / "merged", classes=(), make_zip=False)
    for cls, lines in tiles.items():
        assert (tmp_path / "merged" / f"Task1_{cls}.txt").read_bytes() == _expected(lines), cls
    assert not (tmp_path / "merged.zip").exists()


def test_mmrotate_names_are_shifted_not_divided(tmp_path):
    (tmp_path / "tiles").mkdir()
    (tmp_path / "tiles" / "Task1_ship.txt").write_text(
        "P1__1024__824___200 0.9 10 20 30 20 30 40 10 40\n"
        "P2__0.5__824___200 0.8 10 20 30 20 30 40 10 40\n")
    merge_folder(tmp_path / "tiles", tmp_path / "out", classes=(), make_zip=False)
    assert (tmp_path / "out" / "Task1_ship.txt").read_text().splitlines() == [
        "P1 0.9 834.0 220.0 854.0 220.0 854.0 240.0 834.0 240.0",
        "P2 0.8 1668.0 440.0 1708.0 440.0 1708.0 480.0 1668.0 480.0"]


@needs_sample
@pytest.mark.parametrize("folder", ["perturbed_tiles", "perturbed_tiles_devkitnames"])
def test_merge_reproduces_devkit_files(tmp_path, folder):
    summary = merge_folder(DET_DIR / folder, tmp_path / "merged", classes=(), make_zip=False)
    want = sorted(p.name for p in (DET_DIR / "merged_devkit").glob("Task1_*.txt"))
    assert sorted(p.name for p in summary.files) == want and want
    for name in want:
        assert (tmp_path / "merged" / name).read_bytes() == (DET_DIR / "merged_devkit" / name).read_bytes(), name


def test_zip_holds_the_files_at_its_root(tmp_path):
    tiles = _make_tiles(21)
    _write_tiles(tmp_path / "tiles", tiles)
    summary = merge_folder(tmp_path / "tiles", tmp_path / "sub" / "merged")
    assert summary.zip_path == tmp_path / "sub" / "merged.zip"
    with zipfile.ZipFile(summary.zip_path) as zf:
        names = zf.namelist()
        assert sorted(names) == sorted(p.name for p in summary.files)
        assert all("/" not in n and n.startswith("Task1_") for n in names)
        for p in summary.files:
            assert zf.read(p.name) == p.read_bytes()
    assert len(names) == len(DOTA_V1_CLASSES) + 1  # 15 DOTA classes + my-class


def test_rerun_overwrites_cleanly(tmp_path):
    tiles = _make_tiles(22)
    _write_tiles(tmp_path / "tiles", tiles)
    out = tmp_path / "merged"
    merge_folder(tmp_path / "tiles", out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    first_zip = (tmp_path / "merged.zip").read_bytes()
    (out / "Task1_ship.txt").write_text("garbage\n")
    (out / "Task1_bridge.txt").write_text("garbage\n")
    merge_folder(tmp_path / "tiles", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    with zipfile.ZipFile(tmp_path / "merged.zip") as zf, zipfile.ZipFile(
            __import__("io").BytesIO(first_zip)) as z0:
        assert {n: zf.read(n) for n in zf.namelist()} == {n: z0.read(n) for n in z0.namelist()}
    # a different setting replaces the content
    merge_folder(tmp_path / "tiles", out, nms_iou=0.5)
    assert (out / "Task1_ship.txt").read_bytes() == _expected(tiles["ship"], 0.5)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_rotated_nms_keeps_a_subset(tmp_path):
    tiles = _make_tiles(23)
    _write_tiles(tmp_path / "tiles", tiles)
    merge_folder(tmp_path / "tiles", tmp_path / "poly", classes=(), make_zip=False)
    summary = merge_folder(tmp_path / "tiles", tmp_path / "rot", nms="rotated", classes=(), make_zip=False)
    for cls, lines in tiles.items():
        everything = _expected(lines, math.inf).decode().splitlines()  # shifted, nothing suppressed
        got = (tmp_path / "rot" / f"Task1_{cls}.txt").read_text().splitlines()
        assert set(got) <= set(everything) and len(got) == len(set(got))
        assert len(got) == summary.per_class[cls][1]
        if lines:
            assert 0 < len(got) < len(lines)
            best = {}  # the best detection of every image is always kept (first in file order among ties)
            for ln in everything:
                best.setdefault(ln.split(" ")[0], ln)
            assert set(best.values()) <= set(got)
        scores = [float(ln.split(" ")[1]) for ln in got]
        images = [ln.split(" ")[0] for ln in got]
        for img in set(images):  # per image: descending scores
            s = [v for v, i in zip(scores, images) if i == img]
            assert s == sorted(s, reverse=True)


def test_unparsable_tile_name_names_file_and_line(tmp_path):
    (tmp_path / "tiles").mkdir()
    src = tmp_path / "tiles" / "Task1_ship.txt"
    src.write_text("P1__1024__0___0 0.9 0 0 10 0 10 10 0 10\n\nP1_0_0 0.8 0 0 10 0 10 10 0 10\n")
    with pytest.raises(RecordError) as info:
        merge_folder(tmp_path / "tiles", tmp_path / "out")
    assert isinstance(info.value, DataprepError)
    assert f"{src}, line 3" in str(info.value) and "P1_0_0" in str(info.value)
    assert not (tmp_path / "out.zip").exists()


def test_bad_parameters_and_input(tmp_path):
    from evaluators.errors import InputFileError, ParameterError

    _write_tiles(tmp_path / "tiles", {"ship": ["P1__1024__0___0 0.9 0 0 10 0 10 10 0 10"]})
    for kw in ({"nms": "hbb"}, {"name_style": "yolo"}, {"nms_iou": 1.5}):
        with pytest.raises(ParameterError):
            merge_folder(tmp_path / "tiles", tmp_path / "out", **kw)
    with pytest.raises(InputFileError):
        merge_folder(tmp_path / "tiles", tmp_path / "tiles")  # output onto the input
    with pytest.raises(InputFileError):
        merge_folder(tmp_path / "nothing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError):
        merge_folder(tmp_path / "empty", tmp_path / "out")
