"""``converters.cityscapes`` / ``dataprep coco-from-cityscapes``.

Always run: synthetic instanceIds PNGs and polygons JSONs drawn here (Cityscapes data is never copied into the
repository), a hand-checked instance map, a golden file of the synthetic tree, equivalence with mmdetection's
per-instance mask algorithm on random maps, CLI behaviour and bad input.
With ``shared/data/cityscapes-sample`` (or ``$DATAPREP_SHARED``): the differential test against mmdetection's
reference JSONs (same images and the same multiset of (category, iscrowd, bbox, area, mask) per image; with
``--mmdet-compat`` the same bytes), and the polygon route against the regenerated instanceIds.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from click.testing import CliRunner

from converters.cityscapes import (CityscapesOptions, column_major_runs, convert_cityscapes, instances_from_map,
                                   label_of_pixel, mmdet_json_bytes, rasterize_polygons, read_instance_map,
                                   runs_to_counts, save_coco_from_cityscapes)
from converters.problems import ProblemLog
from dataprep.cli import cli
from evaluators.errors import InputFileError, LayoutError, ParameterError, RecordError


def _shared_data() -> Path:
    env = os.environ.get("DATAPREP_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


SAMPLE = _shared_data() / "cityscapes-sample"
needs_sample = pytest.mark.skipif(not (SAMPLE / "reference_mmdet_instancesonly_filtered_gtFine_train.json").is_file(),
                                  reason="shared/data/cityscapes-sample not available")
GOLDEN = Path(__file__).parent / "data" / "cityscapes_synthetic_golden.json"


# --------------------------------------------------------------------------- synthetic fixtures


def hand_map() -> np.ndarray:
    """6 x 8 map: sky row, road, a car, a person whose pixels run from the bottom of column 5 into the top
    of column 6 (one run across a column break), a crowd group, a caravan, a one-pixel car, an unknown value."""
    ids = np.full((6, 8), 7, dtype=np.uint16)
    ids[0, :] = 23
    ids[1:4, 1:3] = 26000          # car: x 1..2, y 1..3
    ids[2:6, 5] = 24000            # person, column 5 rows 2..5 ...
    ids[0:2, 6] = 24000            # ... and column 6 rows 0..1
    ids[4:6, 0:2] = 24             # persongroup (crowd)
    ids[5, 3] = 29000              # caravan: not evaluated
    ids[1, 7] = 26001              # car, one pixel
    ids[3, 7] = 50                 # no Cityscapes class
    return ids


# value -> (category_id, iscrowd, bbox, area), checked by hand on the map above
HAND_EXPECTED = {
    24: (24, 1, [0.0, 4.0, 2.0, 2.0], 4),
    24000: (24, 0, [5.0, 0.0, 2.0, 6.0], 6),
    26000: (26, 0, [1.0, 1.0, 2.0, 3.0], 6),
    26001: (26, 0, [7.0, 1.0, 1.0, 1.0], 1),
}


def write_png16(path: Path, ids: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), ids.astype(np.uint16))


def make_tree(root: Path, frames, images: bool = True) -> Path:
    """``frames``: ``(split, city, stem, instance map)``; writes instanceIds and (tiny) leftImg8bit PNGs."""
    for split, city, stem, ids in frames:
        write_png16(root / "gtFine" / split / city / f"{stem}_gtFine_instanceIds.png", ids)
        if images:
            img = root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png"
            img.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(img), np.zeros((2, 2, 3), np.uint8))
    return root


def synthetic_frames():
    rng = np.random.default_rng(7)
    second = np.full((12, 16), 11, dtype=np.uint16)
    second[2:9, 3:7] = 33000
    second[5:12, 10:15] = 26
    second[0:3, 12:16] = 32000
    noisy = rng.choice(np.array([0, 7, 24000, 24001, 25000, 27000, 28000, 31000], dtype=np.uint16), size=(9, 7))
    return [("train", "alpha", "alpha_000000_000019", hand_map()),
            ("train", "alpha", "alpha_000001_000019", second),
            ("train", "beta", "beta_000000_000001", np.full((4, 5), 7, dtype=np.uint16)),   # no instances
            ("val", "gamma", "gamma_000003_000007", noisy)]


@pytest.fixture()
def tree(tmp_path):
    return make_tree(tmp_path / "cs", synthetic_frames())


def mmdet_style(ids: np.ndarray):
    """mmdetection's algorithm, written out plainly: one full-image mask per pixel value >= 24."""
    out = []
    for value in np.unique(ids[ids >= 24]):
        label = label_of_pixel(int(value))
        if label is None or not label.has_instances or label.ignore_in_eval:
            continue
        mask = np.asarray(ids == value, dtype=np.uint8, order="F")
        rle = mask_utils.encode(mask[:, :, None])[0]
        area, bbox = mask_utils.area(rle), mask_utils.toBbox(rle)
        rle["counts"] = rle["counts"].decode()
        out.append((int(value < 1000), label.id, bbox.tolist(), area.tolist(), rle))
    return out


