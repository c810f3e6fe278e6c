"""``dataprep coco-from-yolo`` / ``yolo-from-coco`` (converters/yolo.py, converters/yolo_files.py).

Golden data: ``tests/data/yolo_mini`` holds real coco128 label files (detection and JSON2YOLO segments) of 10
COCO train2017 images, one orphan label file and the original COCO annotations of those images (see its
README); the images themselves are re-made here as blank files of the original sizes (only the header size
matters). ``shared/data/yolo-sample`` (all 128 images) is used when present.
"""
from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from converters.yolo import (
    COCO80_NAMES,
    COCO80_SUPERCATEGORIES,
    COCO80_TO_COCO91,
    CocoFromYoloOptions,
    YoloFromCocoOptions,
    assign_image_ids,
    box_to_pixels,
    coco_from_yolo,
    merge_multi_segment,
    parse_label_text,
    polygon_to_pixels,
    save_coco_from_yolo,
    save_yolo_from_coco,
    shoelace,
    split_merged_ring,
    yolo_from_coco,
)
from converters.yolo_files import header_size, image_size, pillow_size
from dataprep.cli import cli
from evaluators.errors import InputFileError, LayoutError, ParameterError, RecordError

HERE = Path(__file__).resolve().parent
MINI = HERE / "data" / "yolo_mini"
GOLDEN_DET = HERE / "data" / "yolo_mini_expected_det.json"
GOLDEN_SEG = HERE / "data" / "yolo_mini_expected_seg.json"


def _shared_sample() -> Path:
    cands = []
    env = os.environ.get("DATAPREP_SHARED")
    if env:
        cands += [Path(env) / "data" / "yolo-sample", Path(env) / "yolo-sample"]
    cands.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "yolo-sample")
    for c in cands:
        if (c / "coco" / "images" / "train2017").is_dir():
            return c
    pytest.skip("shared/data/yolo-sample is not available")


