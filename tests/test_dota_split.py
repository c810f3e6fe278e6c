"""``dataprep dota-split``: mmrotate ``img_split.py`` rules, the shared reference manifests, resume and errors."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from dataprep.cli import cli
from dataprep.dota_split import (
    assign_objects,
    crop_tile,
    parse_label_text,
    scaled_sizes,
    sliding_windows,
    split_dota,
    tile_name,
)
from evaluators.errors import DataprepError, InputFileError, RecordError

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "dota-sample"
REF = SAMPLE / "reference_outputs"


# ---------------------------------------------------------------------------------------------------- windows
def _axis(win, col):
    return sorted(set(int(v) for v in win[:, col]))


@pytest.mark.parametrize("w,h,count,xs,ys", [
    (1024, 1024, 1, [0], [0]),
    (1025, 1025, 4, [0, 1], [0, 1]),
    (1147, 1023, 2, [0, 123], [0]),
    (1111, 1182, 4, [0, 87], [0, 158]),
    (1848, 1848, 4, [0, 824], [0, 824]),
    (1849, 1849, 9, [0, 824, 825], [0, 824, 825]),
    (2000, 2000, 9, [0, 824, 976], [0, 824, 976]),
    (4000, 4000, 25, [0, 824, 1648, 2472, 2976], [0, 824, 1648, 2472, 2976]),
    (800, 800, 1, [0], [0]),
    (600, 600, 1, [0], [0]),
    (5000, 300, 6, [0, 824, 1648, 2472, 3296, 3976], [0]),
    (13383, 4000, 80, [824 * i for i in range(15)] + [12359], [0, 824, 1648, 2472, 2976]),
])
def test_window_table(w, h, count, xs, ys):
    win = sliding_windows(w, h, [1024], [200], 0.6)
    assert win.dtype == np.int64 and win.shape == (count, 4)
    assert _axis(win, 0) == xs and _axis(win, 1) == ys
    assert (win[:, 2] - win[:, 0] == 1024).all() and (win[:, 3] - win[:, 1] == 1024).all()
    # x outer loop, y inner loop
    expect = [(x, y) for x in xs for y in ys]
    assert [tuple(r) for r in win[:, :2].tolist()] == expect


def test_multiscale_filter_all_sizes_together():
    sizes, gaps = scaled_sizes(1024, 500, (0.5, 1.0, 1.5))
    assert sizes == [2048, 1024, 682] and gaps == [1000, 500, 333]
    win = sliding_windows(1147, 1023, sizes, gaps, 0.6)
    assert set((win[:, 2] - win[:, 0]).tolist()) <= {1024, 682}  # the 2048 window (rate 0.28) is dropped
    # fallback: nothing passes -> windows within 0.01 of the best rate are kept
    assert sliding_windows(600, 600, [1024], [200], 0.6).tolist() == [[0, 0, 1024, 1024]]


# ------------------------------------------------------------------------------------------------------ labels
def test_label_parsing_rules():
    text = ("imagesource:GoogleEarth\ngsd:0.14\n"
            "1 2 3 4 5 6 7 8 ship 1\n"
            "1 2 3 4 5 6 7 8 plane\n"
            "1 2 3 4 5 6 7 8 car 1 \n"       # trailing space: 11 items -> difficulty 0
            "1 2 3 4 5 6 7 8 boat  1\n"      # double space -> difficulty 0
            "\n")
    objs = parse_label_text(text, "x.txt")
    assert objs.labels == ["ship", "plane", "car", "boat"]
    assert objs.diffs.tolist() == [1, 0, 0, 0]
    assert objs.polys.dtype == np.float32 and objs.lines == [3, 4, 5, 6]


@pytest.mark.parametrize("line,needle", [
    ("1 2 3 4 5 6 7 ship 1", "must be numbers"),  # 7 numbers: 9 items, the class stands in for y4
    ("1 2 3 4 5 6 ship", "needs 8 coordinates"),
    ("1 2 3 4 5 6 7 x ship 1", "must be numbers"),
    ("1 2 3 4 5 6 7 8 ship a", "not an integer"),
])
def test_label_errors_name_file_and_line(line, needle):
    with pytest.raises(RecordError) as exc:
        parse_label_text("imagesource:x\n" + line + "\n", "lab/P1.txt")
    assert "lab/P1.txt line 2" in str(exc.value) and needle in str(exc.value)


def test_iof_truncation_translation_and_format():
    objs = parse_label_text("10 10 20 10 20 20 10 20 ship 1\n"
                            "1000 10 1100 10 1100 20 1000 20 car 0\n"
                            "0.5 0.5 10.25 0.5 10.25 5.5 0.5 5.5 boat 0\n", "t")
    win = np.array([[0, 0, 1024, 1024], [100, 0, 1124, 1024]], dtype=np.int64)
    tiles, dropped = assign_objects(objs, win, 0.7)
    assert dropped == 0
    lines0 = tiles[0].text.splitlines()
    assert lines0[0] == "10.0 10.0 20.0 10.0 20.0 20.0 10.0 20.0 ship 1"
    assert lines0[1] == "0.5 0.5 10.25 0.5 10.25 5.5 0.5 5.5 boat 0"
    assert len(lines0) == 2 and tiles[0].truncated == 0  # car: IoF 0.24 < 0.7
    lines1 = tiles[1].text.splitlines()
    assert lines1 == ["900.0 10.0 1000.0 10.0 1000.0 20.0 900.0 20.0 car 0"]
    # truncated but kept, unclipped, difficulty 2
    t2, _ = assign_objects(parse_label_text("1010 10 1030 10 1030 20 1010 20 ship 0\n"), win[:1], 0.7)
    assert t2[0].text == "1010.0 10.0 1030.0 10.0 1030.0 20.0 1010.0 20.0 ship 2\n" and t2[0].truncated == 1
    t3, dropped = assign_objects(parse_label_text("1020 10 1040 10 1040 20 1020 20 ship 0\n"), win[:1], 0.7)
    assert t3[0].text == "" and dropped == 1


def test_crop_padding_and_name():
    img = np.full((300, 400, 3), 7, np.uint8)
    win = [0, 0, 1024, 1024]
    tile = crop_tile(img, win, True, (104, 116, 124))
    assert tile.shape == (1024, 1024, 3) and (tile[:300, :400] == 7).all()
    assert tile[500, 500].tolist() == [104, 116, 124] and tile[0, 500].tolist() == [104, 116, 124]
    assert crop_tile(img, win, False).shape == (300, 400, 3)
    assert tile_name("P0706", [87, 158, 1111, 1182]) == "P0706__1024__87___158"


# ------------------------------------------------------------------------------------------------ synthetic IO
def _make_src(root: Path, sizes=((1500, 1200), (700, 500)), labels=True) -> Path:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    if labels:
        (root / "labelTxt").mkdir()
    for i, (w, h) in enumerate(sizes):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "images" / f"P{i:04d}.png"), img)
        if labels:
            lines = ["imagesource:GoogleEarth", "gsd:null"]
            for _ in range(12):
                x, y = rng.integers(0, w - 40), rng.integers(0, h - 30)
                lines.append(f"{x} {y} {x + 40} {y} {x + 40} {y + 30} {x} {y + 30} ship {rng.integers(0, 2)}")
            (root / "labelTxt" / f"P{i:04d}.txt").write_text("\n".join(lines) + "\n")
    (root / "images" / "skip.PNG").write_bytes(b"not listed: extension check is case-sensitive")
    return root


def _snapshot(out: Path):
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file() and ".done" not in p.parts}


def test_split_resume_and_refusal(tmp_path):
    src = _make_src(tmp_path / "src")
    out = tmp_path / "out"
    s1 = split_dota([src], out, size=1024, gap=200)
    assert s1.images == 2 and s1.tiles == 4 + 1 and s1.input_objects == 24
    assert s1.objects >= 24 - s1.dropped
    names = sorted(p.name for p in (out / "images").iterdir())
    assert names == ["P0000__1024__0___0.png", "P0000__1024__0___176.png", "P0000__1024__476___0.png",
                     "P0000__1024__476___176.png", "P0001__1024__0___0.png"]
    assert (out / "split_args.json").is_file() and (out / ".done" / "P0000").is_file()
    before = _snapshot(out)

    # resume: delete one tile and its image's marker -> completed and identical
    (out / "images" / "P0000__1024__476___0.png").unlink()
    (out / "annfiles" / "P0000__1024__476___0.txt").unlink()
    (out / ".done" / "P0000").unlink()
    s2 = split_dota([src], out, size=1024, gap=200, workers=2)
    assert s2.skipped == 1 and s2.images == 2 and s2.tiles == s1.tiles and s2.objects == s1.objects
    assert _snapshot(out) == before
    assert not [p for p in out.rglob("*.tmp")]

    # other arguments are refused, naming the differing ones
    with pytest.raises(DataprepError) as exc:
        split_dota([src], out, size=1024, gap=500, pad_value=0)
    msg = str(exc.value)
    assert "other arguments" in msg and "gap: 200 there, 500 now" in msg and "pad_value" in msg
    assert "Fix:" in msg and "new --out" in msg


def test_test_set_without_labels_and_no_padding(tmp_path):
    src = _make_src(tmp_path / "src", sizes=((700, 500),), labels=False)
    s = split_dota([src], tmp_path / "out", padding=False)
    assert s.tiles == 1 and s.objects == 0
    assert (tmp_path / "out" / "annfiles" / "P0000__1024__0___0.txt").read_bytes() == b""
    assert cv2.imread(str(tmp_path / "out" / "images" / "P0000__1024__0___0.png")).shape == (500, 700, 3)


def test_bad_inputs(tmp_path):
    src = _make_src(tmp_path / "src", sizes=((700, 500),))
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(InputFileError, match="exists and is not a folder"):
        split_dota([src], f)
    with pytest.raises(InputFileError, match="has no images/ folder"):
        split_dota([tmp_path / "src" / "images"], tmp_path / "o1")
    other = tmp_path / "full"
    other.mkdir()
    (other / "x").write_text("x")
    with pytest.raises(DataprepError, match="not empty and holds no split_args.json"):
        split_dota([src], other)
    # truncated image: clear error naming the file
    p = src / "images" / "P0000.png"
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError) as exc:
        split_dota([src], tmp_path / "o2")
    assert "P0000.png" in str(exc.value) and "cannot be decoded" in str(exc.value)
    p.write_bytes(data)
    # label line with too few numbers
    (src / "labelTxt" / "P0000.txt").write_text("imagesource:x\n1 2 3 4 5 6 ship 0\n")
    with pytest.raises(RecordError) as exc:
        split_dota([src], tmp_path / "o3")
    assert "P0000.txt line 2" in str(exc.value) and "needs 8 coordinates" in str(exc.value)


def test_cli_multiscale_rates(tmp_path):
    src = _make_src(tmp_path / "src", sizes=((1500, 1200),))
    res = CliRunner().invoke(cli, ["dota-split", str(src), "--out", str(tmp_path / "o"), "--gap", "500",
                                   "--rates", "0.5,1.0,1.5", "--workers", "2"])
    assert res.exit_code == 0, res.output
    sizes = {p.name.split("__")[1] for p in (tmp_path / "o" / "images").iterdir()}
    assert sizes == {"1024", "682"}  # the 2048 window is below the img-rate threshold


def test_cli(tmp_path):
    src = _make_src(tmp_path / "src")
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(cli, ["dota-split", str(src), "--out", str(out), "--size", "1024", "--gap", "200",
                              "--rates", "1.0", "--pad-value", "104,116,124", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "split 2 images into 5 tiles" in res.output
    res = runner.invoke(cli, ["dota-split", str(src), "--out", str(out), "--gap", "100", "--quiet"])
    assert res.exit_code == 1 and "other arguments" in res.output and "gap" in res.output
    res = runner.invoke(cli, ["dota-split", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 1 and "is not a folder" in res.output
    res = runner.invoke(cli, ["dota-split", str(src), "--out", str(tmp_path / "o"), "--pad-value", "1,2"])
    assert res.exit_code == 2 and "B,G,R" in res.output


# ------------------------------------------------------------------------------------------ shared reference
def _compare_manifest(out: Path, manifest: Path):
    rows = list(csv.DictReader(manifest.open()))
    assert {"tile", "width", "height", "pixel_sha256_bgr_uint8", "label_sha256", "objects"} <= set(rows[0])
    ours = sorted(p.stem for p in (out / "images").iterdir())
    assert ours == sorted(r["tile"] for r in rows)
    assert sorted(p.stem for p in (out / "annfiles").iterdir()) == ours
    for r in rows:
        img = cv2.imread(str(out / "images" / f"{r['tile']}.png"))
        label = (out / "annfiles" / f"{r['tile']}.txt").read_bytes()
        assert (img.shape[1], img.shape[0]) == (int(r["width"]), int(r["height"])), r["tile"]
        assert hashlib.sha256(img.tobytes()).hexdigest() == r["pixel_sha256_bgr_uint8"], r["tile"]
        assert hashlib.sha256(label).hexdigest() == r["label_sha256"], r["tile"]
        diffs = [ln.rsplit(" ", 1)[1] for ln in label.decode().splitlines()]
        assert len(diffs) == int(r["objects"]), r["tile"]
        for d in "012":
            if f"diff{d}" in r:
                assert diffs.count(d) == int(r[f"diff{d}"]), r["tile"]
    return len(rows)


@pytest.mark.skipif(not (SAMPLE / "images").is_dir(), reason="shared DOTA sample not available")
@pytest.mark.parametrize("ref,gap,rates,workers", [
    ("mmrotate_split_ss_1024_gap200", 200, (1.0,), 1),
    ("mmrotate_split_ms_1024_gap500_rates0.5-1.0-1.5", 500, (0.5, 1.0, 1.5), 2),
])
def test_matches_mmrotate_reference(tmp_path, ref, gap, rates, workers):
    manifest = REF / ref / "tiles_manifest.csv"
    if not manifest.is_file():
        pytest.skip(f"{manifest} not available")
    summary = split_dota([SAMPLE], tmp_path / "out", size=1024, gap=gap, rates=rates, pad_value=(104, 116, 124),
                         workers=workers)
    n = _compare_manifest(tmp_path / "out", manifest)
    assert summary.tiles == n


# ------------------------------------------------------------------------------------------------ --style devkit
from dataprep.dota_split import (  # noqa: E402
    _poly4_from_poly5,
    assign_objects_devkit,
    devkit_tile_name,
    devkit_windows,
    parse_label_text_devkit,
)


def test_devkit_windows_and_names():
    # same starts and order as mmrotate, but the object-test rectangle ends at W-1 / H-1 for the last col/row
    assert devkit_windows(1100, 1000, 1024, 200) == [(0, 0, 1024, 999), (76, 0, 1099, 999)]
    for w, h in [(1024, 1024), (1025, 1025), (1147, 1023), (1111, 1182), (1849, 1849), (4000, 4000), (600, 600),
                 (5000, 300)]:
        dk = [(x, y) for x, y, _, _ in devkit_windows(w, h, 1024, 200)]
        mm = [tuple(r) for r in sliding_windows(max(w, 1024), max(h, 1024), [1024], [200], 0.0)[:, :2].tolist()]
        if w >= 1024 and h >= 1024:
            assert dk == mm, (w, h)
    assert devkit_windows(600, 600, 1024, 200) == [(0, 0, 599, 599)]
    assert devkit_tile_name("P0706", 1.0, 87, 158) == "P0706__1__87___158"
    assert devkit_tile_name("P0706", 0.5, 0, 0) == "P0706__0.5__0___0"
    with pytest.raises(DataprepError):
        devkit_windows(100, 100, 200, 200)


def test_devkit_parse_clip_clamp_and_difficulty():
    objs = parse_label_text_devkit(
        "imagesource:x\ngsd:1\n"
        "1090 10 1100 10 1100 20 1090 20 ship 1\n"        # only in the 2nd window, cut by its W-1 edge: IoF 0.9
        "1000 100 1040 100 1040 120 1000 120 ship 1\n"    # 1st window: IoF 0.6 -> clipped, clamped to 1024, '2'
        "-5 10 20 10 20 30 -5 30 car 0\n"                 # IoF 0.8: clipped, 0 clamped to 1, difficulty kept
        "10.9 10.9 30.9 10.9 30.9 30.9 10.9 30.9 plane tr\n"  # int() at parse; difficulty kept as a string
        "1004 500 1024 480 1044 500 1024 520 boat 0\n"    # 1st window: a triangle is left -> dropped there
        "994 600 1014 580 1034 600 1014 620 harbor 1\n"   # 1st window: a pentagon -> shortest edge merged
        "5 5 5 5 5 5 5 5 zero 0\n")                       # area 0: skipped everywhere
    assert objs.polys[3].tolist() == [10, 10, 30, 10, 30, 30, 10, 30] and objs.diffs[3] == "tr"
    tiles, dropped = assign_objects_devkit(objs, devkit_windows(1100, 1000, 1024, 200), 1024, 0.7)
    assert dropped == 1
    assert tiles[0].text.splitlines() == [
        "1000.0 100.0 1024.0 100.0 1024.0 120.0 1000.0 120.0 ship 2",
        "1.0 10.0 20.0 10.0 20.0 30.0 1.0 30.0 car 0",
        "10.0 10.0 30.0 10.0 30.0 30.0 10.0 30.0 plane tr",
        "994.0 600.0 1019.0 585.0 1024.0 610.0 1014.0 620.0 harbor 1",
    ]
    assert tiles[0].truncated == 1
    assert tiles[1].text.splitlines()[0] == "1014.0 10.0 1023.0 10.0 1023.0 20.0 1014.0 20.0 ship 1"
    assert len(tiles[1].text.splitlines()) == 4 and tiles[1].truncated == 0
    assert _poly4_from_poly5([(0, 0), (10, 0), (10, 5), (9, 6), (0, 6)]) == [(0, 0), (10, 0), (9.5, 5.5), (0, 6)]


def test_devkit_style_io_padding_rates_and_refusal(tmp_path):
    src = _make_src(tmp_path / "src", sizes=((1100, 700),))
    out = tmp_path / "out"
    s = split_dota([src], out, style="devkit", rates=(1.0, 0.5))
    names = sorted(p.name for p in (out / "images").iterdir())
    assert names == ["P0000__0.5__0___0.png", "P0000__1__0___0.png", "P0000__1__76___0.png"]
    assert sorted(p.name for p in (out / "labelTxt").iterdir()) == [n[:-4] + ".txt" for n in names]
    assert not (out / "annfiles").exists() and s.tiles == 3
    half = cv2.imread(str(out / "images" / "P0000__0.5__0___0.png"))
    assert half.shape == (1024, 1024, 3) and (half[350:, :] == 0).all() and (half[:, 550:] == 0).all()
    img = cv2.imread(str(src / "images" / "P0000.png"))
    ref = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    assert (half[:350, :550] == ref).all()
    tile = cv2.imread(str(out / "images" / "P0000__1__76___0.png"))
    assert (tile[:700, :1024] == img[:, 76:1100]).all() and (tile[700:] == 0).all()
    import json

    assert json.loads((out / "split_args.json").read_text())["style"] == "devkit"
    with pytest.raises(DataprepError) as exc:
        split_dota([src], out, rates=(1.0, 0.5))
    assert "style: 'devkit' there, 'mmrotate' now" in str(exc.value)
    s2 = split_dota([src], out, style="devkit", rates=(1.0, 0.5))
    assert s2.skipped == 1 and s2.tiles == 3


@pytest.mark.skipif(not (SAMPLE / "images").is_dir(), reason="shared DOTA sample not available")
def test_matches_devkit_reference(tmp_path):
    ref = REF / "devkit_split_1024_gap200"
    manifest = ref / "tiles_manifest.csv"
    if not manifest.is_file():
        pytest.skip(f"{manifest} not available")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["dota-split", str(SAMPLE), "--out", str(out), "--style", "devkit",
                                   "--size", "1024", "--gap", "200", "--quiet", "--workers", "2"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(manifest.open()))
    assert len(rows) == 10
    assert sorted(p.stem for p in (out / "images").iterdir()) == sorted(r["tile"] for r in rows)
    assert sorted(p.stem for p in (out / "labelTxt").iterdir()) == sorted(r["tile"] for r in rows)
    for r in rows:
        img = cv2.imread(str(out / "images" / f"{r['tile']}.png"))
        label = (out / "labelTxt" / f"{r['tile']}.txt").read_bytes()
        assert (img.shape[1], img.shape[0]) == (int(r["width"]), int(r["height"])), r["tile"]
        assert hashlib.sha256(img.tobytes()).hexdigest() == r["pixel_sha256_bgr_uint8"], r["tile"]
        assert hashlib.sha256(label).hexdigest() == r["label_sha256"], r["tile"]
        ref_label = ref / "labelTxt" / f"{r['tile']}.txt"
        if ref_label.is_file():
            assert label == ref_label.read_bytes(), r["tile"]
        diffs = [ln.rsplit(" ", 1)[1] for ln in label.decode().splitlines()]
        assert len(diffs) == int(r["objects"]), r["tile"]
        for d in "012":
            assert diffs.count(d) == int(r[f"diff{d}"]), r["tile"]
    assert "into 10 tiles; 2458 objects written" in res.output


# ------------------------------------------------------------------------------------------- --style ultralytics
def test_ultralytics_style(tmp_path):
    from dataprep.dota_split import ULTRALYTICS_CLASSES

    assert ULTRALYTICS_CLASSES[:3] == ("plane", "ship", "storage-tank") and len(ULTRALYTICS_CLASSES) == 18
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    (src / "labelTxt").mkdir()
    rng = np.random.default_rng(1)
    cv2.imwrite(str(src / "images" / "P0000.png"), rng.integers(0, 256, (1200, 1500, 3), dtype=np.uint8))
    cv2.imwrite(str(src / "images" / "P0001.png"), rng.integers(0, 256, (500, 700, 3), dtype=np.uint8))
    (src / "labelTxt" / "P0000.txt").write_text(
        "imagesource:x\ngsd:1\n"
        "100 100 200 100 200 150 100 150 plane 1\n"        # only window (0, 0)
        "1000 300 1100 300 1100 320 1000 320 ship 0\n"     # IoF 0.24 in x=0 windows; (476, 0) and (476, 176)
        "1010 100 1020 100 1020 110 1010 110 harbor 0\n")  # (0, 0) and (476, 0); window (0, 176) stays empty
    (src / "labelTxt" / "P0001.txt").write_text("10 20 110 20 110 70 10 70 small-vehicle 1\n")
    out = tmp_path / "out"
    s = split_dota([src], out, style="ultralytics")
    imgs = sorted(p.name for p in (out / "images").iterdir())
    assert imgs == ["P0000__1024__0___0.jpg", "P0000__1024__0___176.jpg", "P0000__1024__476___0.jpg",
                    "P0000__1024__476___176.jpg", "P0001__1024__0___0.jpg"]
    labels = sorted(p.name for p in (out / "labels").iterdir())
    # a tile without objects gets no label file
    assert labels == ["P0000__1024__0___0.txt", "P0000__1024__476___0.txt", "P0000__1024__476___176.txt",
                      "P0001__1024__0___0.txt"]
    t00 = (out / "labels" / "P0000__1024__0___0.txt").read_text().splitlines()
    assert t00 == ["0 0.0976562 0.0976562 0.195312 0.0976562 0.195312 0.146484 0.0976562 0.146484",
                   "7 0.986328 0.0976562 0.996094 0.0976562 0.996094 0.107422 0.986328 0.107422"]
    t476 = (out / "labels" / "P0000__1024__476___0.txt").read_text().splitlines()
    assert t476[0] == "1 {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g}".format(
        524 / 1024, 300 / 1024, 624 / 1024, 300 / 1024, 624 / 1024, 320 / 1024, 524 / 1024, 320 / 1024)
    assert (out / "labels" / "P0000__1024__476___176.txt").read_text().splitlines()[0] == \
        "1 0.511719 0.121094 0.609375 0.121094 0.609375 0.140625 0.511719 0.140625"
    # the small image is not padded; its labels are normalised by its own size
    small = cv2.imread(str(out / "images" / "P0001__1024__0___0.jpg"))
    assert small.shape == (500, 700, 3)
    assert (out / "labels" / "P0001__1024__0___0.txt").read_text() == \
        "10 {:.6g} 0.04 {:.6g} 0.04 {:.6g} 0.14 {:.6g} 0.14\n".format(10 / 700, 110 / 700, 110 / 700, 10 / 700)
    assert not (out / "annfiles").exists() and s.objects == 6 and s.tiles == 5 and s.truncated == 0
    # unknown class: clear error naming the line
    (src / "labelTxt" / "P0001.txt").write_text("10 20 110 20 110 70 10 70 tank 1\n")
    with pytest.raises(RecordError) as exc:
        split_dota([src], tmp_path / "o2", style="ultralytics")
    assert "P0001.txt line 1" in str(exc.value) and "not in ultralytics" in str(exc.value)
    with pytest.raises(DataprepError, match="unpadded"):
        split_dota([src], tmp_path / "o3", style="ultralytics", padding=True)
    res = CliRunner().invoke(cli, ["dota-split", str(src), "--out", str(tmp_path / "o4"), "--style", "yolo"])
    assert res.exit_code == 2


def test_cli_coco_json_of_the_tiles(tmp_path):
    """--coco writes the tiles' COCO-style JSON: one image per tile, one annotation per written object."""
    import json

    src = _make_src(tmp_path / "src")
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["dota-split", str(src), "--out", str(out), "--coco", "-q"])
    assert res.exit_code == 0, res.output
    coco = json.loads((out / "annotations" / "dota_coco.json").read_text())
    tiles = sorted(p.name for p in (out / "images").iterdir())
    assert [im["file_name"] for im in coco["images"]] == tiles
    written = sum(len(p.read_text().splitlines()) for p in (out / "annfiles").glob("*.txt"))
    assert len(coco["annotations"]) == written > 0
    assert {a["difficulty"] for a in coco["annotations"]} <= {0, 1, 2}
    res = CliRunner().invoke(cli, ["dota-split", str(src), "--out", str(tmp_path / "u"), "--style", "ultralytics",
                                   "--coco"])
    assert res.exit_code == 2 and "YOLO-OBB" in res.output


def test_classes_restrict_and_unknown_classes_are_reported(tmp_path):
    """Unknown class names are reported, not a crash; --classes writes only the listed classes."""
    src = _make_src(tmp_path / "src")
    label = next((src / "labelTxt").glob("*.txt"))
    label.write_text(label.read_text() + "10 10 60 10 60 40 10 40 tank 0\n")
    res = CliRunner().invoke(cli, ["dota-split", str(src), "--out", str(tmp_path / "all"), "-q"])
    assert res.exit_code == 0, res.output
    assert "tank=1" in res.output and "not DOTA classes" in res.output
    written = "".join(p.read_text() for p in (tmp_path / "all" / "annfiles").glob("*.txt"))
    assert " tank " in written
    res = CliRunner().invoke(cli, ["dota-split", str(src), "--out", str(tmp_path / "some"), "-q",
                                   "--classes", "dota-v1.0"])
    assert res.exit_code == 0, res.output
    assert "dropped (not in --classes): tank=1" in res.output
    written = "".join(p.read_text() for p in (tmp_path / "some" / "annfiles").glob("*.txt"))
    assert " tank " not in written and written