# --------------------------------------------------------------------------- pure functions


def test_hand_checked_map():
    ids = hand_map()
    instances, ignored, unknown = instances_from_map(ids)
    assert [i.pixel_id for i in instances] == [24, 24000, 26000, 26001]          # increasing pixel value
    for inst in instances:
        category, crowd, bbox, area = HAND_EXPECTED[inst.pixel_id]
        assert (inst.category_id, inst.iscrowd, list(inst.bbox), inst.area) == (category, crowd, bbox, area)
        assert isinstance(inst.segmentation["counts"], str) and inst.segmentation["size"] == [6, 8]
        decoded = mask_utils.decode({"size": [6, 8], "counts": inst.segmentation["counts"].encode()})
        assert np.array_equal(decoded, (ids == inst.pixel_id).astype(np.uint8))
    assert ignored == {"caravan": 1}
    assert unknown == {50: 1}


def test_runs_and_counts_by_hand():
    ids = np.array([[1, 2], [1, 2], [2, 2]], dtype=np.uint16)     # column-major: 1 1 2 2 2 2
    starts, ends, values = column_major_runs(ids)
    assert starts.tolist() == [0, 2] and ends.tolist() == [2, 6] and values.tolist() == [1, 2]
    assert runs_to_counts(np.array([0]), np.array([2]), 6).tolist() == [0, 2, 4]      # starts with ones
    assert runs_to_counts(np.array([2]), np.array([6]), 6).tolist() == [2, 4]         # ends with ones
    assert runs_to_counts(np.array([1, 4]), np.array([2, 5]), 6).tolist() == [1, 1, 2, 1, 1]