def _image(path: Path, w: int, h: int, fmt: str = "JPEG", orientation: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", (w, h), (120, 60, 30))
    kw = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif
    im.save(path, fmt, **kw)


def _mini_root(tmp: Path, variant: str = "coco") -> Path:
    """ultralytics layout of the mini sample: blank images of the original sizes + the real labels."""
    gt = json.loads((MINI / "instances_train2017.json").read_text())
    root = tmp / variant
    for im in gt["images"]:
        _image(root / "images" / "train2017" / im["file_name"], im["width"], im["height"])
    (root / "labels").mkdir(parents=True)
    os.symlink(MINI / variant / "labels" / "train2017", root / "labels" / "train2017")
    (root / "data.yaml").write_text((MINI / "data.yaml").read_text())
    return root


def _key(a):
    return a["image_id"], a["category_id"], tuple(a["bbox"])


def _dump(coco) -> bytes:
    import orjson

    return orjson.dumps(coco)


# --------------------------------------------------------------------------- golden: real coco128 labels


@pytest.mark.parametrize("variant,golden", [("coco", GOLDEN_DET), ("coco-segments", GOLDEN_SEG)])
def test_mini_sample_matches_golden_and_original_coco(tmp_path, variant, golden):
    gt = json.loads((MINI / "instances_train2017.json").read_text())
    (res,) = coco_from_yolo(_mini_root(tmp_path, variant))
    coco, summary = res.coco, res.summary
    if os.environ.get("DATAPREP_REGEN_GOLDEN"):
        golden.write_bytes(_dump(coco))
    assert _dump(coco) == golden.read_bytes()
    # the original COCO annotations: every non-crowd box exactly, image ids = COCO ids, all 80 categories
    assert Counter(_key(a) for a in coco["annotations"]) == Counter(
        _key(a) for a in gt["annotations"] if not a["iscrowd"])
    assert sorted(i["id"] for i in coco["images"]) == sorted(i["id"] for i in gt["images"])
    assert [(c["id"], c["name"], c["supercategory"]) for c in coco["categories"]] == [
        (c["id"], c["name"], c["supercategory"]) for c in gt["categories"]]
    assert 250 in {i["id"] for i in coco["images"]}  # no label file: kept, without objects
    assert not [a for a in coco["annotations"] if a["image_id"] == 250]
    assert summary.background == 1 and summary.images == 10
    assert summary.problems.counts == ({"orphan-label": 1} if variant == "coco" else {})
    if variant == "coco-segments":
        gt_by_key = {_key(a): a for a in gt["annotations"] if not a["iscrowd"]}
        multi = 0
        for a in coco["annotations"]:
            g = gt_by_key[_key(a)]
            assert a["area"] == pytest.approx(g["area"], rel=1e-9)
            multi += len(g["segmentation"]) > 1
            assert len(a["segmentation"]) == len(g["segmentation"])  # merged rings split back into parts
        assert multi >= 10


@pytest.mark.parametrize("segments,variant", [(False, "coco"), (True, "coco-segments")])
def test_mini_yolo_from_coco_reproduces_ultralytics_labels_byte_for_byte(segments, variant):
    gt = json.loads((MINI / "instances_train2017.json").read_text())
    labels, names, summary = yolo_from_coco(gt, YoloFromCocoOptions(segments=segments),
                                            source="instances_train2017.json")
    ref = {p.name: p.read_text() for p in (MINI / variant / "labels" / "train2017").glob("*.txt")
           if p.name != "000000000656.txt"}
    assert labels == ref
    assert names == list(COCO80_NAMES)
    assert summary.crowd == sum(a["iscrowd"] for a in gt["annotations"]) > 0


def test_shared_sample_detection_reproduces_original_coco():
    sample = _shared_sample()
    gt = json.loads((sample / "annotations" / "instances_train2017.json").read_text())
    (res,) = coco_from_yolo(sample / "coco")
    coco = res.coco
    assert (len(coco["images"]), len(coco["annotations"]), len(coco["categories"])) == (128, 929, 80)
    assert Counter(_key(a) for a in coco["annotations"]) == Counter(
        _key(a) for a in gt["annotations"] if not a["iscrowd"])
    gi = {i["id"]: (i["file_name"], i["width"], i["height"]) for i in gt["images"]}
    assert {i["id"]: (i["file_name"], i["width"], i["height"]) for i in coco["images"]} == gi
    with_objects = {a["image_id"] for a in coco["annotations"]}
    assert sorted(set(gi) - with_objects) == [250, 508]
    assert res.summary.problems.counts == {"orphan-label": 2}
    orphans = [p.file for p in res.summary.problems.examples["orphan-label"]]
    assert [Path(p).name for p in orphans] == ["000000000656.txt", "000000000659.txt"]


def test_shared_sample_segments_areas_and_boxes(tmp_path):
    sample = _shared_sample()
    gt = json.loads((sample / "annotations" / "instances_train2017.json").read_text())
    root = tmp_path / "seg"  # the sample's coco-segments/images link may be flattened: build the tree here
    root.mkdir()
    os.symlink(sample / "coco" / "images", root / "images")
    os.symlink(sample / "coco-segments" / "labels", root / "labels")
    (res,) = coco_from_yolo(root, CocoFromYoloOptions(names=str(sample / "coco-segments" / "data.yaml")))
    ours = {_key(a): a for a in res.coco["annotations"]}
    assert len(ours) == 929
    single = multi = 0
    for g in gt["annotations"]:
        if g["iscrowd"]:
            continue
        a = ours[_key(g)]  # bbox from the polygon extent equals COCO's exactly (2 decimals)
        if len(g["segmentation"]) == 1:
            single += 1
            assert abs(a["area"] - g["area"]) <= 0.01 * g["area"]
        else:
            multi += 1
        assert a["area"] == pytest.approx(g["area"], rel=1e-6)  # merged multi-part rings too
    assert (single, multi) == (847, 82)


def test_shared_sample_yolo_from_coco_byte_identical():
    sample = _shared_sample()
    gt = json.loads((sample / "annotations" / "instances_train2017.json").read_text())
    for segments, variant in ((False, "coco"), (True, "coco-segments")):
        labels, _, _ = yolo_from_coco(gt, YoloFromCocoOptions(segments=segments), "instances_train2017.json")
        ref = {p.name: p.read_text() for p in (sample / variant / "labels" / "train2017").glob("*.txt")}
        assert len(labels) == 126
        assert all(ref[k] == v for k, v in labels.items())


def test_coco_tables():
    assert len(COCO80_NAMES) == len(COCO80_SUPERCATEGORIES) == len(COCO80_TO_COCO91) == 80
    assert sorted(set(range(1, 91)) - set(COCO80_TO_COCO91)) == [12, 26, 29, 30, 45, 66, 68, 69, 71, 83]
    assert COCO80_TO_COCO91[79] == 90 and COCO80_NAMES[79] == "toothbrush"


# --------------------------------------------------------------------------- pure functions


@pytest.mark.parametrize("line,kind,detail", [
    ("0 0.5 0.5 0.2", "bad-line", "3 value(s) after the class"),
    ("0 0.1 0.1 0.2 0.2 0.3", "bad-line", "5 value(s)"),
    ("0 0.1 0.1 0.2 0.2 0.3 0.3 0.4", "bad-line", "7 value(s)"),
    ("x 0.5 0.5 0.2 0.2", "bad-number", "'x' is not a number"),
    ("0 0.5 0.5 0.2 0.2a", "bad-number", "'0.2a' is not a number"),
    ("0 nan 0.5 0.2 0.2", "bad-number", "not finite"),
    ("1.5 0.5 0.5 0.2 0.2", "bad-class", "'1.5' is not a non-negative integer"),
    ("-1 0.5 0.5 0.2 0.2", "bad-class", "'-1'"),
    ("0 0.5 0.5 0 0.2", "empty-box", "not positive"),
    ("0 0.1 0.1 0.1 0.1 0.1 0.1", "empty-box", "no extent"),
])
def test_parse_bad_lines(line, kind, detail):
    text = "0 0.5 0.5 0.2 0.2\n" + line + "\n"
    objects, issues = parse_label_text(text)
    assert len(objects) == 1 and objects[0].line == 1
    assert [(i.line, i.kind, i.action) for i in issues] == [(2, kind, "skipped")]
    assert detail in issues[0].detail


def test_parse_kinds_per_line_duplicates_and_blank_lines():
    text = "3 0.5 0.5 0.2 0.2\n\n7 0.1 0.1 0.9 0.1 0.5 0.8\n3 0.5 0.5 0.2 0.2\n2.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8\n"
    objects, issues = parse_label_text(text)
    assert [(o.line, o.cls, o.kind, len(o.values)) for o in objects] == [
        (1, 3, "box", 4), (3, 7, "polygon", 6), (5, 2, "polygon", 8)]  # 9-number line: a 4-point polygon
    assert [(i.line, i.kind) for i in issues] == [(4, "duplicate-line")]


def test_parse_outside_clip_and_skip():
    text = "0 0.95 0.5 0.2 0.2\n1 -0.1 0.2 0.5 0.2 0.5 0.9\n2 1.2 0.5 0.1 0.1\n0 0.0000004 0.5 0.0000010 0.2\n"
    objects, issues = parse_label_text(text, "clip")
    assert [(i.line, i.kind, i.action) for i in issues] == [
        (1, "outside-image", "clipped"), (2, "outside-image", "clipped"), (3, "outside-image", "skipped")]
    assert "nothing left inside" in issues[2].detail
    assert objects[0].values == pytest.approx((0.925, 0.5, 0.15, 0.2))
    assert objects[1].values == (0.0, 0.2, 0.5, 0.2, 0.5, 0.9)
    assert objects[2].line == 4  # within the 1e-6 slack of 6-significant-digit labels: untouched, no problem
    objects, issues = parse_label_text(text, "skip")
    assert [o.line for o in objects] == [4]
    assert [i.action for i in issues] == ["skipped"] * 3


def test_pixels_rounding_and_polygon_area():
    assert box_to_pixels((0.0785156, 0.5, 0.157031, 0.25), 640, 480) == [0.0, 180.0, 100.5, 120.0]
    seg, bbox, area = polygon_to_pixels((0.1, 0.1, 0.5, 0.1, 0.5, 0.5), 100, 200)
    assert seg == [[10.0, 20.0, 50.0, 20.0, 50.0, 100.0]] and bbox == [10.0, 20.0, 40.0, 80.0] and area == 1600.0


def _star(rng, cx, cy, r, n):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.4 * r, r, n)
    return np.round(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1), 2).reshape(-1).tolist()


