"""``converters.dota`` and ``dataprep coco-from-dota`` on synthetic DOTA folders (and the sample split)."""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from converters.dota import dota_to_coco, save_coco_from_dota
from dataprep.cli import cli
from evaluators.data.dota import DOTA_V1_CLASSES
from evaluators.errors import InputFileError, RecordError

SAMPLE = Path("/work/shared/data/dota-sample/reference_outputs/mmrotate_split_ss_1024_gap200")


def _write_split(root: Path, labels: dict, sizes: dict, ext: str = ".png") -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labelTxt").mkdir()
    for stem, text in labels.items():
        w, h = sizes[stem]
        cv2.imwrite(str(root / "images" / f"{stem}{ext}"), np.zeros((h, w, 3), np.uint8))
        (root / "labelTxt" / f"{stem}.txt").write_text(text)
    return root


@pytest.fixture
def split(tmp_path):
    labels = {
        # written out of name order on purpose: images are sorted by file name
        "b_img": "imagesource:GoogleEarth\ngsd:0.5\n"
                 "10.5 20.25 30.5 20.25 30.5 40.75 10.5 40.75 plane 0\n"
                 "0 0 4 0 4 2 0 2 ship 1\n",
        "a_img": "1 1 5 1 5 3 1 3 small-vehicle\n",
        "c_img": "",
    }
    return _write_split(tmp_path / "split", labels, {"b_img": (64, 48), "a_img": (32, 16), "c_img": (8, 8)})


def test_golden_fields(split):
    coco = dota_to_coco(split)
    assert set(coco) == {"info", "images", "categories", "annotations"}
    assert coco["categories"] == [{"id": i, "name": n, "supercategory": n} for i, n in enumerate(DOTA_V1_CLASSES, 1)]
    assert coco["images"] == [
        {"file_name": "a_img.png", "id": 1, "width": 32, "height": 16},
        {"file_name": "b_img.png", "id": 2, "width": 64, "height": 48},
        {"file_name": "c_img.png", "id": 3, "width": 8, "height": 8},
    ]
    a1, a2, a3 = coco["annotations"]
    assert a1 == {"id": 1, "image_id": 1, "category_id": 5, "segmentation": [[1.0, 1.0, 5.0, 1.0, 5.0, 3.0, 1.0, 3.0]],
                  "bbox": [1.0, 1.0, 4.0, 2.0], "area": 8.0, "iscrowd": 0, "difficulty": 0,
                  "rbox": pytest.approx([3.0, 2.0, 4.0, 2.0, 0.0], abs=1e-9)}
    assert a2["id"] == 2 and a2["image_id"] == 2 and a2["category_id"] == 1
    assert a2["segmentation"] == [[10.5, 20.25, 30.5, 20.25, 30.5, 40.75, 10.5, 40.75]]  # floats, not truncated
    assert a2["bbox"] == [10.5, 20.25, 20.0, 20.5]
    assert a2["area"] == pytest.approx(20.0 * 20.5)
    assert a2["difficulty"] == 0 and a2["iscrowd"] == 0
    cx, cy, w, h, t = a2["rbox"]
    assert (cx, cy) == pytest.approx((20.5, 30.5))
    assert sorted([w, h]) == pytest.approx([20.0, 20.5])
    assert -math.pi / 2 <= t < math.pi / 2
    assert a3["id"] == 3 and a3["image_id"] == 2 and a3["category_id"] == DOTA_V1_CLASSES.index("ship") + 1
    assert a3["difficulty"] == 1 and a3["bbox"] == [0.0, 0.0, 4.0, 2.0] and a3["area"] == 8.0


def test_deterministic_and_atomic_save(split, tmp_path):
    out1, out2 = tmp_path / "o1.json", tmp_path / "o2.json"
    s = save_coco_from_dota(split, out1)
    save_coco_from_dota(split, out2)
    assert out1.read_bytes() == out2.read_bytes()
    assert s.images == 3 and s.annotations == 3 and s.per_class["ship"] == 1 and s.unknown == {}
    assert json.loads(out1.read_bytes()) == dota_to_coco(split)


def test_class_lists(split):
    found = dota_to_coco(split, classes="found")
    assert [c["name"] for c in found["categories"]] == ["plane", "ship", "small-vehicle"]
    assert [a["category_id"] for a in found["annotations"]] == [3, 1, 2]
    v2 = dota_to_coco(split, classes="dota-v2.0")
    assert len(v2["categories"]) == 18
    given = dota_to_coco(split, classes=["ship", "plane"])
    assert [a["category_id"] for a in given["annotations"]] == [2, 1]


def test_unknown_class_reported_and_skipped(tmp_path):
    root = _write_split(tmp_path / "s", {"x": "0 0 4 0 4 2 0 2 ufo 0\n0 0 4 0 4 2 0 2 ufo\n1 1 3 1 3 3 1 3 plane 0\n"},
                        {"x": (10, 10)})
    out = tmp_path / "o.json"
    summary = save_coco_from_dota(root, out)
    assert summary.unknown == {"ufo": 2} and summary.annotations == 1
    coco = json.loads(out.read_text())
    assert [a["category_id"] for a in coco["annotations"]] == [1] and coco["annotations"][0]["id"] == 1
    assert "skipped 2 objects of unknown classes (ufo=2)" in summary.line()