def test_same_as_mmdetection_algorithm_on_random_maps():
    rng = np.random.default_rng(0)
    values = np.array([0, 7, 23, 24, 26, 29, 33, 7000, 24000, 24001, 26000, 26005, 30000, 33001], dtype=np.uint16)
    for trial in range(300):
        h, w = (int(v) for v in rng.integers(1, 14, 2))
        ids = rng.choice(values[: int(rng.integers(2, len(values) + 1))], size=(h, w))
        if trial % 4 == 0:                      # large blobs too, not only salt-and-pepper
            ids = np.repeat(np.repeat(ids[: (h + 2) // 3, : (w + 2) // 3], 3, 0), 3, 1)[:h, :w]
        ours = [(i.iscrowd, i.category_id, list(i.bbox), i.area, i.segmentation) for i in instances_from_map(ids)[0]]
        assert ours == mmdet_style(ids), ids
        if trial % 10 == 0:                     # the numpy transpose (other dtypes) gives the same as cv2's
            assert instances_from_map(ids.astype(np.int64))[0] == instances_from_map(ids)[0]


def test_polygons_are_drawn_as_cityscapes_scripts_does():
    doc = {"imgHeight": 10, "imgWidth": 12, "objects": [
        {"label": "road", "polygon": [[0, 0], [11, 0], [11, 9], [0, 9]]},
        {"label": "car", "polygon": [[1, 1], [4, 1], [4, 3], [1, 3]]},                  # -> 26000
        {"label": "car", "deleted": 1, "polygon": [[0, 0], [11, 0], [11, 9], [0, 9]]},  # not drawn, not counted
        {"label": "cargroup", "polygon": [[6, 5], [9, 5], [9, 8], [6, 8]]},             # -> 26 (crowd)
        {"label": "car", "polygon": [[3, 2], [6, 2], [6, 6], [3, 6]]},                  # -> 26001, over both
        {"label": "license plate", "polygon": [[0, 8], [2, 8], [2, 9], [0, 9]]},        # id -1: not drawn
        {"label": "polegroup", "polygon": [[10, 0], [11, 0], [11, 1], [10, 1]]},        # a class of its own (18)
        {"label": "spaceship", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]},            # unknown: reported
    ]}
    problems = ProblemLog()
    ids = rasterize_polygons(doc, "x_gtFine_polygons.json", problems)
    expected = np.full((10, 12), 7, dtype=np.uint16)
    expected[1:4, 1:5] = 26000
    expected[5:9, 6:10] = 26
    expected[2:7, 3:7] = 26001
    expected[0:2, 10:12] = 18
    assert ids.dtype == np.uint16 and np.array_equal(ids, expected)
    assert problems.counts == {"unknown-label": 1}
    assert "spaceship" in problems.summary_lines()[1]
    with pytest.raises(RecordError, match="imgWidth"):
        rasterize_polygons({"objects": []}, "bad.json")


def test_options_are_validated():
    with pytest.raises(ParameterError, match="splits"):
        CityscapesOptions(splits=("training",))
    with pytest.raises(ParameterError, match="source"):
        CityscapesOptions(source="labelIds")


# --------------------------------------------------------------------------- conversion of a tree


def test_golden_synthetic_tree(tree, tmp_path):
    conv = save_coco_from_cityscapes(tree, tmp_path / "out", CityscapesOptions(splits=("train", "val")))
    got = {s: json.loads(Path(conv.summaries[s].out).read_text()) for s in ("train", "val")}
    if os.environ.get("DATAPREP_REGEN_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(GOLDEN.read_text())
    train = got["train"]
    # hand checks on the golden content
    assert [im["file_name"] for im in train["images"]] == [
        "leftImg8bit/train/alpha/alpha_000000_000019_leftImg8bit.png",
        "leftImg8bit/train/alpha/alpha_000001_000019_leftImg8bit.png",
        "leftImg8bit/train/beta/beta_000000_000001_leftImg8bit.png"]
    assert [im["id"] for im in train["images"]] == [1, 2, 3]
    assert train["images"][0]["segm_file"] == "gtFine/train/alpha/alpha_000000_000019_gtFine_labelIds.png"
    assert [(im["width"], im["height"]) for im in train["images"]] == [(8, 6), (16, 12), (5, 4)]
    first = [a for a in train["annotations"] if a["image_id"] == 1]
    assert [(a["category_id"], a["iscrowd"], a["bbox"], a["area"]) for a in first] == [
        (c, z, b, float(ar)) for c, z, b, ar in HAND_EXPECTED.values()]
    second = [a for a in train["annotations"] if a["image_id"] == 2]        # crowd 26, 32000, 33000
    assert [(a["category_id"], a["iscrowd"], a["bbox"], a["area"]) for a in second] == [
        (26, 1, [10.0, 5.0, 5.0, 7.0], 35.0), (32, 0, [12.0, 0.0, 4.0, 3.0], 12.0), (33, 0, [3.0, 2.0, 4.0, 7.0], 28.0)]
    assert not [a for a in train["annotations"] if a["image_id"] == 3]
    assert [a["id"] for a in train["annotations"]] == list(range(1, len(train["annotations"]) + 1))
    assert [c["id"] for c in train["categories"]] == [24, 25, 26, 27, 28, 31, 32, 33]
    assert train["info"]["source"] == "instance-ids"
    assert conv.problems.counts == {"unknown-class-id": 1}
    assert conv.summaries["train"].ignored == {"caravan": 1}
    assert "split test" not in " ".join(conv.warnings)  # not requested


def test_mmdet_compat_form(tree):
    conv = convert_cityscapes(tree, CityscapesOptions(splits=("train", "val"), mmdet_compat=True))
    train = conv.cocos["train"]
    assert list(train) == ["images", "categories", "annotations"]
    assert train["images"][0] == {"file_name": "alpha/alpha_000000_000019_leftImg8bit.png", "height": 6, "width": 8,
                                  "segm_file": "alpha/alpha_000000_000019_gtFine_labelIds.png", "id": 0}
    ann = train["annotations"][0]
    assert list(ann) == ["iscrowd", "category_id", "bbox", "area", "segmentation", "image_id", "id"]
    assert (ann["id"], ann["image_id"], type(ann["area"])) == (0, 0, int)
    assert train["categories"][0] == {"id": 24, "name": "person"}
    # what mmdetection's loop gives for these frames, written with json.dumps
    expected_anns = [a for _, _, _, ids in synthetic_frames()[:3] for a in mmdet_style(ids)]
    assert [(a["iscrowd"], a["category_id"], a["bbox"], a["area"], a["segmentation"])
            for a in train["annotations"]] == expected_anns
    assert mmdet_json_bytes(train) == json.dumps(train).encode()


def test_no_annotations_key_dropped_in_compat(tmp_path):
    root = make_tree(tmp_path / "cs", [("test", "berlin", "berlin_000000_000019", np.full((3, 3), 1, np.uint16))])
    conv = convert_cityscapes(root, CityscapesOptions(splits=("test",), mmdet_compat=True))
    assert list(conv.cocos["test"]) == ["images", "categories"]
    conv = convert_cityscapes(root, CityscapesOptions(splits=("test",)))
    assert conv.cocos["test"]["annotations"] == []


def test_workers_give_the_same_bytes(tree, tmp_path):
    one = save_coco_from_cityscapes(tree, tmp_path / "w1", CityscapesOptions(splits=("train", "val")))
    two = save_coco_from_cityscapes(tree, tmp_path / "w2", CityscapesOptions(splits=("train", "val"), workers=2))
    for split in ("train", "val"):
        assert Path(one.summaries[split].out).read_bytes() == Path(two.summaries[split].out).read_bytes()


def test_polygon_source_matches_instance_ids_drawn_from_it(tmp_path):
    doc = {"imgHeight": 20, "imgWidth": 30, "objects": [
        {"label": "sky", "polygon": [[0, 0], [29, 0], [29, 19], [0, 19]]},
        {"label": "person", "polygon": [[2, 3], [8, 2], [9, 15], [3, 17]]},
        {"label": "rider", "polygon": [[5, 5], [12, 6], [10, 12]]},
        {"label": "persongroup", "polygon": [[20, 10], [28, 10], [28, 18], [20, 18]]},
        {"label": "bicycle", "polygon": [[15, 1], [25, 4], [18, 9]]}]}
    root = tmp_path / "cs"
    poly = root / "gtFine/train/city/city_000000_000000_gtFine_polygons.json"
    poly.parent.mkdir(parents=True)
    poly.write_text(json.dumps(doc))
    write_png16(root / "gtFine/train/city/city_000000_000000_gtFine_instanceIds.png", rasterize_polygons(doc))
    (root / "leftImg8bit/train/city").mkdir(parents=True)
    cv2.imwrite(str(root / "leftImg8bit/train/city/city_000000_000000_leftImg8bit.png"), np.zeros((2, 2), np.uint8))
    from_png = convert_cityscapes(root, CityscapesOptions(splits=("train",)))
    from_json = convert_cityscapes(root, CityscapesOptions(splits=("train",), source="polygons"))
    assert from_png.cocos["train"]["annotations"] == from_json.cocos["train"]["annotations"]
    assert len(from_json.cocos["train"]["annotations"]) == 4
    assert from_json.cocos["train"]["info"]["source"] == "polygons"


# --------------------------------------------------------------------------- CLI


def test_cli_default_paths_and_summary(tree):
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(tree), "-q"])
    assert res.exit_code == 0, res.output
    out = tree / "annotations"
    assert sorted(p.name for p in out.iterdir()) == ["instancesonly_filtered_gtFine_train.json",
                                                    "instancesonly_filtered_gtFine_val.json"]
    assert f"wrote {out / 'instancesonly_filtered_gtFine_train.json'}" in res.output
    assert "warning: split test skipped" in res.stderr
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(tree), "--splits", "train"])
    assert ("train: 3 images, 7 annotations (2 crowd; person=2, car=3, motorcycle=1, bicycle=1); "
            "not evaluated, skipped: caravan=1") in res.stdout
    assert "unknown-class-id: 1 (skipped)" in res.output