@pytest.mark.parametrize("seed", range(12))
def test_merge_then_split_recovers_every_part(seed):
    rng = np.random.default_rng(seed)
    n_parts = int(rng.integers(2, 6))
    parts = [_star(rng, 60 + 110 * k, 50 + 40 * rng.random(), 35, int(rng.integers(3, 12)))
             for k in range(n_parts)]
    if seed % 2:  # one part with the other orientation (vertex order reversed)
        parts[1] = np.asarray(parts[1]).reshape(-1, 2)[::-1].reshape(-1).tolist()
    ring = merge_multi_segment(parts)
    loops = split_merged_ring([tuple(p) for p in ring.tolist()])
    assert len(loops) == n_parts
    want = sorted(round(abs(shoelace(p)), 6) for p in parts)
    got = sorted(round(abs(shoelace([c for pt in loop for c in pt])), 6) for loop in loops)
    assert got == want


def test_merged_ring_of_opposite_parts_area():
    a = [0, 0, 10, 0, 10, 10, 0, 10]           # counter-clockwise (y up), area 100
    b = [20, 0, 20, 5, 25, 5, 25, 0]            # clockwise, area 25
    ring = merge_multi_segment([a, b])
    assert abs(shoelace(ring.reshape(-1).tolist())) == 75.0  # the plain shoelace: wrong
    flat = (ring / np.array([100.0, 50.0])).reshape(-1).tolist()
    seg, bbox, area = polygon_to_pixels(flat, 100, 50)
    assert area == 125.0 and bbox == [0.0, 0.0, 25.0, 10.0] and len(seg) == 2