def test_annfiles_jpg_and_label_folder(tmp_path):
    root = tmp_path / "tiles"
    (root / "images").mkdir(parents=True)
    (root / "annfiles").mkdir()
    cv2.imwrite(str(root / "images" / "t__1024__0___0.jpg"), np.zeros((20, 30, 3), np.uint8))
    (root / "annfiles" / "t__1024__0___0.txt").write_text("1 1 5 1 5 3 1 3 plane 2\n")
    coco = dota_to_coco(root)
    assert coco["images"] == [{"file_name": "t__1024__0___0.jpg", "id": 1, "width": 30, "height": 20}]
    assert coco["annotations"][0]["difficulty"] == 2
    assert dota_to_coco(root / "annfiles") == coco  # label folder: ../images is used
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "t.txt").write_text("1.5 1 5 1 5 3.2 1 3 plane 0\n")
    with pytest.raises(InputFileError, match="--no-images"):
        dota_to_coco(alone)
    nim = dota_to_coco(alone, no_images=True)
    assert nim["images"] == [{"file_name": "t.png", "id": 1, "width": 5, "height": 4}]


def test_cli(split, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["coco-from-dota", str(split)])
    assert res.exit_code == 0, res.output
    default = split / "annotations" / "dota_coco.json"
    assert f"wrote {default}" in res.output and "3 images, 3 annotations" in res.output
    assert json.loads(default.read_text()) == dota_to_coco(split)
    out = tmp_path / "x.json"
    res = runner.invoke(cli, ["coco-from-dota", str(split), "--out", str(out), "--classes", "plane,ufo", "--quiet"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"wrote {out}"
    assert len(json.loads(out.read_text())["annotations"]) == 1
    res = runner.invoke(cli, ["coco-from-dota", str(split), "--out", str(out), "--classes", "plane"])
    assert "skipped 2 objects of unknown classes (ship=1, small-vehicle=1)" in res.output


def test_bad_input(tmp_path, split):
    runner = CliRunner()
    res = runner.invoke(cli, ["coco-from-dota", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "does not exist" in res.output
    (split / "labelTxt" / "b_img.txt").write_text("1 1 5 1 5 3 1 3 plane 0\n1 1 5 1 5 x 1 3 plane 0\n")
    res = runner.invoke(cli, ["coco-from-dota", str(split)])
    assert res.exit_code == 1
    assert "b_img.txt, line 2" in res.output and "'x' is not a number" in res.output
    with pytest.raises(RecordError, match=r"b_img\.txt, line 2"):
        dota_to_coco(split)
    (split / "labelTxt" / "b_img.txt").write_text("1 1 5 1 5 3 1 3 plane 0\n")
    (split / "images" / "a_img.png").unlink()
    res = runner.invoke(cli, ["coco-from-dota", str(split)])
    assert res.exit_code == 1 and "a_img.txt" in res.output and "has no image" in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(cli, ["coco-from-dota", str(empty)])
    assert res.exit_code == 1 and "holds no .txt label files" in res.output


@pytest.mark.skipif(not (SAMPLE / "annfiles").is_dir(), reason="shared DOTA sample data not available")
def test_sample_truncates_to_mmrotate_reference():
    ref = json.loads((SAMPLE / "dota2coco_mmrotate1x.json").read_text())
    ours = dota_to_coco(SAMPLE / "annfiles", no_images=True)
    assert ours["categories"] == ref["categories"]

    def keyed(coco, truncate):
        names = {c["id"]: c["name"] for c in coco["categories"]}
        files = {im["id"]: im["file_name"] for im in coco["images"]}
        out = {}
        for a in coco["annotations"]:
            seg = [int(v) for v in a["segmentation"][0]] if truncate else a["segmentation"][0]
            xs, ys = seg[0::2], seg[1::2]
            bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            if not truncate:
                assert bbox == a["bbox"]
            out.setdefault(files[a["image_id"]], Counter())[(names[a["category_id"]], tuple(seg), tuple(bbox),
                                                             a["area"])] += 1
        return out

    mine, theirs = keyed(ours, True), keyed(ref, False)
    assert len(ours["annotations"]) == len(ref["annotations"]) == 2435
    assert sorted(mine) == sorted(theirs) and mine == theirs
    assert [im["file_name"] for im in ours["images"]] == sorted(im["file_name"] for im in ref["images"])


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_coco_json_evaluates_like_the_label_folder(tmp_path, seed):
    """The JSON written by coco-from-dota is a ground truth `evaluate --metric rotated` reads: the same
    polygons (not the derived rboxes), difficulties and image set, so the same numbers."""
    import dotagen

    from evaluators import evaluate

    gt, dets = dotagen.make_scene(seed)
    labels, task1 = tmp_path / "labelTxt", tmp_path / "task1"
    dotagen.write_label_folder(gt, labels, seed=seed)
    dotagen.write_task1_folder(dets, task1, dotagen.CLASSES[:5])
    out = tmp_path / "gt.json"
    save_coco_from_dota(labels, out, classes=list(dotagen.CLASSES[:5]), no_images=True)
    for protocol in ("dota-v1.0", "dota-v1.5"):
        a = evaluate(out, task1, metric="rotated", protocol=protocol, classes=list(dotagen.CLASSES[:5]), device="cpu")
        b = evaluate(labels, task1, metric="rotated", protocol=protocol, classes=list(dotagen.CLASSES[:5]), device="cpu")
        assert a.per_class_rows == b.per_class_rows