@pytest.mark.parametrize("args", [["--splits", "train", "val", "ROOT"], ["ROOT", "--splits", "val,train"],
                                  ["--splits", "train", "--splits", "val", "ROOT"]])
def test_cli_splits_forms(tree, tmp_path, args):
    args = [str(tree) if a == "ROOT" else a for a in args]
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", *args, "-o", str(tmp_path / "o" / "{split}.json"), "-q"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["train.json", "val.json"]


def test_cli_bad_splits_and_out(tree, tmp_path):
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(tree), "--splits", "training"])
    assert res.exit_code == 2 and "'training' is not a Cityscapes split" in res.output
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(tree), "--splits", "train", "val",
                                   "-o", str(tmp_path / "one.json")])
    assert res.exit_code == 2 and "put {split} in the file name" in res.stderr
    assert not (tmp_path / "one.json").exists()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kind", ["8-bit", "rgb16", "garbage", "empty"])
def test_not_a_16bit_instance_map(tmp_path, kind):
    root = make_tree(tmp_path / "cs", synthetic_frames()[:2])
    bad = root / "gtFine/train/alpha/alpha_000001_000019_gtFine_instanceIds.png"
    if kind == "8-bit":
        cv2.imwrite(str(bad), np.full((4, 4), 7, np.uint8))
    elif kind == "rgb16":
        cv2.imwrite(str(bad), np.full((4, 4, 3), 7, np.uint16))
    else:
        bad.write_bytes(b"" if kind == "empty" else b"not a png at all")
    out = root / "annotations"
    out.mkdir()
    (out / "instancesonly_filtered_gtFine_train.json").write_text("old")
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(root), "--workers", "2", "-q"])
    assert res.exit_code == 2
    assert str(bad) in res.stderr
    assert ("16-bit single-channel instance map" if kind in ("8-bit", "rgb16") else "not a readable PNG") in res.stderr
    assert (out / "instancesonly_filtered_gtFine_train.json").read_text() == "old"      # nothing half-written
    assert [p.name for p in out.iterdir()] == ["instancesonly_filtered_gtFine_train.json"]
    with pytest.raises(InputFileError):
        read_instance_map(bad)


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON"),
    (json.dumps({"objects": []}), "needs integer imgWidth, imgHeight and an objects list"),
    (json.dumps({"imgWidth": 4, "imgHeight": 4, "objects": [{"label": "car", "polygon": 5}]}),
     "record #0 .* has a polygon that cannot be drawn")])