def test_split_keeps_a_simple_ring_and_drops_bridges():
    square = [(0, 0), (1, 0), (1, 1), (0, 1)]
    assert split_merged_ring(square) == [square]
    assert split_merged_ring([(0, 0), (1, 0), (0, 0)]) == []


def test_image_ids():
    assert assign_image_ids(["000000000009.jpg", "sub/000000000025.png"]) == [9, 25]
    assert assign_image_ids(["a.jpg", "b.jpg", "1.jpg"]) == [1, 2, 3]
    assert assign_image_ids(["01.jpg", "x/1.jpg"]) == [1, 2]  # int(stem) not unique


# --------------------------------------------------------------------------- images and EXIF


@pytest.mark.parametrize("orientation,swapped", [(1, False), (3, False), (5, True), (6, True), (7, True), (8, True)])
def test_exif_orientation_swaps_size(tmp_path, orientation, swapped):
    p = tmp_path / "a.jpg"
    _image(p, 40, 24, orientation=orientation)
    assert image_size(str(p))[:2] == ((24, 40) if swapped else (40, 24))


def test_exif_orientation_pillow_agrees(tmp_path):
    for o in range(1, 9):
        p = tmp_path / f"{o}.jpg"
        _image(p, 40, 24, orientation=o)
        assert header_size(p.read_bytes()) is not None  # read without Pillow...
        assert image_size(str(p)) == pillow_size(str(p))  # ...and the same as Pillow's


def _jpeg_with_segments(base: bytes, segments) -> bytes:
    """``base`` (a JPEG) with extra marker segments inserted right after SOI."""
    extra = b"".join(b"\xff" + bytes([m]) + (len(body) + 2).to_bytes(2, "big") + body for m, body in segments)
    return base[:2] + extra + base[2:]


def test_header_reader_edge_cases(tmp_path):
    src = tmp_path / "plain.jpg"
    _image(src, 30, 20)
    base = src.read_bytes()
    # big-endian EXIF with orientation 8, after a 20 KB comment segment (beyond the first 8 KB read)
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x08\x00\x00" \
        + b"\x00\x00\x00\x00"
    p = tmp_path / "mm.jpg"
    p.write_bytes(_jpeg_with_segments(base, [(0xFE, b"x" * 20000), (0xE1, b"Exif\x00\x00" + tiff)]))
    assert header_size(p.read_bytes()) == (20, 30)
    assert image_size(str(p)) == pillow_size(str(p)) == (20, 30, None)
    # a broken EXIF block: the reader defers to Pillow, which keeps the stored size and says so
    p = tmp_path / "bad_exif.jpg"
    p.write_bytes(_jpeg_with_segments(base, [(0xE1, b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff")]))
    assert header_size(p.read_bytes()) is None
    w, h, note = image_size(str(p))
    assert (w, h) == (30, 20) and "EXIF block unreadable" in note
    # PNG: IHDR; with an eXIf chunk before the pixels Pillow decides (orientation 6 -> swapped)
    png = tmp_path / "a.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (31, 17)).save(png, exif=exif)
    assert header_size(png.read_bytes()) is None
    assert image_size(str(png)) == (17, 31, None)
    png2 = tmp_path / "b.png"
    Image.new("L", (31, 17)).save(png2)
    assert header_size(png2.read_bytes()) == (31, 17)
    for fmt in ("BMP", "WEBP", "TIFF"):  # other formats: Pillow
        q = tmp_path / f"c.{fmt.lower()}"
        Image.new("RGB", (13, 11)).save(q, fmt)
        assert header_size(q.read_bytes()) is None and image_size(str(q)) == (13, 11, None)


def test_header_reader_matches_pillow_on_the_real_sample():
    sample = _shared_sample()
    files = sorted((sample / "coco" / "images" / "train2017").glob("*.jpg"))
    assert len(files) == 128
    for f in files:
        assert header_size(f.read_bytes()) is not None
        assert image_size(str(f)) == pillow_size(str(f))


def test_exif_rotated_jpeg_boxes_use_the_oriented_size(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "val" / "r.jpg", 300, 200, orientation=6)  # stored 300x200, shown 200x300
    _image(root / "images" / "val" / "p.png", 99, 51, fmt="PNG")
    lab = root / "labels" / "val"
    lab.mkdir(parents=True)
    (lab / "r.txt").write_text("1 0.5 0.5 0.5 0.2\n")
    (lab / "p.txt").write_text("0 0.5 0.5 1 1\n")
    (root / "data.yaml").write_text("names: [a, b]\n")
    (res,) = coco_from_yolo(root)
    imgs = {i["file_name"]: i for i in res.coco["images"]}
    assert (imgs["r.jpg"]["width"], imgs["r.jpg"]["height"]) == (200, 300)
    assert [i["id"] for i in res.coco["images"]] == [1, 2]  # stems not numeric: 1..N by file name
    anns = {a["image_id"]: a for a in res.coco["annotations"]}
    assert anns[imgs["r.jpg"]["id"]]["bbox"] == [50.0, 120.0, 100.0, 60.0]
    assert anns[imgs["p.png"]["id"]]["bbox"] == [0.0, 0.0, 99.0, 51.0]
    assert [c["id"] for c in res.coco["categories"]] == [1, 2]


def test_unreadable_and_corrupt_images_are_reported_and_skipped(tmp_path):
    root = tmp_path / "ds"
    ok = root / "images" / "s" / "ok.jpg"
    ok.parent.mkdir(parents=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(ok)
    (root / "images" / "s" / "junk.jpg").write_bytes(b"not an image at all")
    good = (root / "images" / "s" / "ok.jpg").read_bytes()
    (root / "images" / "s" / "cut.jpg").write_bytes(good[: len(good) // 2])
    (root / "labels" / "s").mkdir(parents=True)
    (root / "labels" / "s" / "ok.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "labels" / "s" / "cut.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "names.txt").write_text("thing\n")
    (res,) = coco_from_yolo(root, CocoFromYoloOptions(names=str(root / "names.txt")))
    assert res.summary.problems.counts == {"unreadable-image": 1}
    assert res.summary.problems.examples["unreadable-image"][0].file.endswith("junk.jpg")
    assert [i["file_name"] for i in res.coco["images"]] == ["cut.jpg", "ok.jpg"]  # header of cut.jpg is fine
    (res,) = coco_from_yolo(root, CocoFromYoloOptions(names=str(root / "names.txt"), verify_images=True))
    assert res.summary.problems.counts == {"corrupt-image": 2}
    assert [i["file_name"] for i in res.coco["images"]] == ["ok.jpg"]


# --------------------------------------------------------------------------- generated datasets: round trips


def _make_coco(rng: random.Random, n_images: int, names, cat_ids, multipart: bool):
    images, anns = [], []
    for k in range(n_images):
        w, h = rng.randint(37, 181), rng.randint(29, 173)
        images.append({"id": 1000 + 7 * k, "file_name": f"{1000 + 7 * k:08d}.png", "width": w, "height": h})
        for _ in range(rng.randint(0, 5)):
            x0, y0 = round(rng.uniform(0, w - 6), 2), round(rng.uniform(0, h - 6), 2)
            bw, bh = round(rng.uniform(2, w - x0), 2), round(rng.uniform(2, h - y0), 2)
            cid = rng.choice(cat_ids)
            nprt = rng.randint(2, 4) if multipart and rng.random() < 0.4 else 1
            parts = []
            for p in range(nprt):
                px0 = x0 + bw * p / nprt
                pw = bw / nprt
                cx, cy = px0 + pw / 2, y0 + bh / 2
                n = rng.randint(3, 9)
                ang = sorted(rng.uniform(0, 2 * np.pi) for _ in range(n))
                parts.append([c for a in ang for c in (round(cx + 0.45 * pw * np.cos(a), 2),
                                                       round(cy + 0.45 * bh * np.sin(a), 2))])
            xs = [v for p in parts for v in p[0::2]]
            ys = [v for p in parts for v in p[1::2]]
            box = [min(xs), min(ys), round(max(xs) - min(xs), 2), round(max(ys) - min(ys), 2)]
            if box[2] <= 0 or box[3] <= 0:
                continue
            anns.append({"id": len(anns) + 1, "image_id": images[-1]["id"], "category_id": cid, "bbox": box,
                         "area": sum(abs(shoelace(p)) for p in parts), "iscrowd": 0, "segmentation": parts})
    cats = [{"id": i, "name": n, "supercategory": n} for i, n in zip(cat_ids, names)]
    return {"images": images, "annotations": anns, "categories": cats}


@pytest.mark.parametrize("segments,coco_names", [(False, False), (True, False), (True, True)])
def test_round_trip_generated(tmp_path, segments, coco_names):
    rng = random.Random(7 + segments + 2 * coco_names)
    names = list(COCO80_NAMES) if coco_names else ["cat", "dog", "kiwi"]
    cat_ids = list(COCO80_TO_COCO91) if coco_names else [1, 2, 3]
    gt = _make_coco(rng, 40, names, cat_ids, multipart=segments)
    gt["annotations"].append(dict(gt["annotations"][0], id=999, iscrowd=1))  # crowd: skipped
    ann = tmp_path / "instances_val.json"
    ann.write_text(json.dumps(gt))
    root = tmp_path / "yolo"
    for im in gt["images"]:
        _image(root / "images" / "val" / im["file_name"], im["width"], im["height"], fmt="PNG")
    s = save_yolo_from_coco(ann, root, YoloFromCocoOptions(segments=segments))
    assert s.crowd == 1 and s.lines == len(gt["annotations"]) - 1
    assert (s.polygons > 0) == segments
    (back,) = coco_from_yolo(root)
    got = back.coco
    assert [(c["id"], c["name"]) for c in got["categories"]] == [(c["id"], c["name"]) for c in gt["categories"]]
    assert sorted(i["id"] for i in got["images"]) == sorted(i["id"] for i in gt["images"])
    want = Counter(_key(a) for a in gt["annotations"] if not a["iscrowd"])
    assert Counter(_key(a) for a in got["annotations"]) == want  # boxes to 0.01 px (2 decimals, exact)
    if segments:
        by = {_key(a): a for a in gt["annotations"] if not a["iscrowd"]}
        for a in got["annotations"]:
            assert a["area"] == pytest.approx(by[_key(a)]["area"], rel=1e-4, abs=0.05)
            assert len(a["segmentation"]) == len(by[_key(a)]["segmentation"])
    assert back.summary.problems.counts == {}


def test_workers_give_byte_identical_json(tmp_path):
    rng = random.Random(3)
    gt = _make_coco(rng, 200, ["a", "b"], [1, 2], multipart=True)
    ann = tmp_path / "instances_train.json"
    ann.write_text(json.dumps(gt))
    root = tmp_path / "yolo"
    for im in gt["images"]:
        _image(root / "images" / "train" / im["file_name"], im["width"], im["height"], fmt="PNG")
    save_yolo_from_coco(ann, root, YoloFromCocoOptions(segments=True))
    with open(root / "labels" / "train" / f"{gt['images'][5]['file_name'][:-4]}.txt", "a") as fh:
        fh.write("9 0.5 0.5 0.1 0.1\n0 0.5\n")  # a problem in the middle, to compare problem logs too
    one = save_coco_from_yolo(root, tmp_path / "w1", CocoFromYoloOptions(workers=1))
    two = save_coco_from_yolo(root, tmp_path / "w2", CocoFromYoloOptions(workers=2))
    a, b = Path(one[0].out).read_bytes(), Path(two[0].out).read_bytes()
    assert a == b and len(a) > 10000
    assert a == _dump(coco_from_yolo(root)[0].coco)  # the streamed file = the library's dict, serialised
    assert one[0].problems.summary_lines() == two[0].problems.summary_lines()
    assert one[0].problems.counts == {"bad-line": 1, "class-out-of-range": 1}


def test_rerun_replaces_label_folder(tmp_path):
    gt = _make_coco(random.Random(1), 5, ["a"], [1], multipart=False)
    ann = tmp_path / "instances_train.json"
    ann.write_text(json.dumps(gt))
    root = tmp_path / "yolo"
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "stale.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    save_yolo_from_coco(ann, root)
    first = {p.name: p.read_text() for p in (root / "labels" / "train").iterdir()}
    save_yolo_from_coco(ann, root)  # ultralytics appends; we replace
    second = {p.name: p.read_text() for p in (root / "labels" / "train").iterdir()}
    assert first == second and "stale.txt" not in second
    assert sorted(p.name for p in (root / "labels").iterdir()) == ["train"]  # no temp folders left


def test_list_file_source_and_missing_entries(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "train2017" / "000000000001.jpg", 50, 40)
    _image(root / "images" / "train2017" / "000000000002.jpg", 50, 40)
    (root / "labels" / "train2017").mkdir(parents=True)
    (root / "labels" / "train2017" / "000000000001.txt").write_text("0 0.5 0.5 0.2 0.5\n")
    (root / "train2017.txt").write_text("./images/train2017/000000000001.jpg\nimages/train2017/000000000009.jpg\n")
    (res,) = coco_from_yolo(root, CocoFromYoloOptions(source="list"))
    assert [(i["id"], i["file_name"]) for i in res.coco["images"]] == [(1, "000000000001.jpg")]
    assert res.summary.problems.counts == {"missing-image": 1}
    p = res.summary.problems.examples["missing-image"][0]
    assert (Path(p.file).name, p.line) == ("train2017.txt", 2)
    # no YAML, COCO split names, class ids < 80: the COCO names and ids
    assert res.coco["annotations"][0]["category_id"] == 1 and len(res.coco["categories"]) == 80


# --------------------------------------------------------------------------- names and layout errors


def test_missing_names_is_a_clear_error(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "train" / "a.jpg", 10, 10)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(ParameterError) as err:
        coco_from_yolo(root)
    assert "no class names" in str(err.value) and "--names data.yaml" in str(err.value)


def test_coco_split_names_with_class_ids_beyond_80(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "val2017" / "1.jpg", 10, 10)
    (root / "labels" / "val2017").mkdir(parents=True)
    (root / "labels" / "val2017" / "1.txt").write_text("85 0.5 0.5 0.2 0.2\n")
    with pytest.raises(ParameterError, match="class ids reach 85"):
        coco_from_yolo(root)


def test_names_yaml_dict_gaps_and_nc_mismatch(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "train" / "a.jpg", 10, 10)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text("names: {0: a, 2: c}\n")
    with pytest.raises(InputFileError, match="not 0..N-1"):
        coco_from_yolo(root)
    (root / "data.yaml").write_text("nc: 3\nnames: [a, b]\n")
    with pytest.raises(InputFileError, match="nc: 3 but lists 2 names"):
        coco_from_yolo(root)


def test_layout_error_names_missing_parts(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "train2017" / "1.jpg", 10, 10)
    with pytest.raises(LayoutError) as err:  # the split found under images/ lacks its labels
        coco_from_yolo(root)
    assert "ultralytics-coco" in str(err.value) and "train2017/*.txt" in str(err.value)
    assert "missing" in str(err.value) and "val2017" not in str(err.value)
    (root / "labels" / "train2017").mkdir(parents=True)
    (root / "labels" / "train2017" / "1.txt").write_text("")
    with pytest.raises(LayoutError) as err:  # a split asked for that is not there
        coco_from_yolo(root, CocoFromYoloOptions(splits=("val2017",)))
    assert "val2017.txt" in str(err.value) and "train2017" not in str(err.value)
    (res,) = coco_from_yolo(root)  # an empty label file is fine: an image without objects
    assert res.summary.background == 1


def test_strict_and_class_out_of_range(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "train" / "a.jpg", 10, 10)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text("names: [a, b]\n")
    (res,) = coco_from_yolo(root)
    p = res.summary.problems.examples["class-out-of-range"][0]
    assert (Path(p.file).name, p.line) == ("a.txt", 2) and "names have 2 classes" in p.detail
    with pytest.raises(RecordError, match="class-out-of-range"):
        coco_from_yolo(root, CocoFromYoloOptions(strict=True))


# --------------------------------------------------------------------------- CLI


def test_cli_coco_from_yolo_and_back(tmp_path):
    root = _mini_root(tmp_path)
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(root), "--workers", "2"])
    assert r.exit_code == 0, r.output
    out = root / "annotations" / "instances_train2017.json"
    assert out.read_bytes() == GOLDEN_DET.read_bytes()
    assert "train2017: 10 images (1 without objects), 61 annotations (61 boxes, 0 polygons)" in r.output
    assert "orphan-label: 1 (ignored)" in r.output and "000000000656.txt" in r.output
    assert f"wrote {out}" in r.output
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(root), "-q", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0 and r.output.strip() == f"wrote {tmp_path / 'o' / 'instances_train2017.json'}"
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(root), "--strict", "-q", "--out", str(tmp_path / "s")])
    assert r.exit_code == 2 and "error:" in r.output and "000000000656.txt" in r.output
    assert not (tmp_path / "s").exists()
    r = CliRunner().invoke(cli, ["yolo-from-coco", str(MINI / "instances_train2017.json"), "--out",
                                 str(tmp_path / "y"), "--segments"])
    assert r.exit_code == 0, r.output
    assert "skipped 1 crowd annotations" in r.output
    for p in (MINI / "coco-segments" / "labels" / "train2017").glob("*.txt"):
        assert (tmp_path / "y" / "labels" / "train2017" / p.name).read_text() == p.read_text()
    assert "0: person" in (tmp_path / "y" / "data.yaml").read_text()


def test_cli_errors_and_nothing_usable(tmp_path):
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(tmp_path / "nope")])
    assert r.exit_code == 2 and r.output.startswith("error: ") and "nope: does not exist" in r.output
    root = tmp_path / "ds"
    _image(root / "images" / "train" / "a.jpg", 10, 10)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5\nfoo\n")
    (root / "data.yaml").write_text("names: [a]\n")
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(root), "-q"])
    assert r.exit_code == 1 and "nothing usable" in r.output
    assert not (root / "annotations").exists()
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(root)])
    assert "a.txt:1: 2 value(s) after the class" in r.output and "a.txt:2: 'foo' is not a number" in r.output
    r = CliRunner().invoke(cli, ["yolo-from-coco", str(tmp_path / "missing.json"), "--out", str(tmp_path / "y")])
    assert r.exit_code == 2 and "missing.json: cannot be read" in r.output