def test_bad_polygons_file_is_named(tmp_path, content, message):
    root = make_tree(tmp_path / "cs", synthetic_frames()[:2])
    for stem in ("alpha_000000_000019", "alpha_000001_000019"):
        (root / f"gtFine/train/alpha/{stem}_gtFine_polygons.json").write_text(
            json.dumps({"imgWidth": 4, "imgHeight": 4, "objects": []}))
    bad = root / "gtFine/train/alpha/alpha_000001_000019_gtFine_polygons.json"
    bad.write_text(content)
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(root), "--source", "polygons", "--workers", "2"])
    assert res.exit_code == 2 and str(bad) in res.stderr
    assert re.search(message, res.stderr), res.stderr
    assert not (root / "annotations").exists()


def test_missing_splits_and_layout(tmp_path):
    with pytest.raises(LayoutError) as err:                       # data_layouts/cityscapes.yaml
        convert_cityscapes(tmp_path)
    text = str(err.value)
    assert "train/*/*_gtFine_instanceIds.png" in text and "✗ missing" in text
    root = make_tree(tmp_path / "cs", synthetic_frames())
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(root), "--splits", "test"])
    assert res.exit_code == 2 and "is not a valid cityscapes tree" in res.stderr and "test/*/*_leftImg8bit.png" in res.stderr
    # a present split whose annotations are polygons only, read as instanceIds: named, with the fix
    poly = root / "gtFine/val/gamma/gamma_000003_000007_gtFine_polygons.json"
    poly.write_text(json.dumps({"imgHeight": 9, "imgWidth": 7, "objects": []}))
    (root / "gtFine/val/gamma/gamma_000003_000007_gtFine_instanceIds.png").unlink()
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(root), "--splits", "val"])
    assert res.exit_code == 2 and "gtFine/val: holds no <city>/*_gtFine_instanceIds.png file" in res.stderr
    assert "or use --source polygons" in res.stderr
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(root), "--splits", "val", "--source", "polygons", "-q"])
    assert res.exit_code == 0, res.output


def test_frames_missing_one_side_are_reported(tmp_path):
    root = make_tree(tmp_path / "cs", synthetic_frames())
    (root / "gtFine/train/alpha/alpha_000001_000019_gtFine_instanceIds.png").unlink()
    (root / "leftImg8bit/train/beta/beta_000000_000001_leftImg8bit.png").unlink()
    conv = convert_cityscapes(root, CityscapesOptions(splits=("train",)))
    assert [im["file_name"].rsplit("/", 1)[1] for im in conv.cocos["train"]["images"]] == [
        "alpha_000000_000019_leftImg8bit.png"]
    assert conv.problems.counts["missing-annotation"] == 1 and conv.problems.counts["missing-image"] == 1
    assert conv.summaries["train"].skipped_images == 2
    res = CliRunner().invoke(cli, ["coco-from-cityscapes", str(root), "--splits", "train", "--strict"])
    assert res.exit_code == 2 and "missing-annotation" in res.stderr
    assert not (root / "annotations").exists()


def test_without_left_images_the_annotations_are_the_frames(tmp_path):
    root = make_tree(tmp_path / "cs", synthetic_frames(), images=False)
    conv = convert_cityscapes(root, CityscapesOptions(splits=("train",)))
    with_images = convert_cityscapes(make_tree(tmp_path / "cs2", synthetic_frames()), CityscapesOptions(splits=("train",)))
    assert conv.cocos["train"]["images"] == with_images.cocos["train"]["images"]
    assert conv.cocos["train"]["annotations"] == with_images.cocos["train"]["annotations"]
    assert any("leftImg8bit/train does not exist" in w for w in conv.warnings)


def test_rerun_overwrites(tree, tmp_path):
    out = tmp_path / "o"
    save_coco_from_cityscapes(tree, out, CityscapesOptions(splits=("val",)))
    first = (out / "instancesonly_filtered_gtFine_val.json").read_bytes()
    save_coco_from_cityscapes(tree, out, CityscapesOptions(splits=("val",)))
    assert (out / "instancesonly_filtered_gtFine_val.json").read_bytes() == first
    assert sorted(p.name for p in out.iterdir()) == ["instancesonly_filtered_gtFine_val.json"]  # no temp files


# --------------------------------------------------------------------------- shared sample (mmdetection's output)


def _key(ann):
    return (ann["category_id"], ann["iscrowd"], tuple(ann["bbox"]), float(ann["area"]), ann["segmentation"]["counts"],
            tuple(ann["segmentation"]["size"]))


@needs_sample
@pytest.mark.parametrize("split", ["train", "val"])
def test_differential_vs_mmdetection(split, tmp_path):
    ref = json.loads((SAMPLE / f"reference_mmdet_instancesonly_filtered_gtFine_{split}.json").read_text())
    conv = save_coco_from_cityscapes(SAMPLE, tmp_path, CityscapesOptions(splits=(split,)))
    ours = json.loads(Path(conv.summaries[split].out).read_text())
    prefix = f"leftImg8bit/{split}/"
    assert sorted(im["file_name"] for im in ours["images"]) == sorted(prefix + im["file_name"] for im in ref["images"])
    ref_by = {im["id"]: prefix + im["file_name"] for im in ref["images"]}
    our_by = {im["id"]: im["file_name"] for im in ours["images"]}
    per_image = lambda coco, names: Counter((names[a["image_id"]], _key(a)) for a in coco.get("annotations", []))
    assert per_image(ours, our_by) == per_image(ref, ref_by)
    assert len(ours["annotations"]) == {"train": 54, "val": 7}[split]
    # --mmdet-compat: the very same bytes
    compat = convert_cityscapes(SAMPLE, CityscapesOptions(splits=(split,), mmdet_compat=True))
    assert mmdet_json_bytes(compat.cocos[split]) == \
        (SAMPLE / f"reference_mmdet_instancesonly_filtered_gtFine_{split}.json").read_bytes()


@needs_sample
def test_polygon_route_on_the_sample():
    # the sample's aachen instanceIds were drawn from its polygons by cityscapesScripts: the same output bytes
    conv = convert_cityscapes(SAMPLE, CityscapesOptions(splits=("train",), source="polygons", mmdet_compat=True))
    assert mmdet_json_bytes(conv.cocos["train"]) == \
        (SAMPLE / "reference_mmdet_instancesonly_filtered_gtFine_train.json").read_bytes()
    # ... while the released labelIds PNG differs from the rasterised polygons on ~0.6 % of the pixels
    city = SAMPLE / "gtFine/train/aachen"
    ids = rasterize_polygons(json.loads((city / "aachen_000001_000019_gtFine_polygons.json").read_text()))
    released = cv2.imread(str(city / "aachen_000001_000019_gtFine_labelIds.png"), cv2.IMREAD_UNCHANGED)
    differ = int((np.where(ids >= 1000, ids // 1000, ids) != released).sum())
    assert differ == 12000 and round(differ / released.size * 100, 2) == 0.57