# --------------------------------------------------------------------------- options and the reverse's bad input


def test_task_detect_and_segment_and_category_modes(tmp_path):
    seg_root = _mini_root(tmp_path, "coco-segments")
    (res,) = coco_from_yolo(seg_root, CocoFromYoloOptions(task="detect", category_ids="contiguous"))
    anns = res.coco["annotations"]
    assert all(a["segmentation"] == [] and a["area"] == round(a["bbox"][2] * a["bbox"][3], 5) for a in anns)
    assert res.summary.polygons == 0 and res.summary.boxes == len(anns) == 61
    assert [c["id"] for c in res.coco["categories"]] == list(range(1, 81))
    det_root = _mini_root(tmp_path / "d", "coco")
    (res,) = coco_from_yolo(det_root, CocoFromYoloOptions(task="segment"))
    a = res.coco["annotations"][0]
    x, y, w, h = a["bbox"]
    assert a["segmentation"] == [[x, y, round(x + w, 2), y, round(x + w, 2), round(y + h, 2), x, round(y + h, 2)]]
    names = tmp_path / "three.txt"
    names.write_text("a\nb\nc\n")
    with pytest.raises(ParameterError, match="coco91 needs 80 classes"):
        coco_from_yolo(det_root, CocoFromYoloOptions(names=str(names), category_ids="coco91"))


def test_yolo_from_coco_problems_are_reported(tmp_path):
    coco = {
        "images": [{"id": 1, "file_name": "sub/a.jpg", "width": 200, "height": 100}],
        "categories": [{"id": 5, "name": "x"}, {"id": 9, "name": "y"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 9, "bbox": [10, 10, 20, 20], "iscrowd": 0,
             "segmentation": {"size": [100, 200], "counts": "abc"}},
            {"id": 2, "image_id": 1, "category_id": 7, "bbox": [10, 10, 20, 20], "iscrowd": 0},
            {"id": 3, "image_id": 1, "category_id": 5, "bbox": [10, 10, 0, 20], "iscrowd": 0},
            {"id": 4, "image_id": 2, "category_id": 5, "bbox": [10, 10, 5, 5], "iscrowd": 0},
            {"id": 5, "image_id": 1, "category_id": 5, "bbox": [0, 0, 50, 50], "iscrowd": 0,
             "segmentation": [[0, 0, 50, 0]]},
            {"id": 6, "image_id": 1, "category_id": 5, "bbox": [0, 0, 50, 50], "iscrowd": 0, "segmentation": []},
        ]}
    labels, names, s = yolo_from_coco(coco, YoloFromCocoOptions(segments=True), "x.json")
    assert names == ["x", "y"]
    assert labels == {"sub/a.txt": "1 0.1 0.2 0.1 0.2\n0 0.125 0.25 0.25 0.5\n"}  # last one: a duplicate
    assert dict(s.problems.counts) == {"rle-segmentation": 1, "unknown-category": 1, "empty-box": 1,
                                       "unknown-image": 1, "short-polygon": 1, "duplicate-annotation": 1}
    assert "category_id 7 not in categories" in s.problems.examples["unknown-category"][0].detail
    with pytest.raises(RecordError, match=r"x.json categories, record #1 .*needs an integer id"):
        yolo_from_coco(dict(coco, categories=[{"id": 5, "name": "x"}, {"name": "y"}]), source="x.json")
    ann = tmp_path / "instances_x.json"
    ann.write_text(json.dumps(coco))
    with pytest.raises(RecordError, match="x.json"):
        save_yolo_from_coco(ann, tmp_path / "out", YoloFromCocoOptions(strict=True))
    assert not (tmp_path / "out").exists()


def test_data_yaml_is_merged_or_refused(tmp_path):
    gt = _make_coco(random.Random(2), 3, ["a", "b"], [1, 2], multipart=False)
    for split in ("train", "val"):
        (tmp_path / f"instances_{split}.json").write_text(json.dumps(gt))
        save_yolo_from_coco(tmp_path / f"instances_{split}.json", tmp_path / "y")
    import yaml

    doc = yaml.safe_load((tmp_path / "y" / "data.yaml").read_text())
    assert doc["train"] == "images/train" and doc["val"] == "images/val" and doc["names"] == {0: "a", 1: "b"}
    gt["categories"][1]["name"] = "other"
    (tmp_path / "instances_test.json").write_text(json.dumps(gt))
    with pytest.raises(ParameterError, match="lists other class names"):
        save_yolo_from_coco(tmp_path / "instances_test.json", tmp_path / "y")
    assert not (tmp_path / "y" / "labels" / "test").exists()


def test_cli_splits_space_separated(tmp_path):
    root = tmp_path / "ds"
    for split in ("train2017", "val2017", "extra"):
        _image(root / "images" / split / "000000000001.jpg", 20, 10)
        (root / "labels" / split).mkdir(parents=True)
        (root / "labels" / split / "000000000001.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(root), "--splits", "train2017", "val2017", "-q"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (root / "annotations").iterdir()) == ["instances_train2017.json",
                                                                         "instances_val2017.json"]
    r = CliRunner().invoke(cli, ["coco-from-yolo", str(root), "val2017"])
    assert r.exit_code == 2 and "--splits NAME [NAME ...]" in r.output
