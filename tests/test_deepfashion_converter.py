"""``converters.deepfashion`` / ``dataprep coco-from-deepfashion``.

No real In-shop sample is public (``shared/data/deepfashion-sample/README.md``): every fixture here is synthetic,
written exactly in the documented format (line 1 = row count, line 2 = column names, whitespace-padded rows with
3-digit zero-padded coordinates; COCO-style segmentation JSONs with mmdetection's 15 class names). The golden file
holds the converted synthetic tree; the hand checks below state each expected number independently.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from click.testing import CliRunner
from PIL import Image

from converters.deepfashion import (MMDET_CLASSES, DeepFashionOptions, convert_deepfashion, keypoints_of,
                                    normalize_segmentation_coco, parse_bbox_list, parse_landmark_list,
                                    parse_list_text, parse_partition_list, save_coco_from_deepfashion)
from converters.problems import ProblemLog
from dataprep.cli import cli
from evaluators.errors import InputFileError, LayoutError, RecordError

GOLDEN = Path(__file__).parent / "data" / "deepfashion_synthetic_golden.json"

BOX_HEADER = "image_name  clothes_type  source_type  x_1  y_1  x_2  y_2"
PART_HEADER = "image_name  item_id  evaluation_status"
LM_HEADER = "image_name  clothes_type  variation_type  " + "  ".join(
    f"landmark_visibility_{i}  landmark_location_x_{i}  landmark_location_y_{i}" for i in range(1, 9))

DRESS = "img/WOMEN/Dresses/id_00000002/02_1_front.jpg"
DRESS_SIDE = "img/WOMEN/Dresses/id_00000002/02_2_side.jpg"
TEE = "img/MEN/Tees_Tanks/id_00000007/01_1_front.jpg"
SHORTS = "img/MEN/Shorts/id_00000012/03_3_back.jpg"
PANTS = "img/WOMEN/Pants/id_00000020/01_4_full.jpg"

BOX_ROWS = [(DRESS, 3, 1, 50, 49, 208, 235), (DRESS_SIDE, 3, 2, 60, 30, 190, 250), (TEE, 1, 1, 44, 26, 215, 212),
            (SHORTS, 2, 3, 70, 100, 180, 230), (PANTS, 2, 4, 81, 6, 172, 256)]
PART_ROWS = [(DRESS, "id_00000002", "train"), (DRESS_SIDE, "id_00000002", "train"), (TEE, "id_00000007", "query"),
             (SHORTS, "id_00000012", "gallery"), (PANTS, "id_00000020", "gallery")]
LM_ROWS = [(DRESS, 3, 1, [(0, 95, 68), (0, 158, 69), (1, 60, 120), (0, 200, 118), (0, 97, 140), (0, 160, 141),
                          (2, 0, 0), (0, 180, 230)]),
           (TEE, 1, 2, [(0, 100, 40), (0, 160, 41), (0, 50, 100), (1, 210, 98), (0, 80, 200), (0, 180, 205)]),
           (SHORTS, 2, 1, [(0, 80, 105), (0, 170, 104), (0, 75, 225), (2, 0, 0)])]


def list_text(header: str, rows, count=None) -> str:
    lines = [str(len(rows) if count is None else count), header]
    for row in rows:
        name, *rest = row
        cells = []
        for i, v in enumerate(rest):
            if isinstance(v, list):                            # landmark triples
                cells += [f"{vis}  {x:03d}  {y:03d}" for vis, x, y in v]
            elif isinstance(v, int) and i >= 2:                # coordinates: zero-padded to 3 digits
                cells.append(f"{v:03d}")
            else:                                              # types, item ids, partitions
                cells.append(str(v))
        lines.append(f"{name:<70}" + "  ".join(cells))
    return "\n".join(lines) + "\n"


def make_inshop(root: Path, boxes=BOX_ROWS, parts=PART_ROWS, landmarks=LM_ROWS, images=True) -> Path:
    (root / "Anno").mkdir(parents=True)
    (root / "Eval").mkdir()
    (root / "Anno/list_bbox_inshop.txt").write_text(list_text(BOX_HEADER, boxes))
    (root / "Eval/list_eval_partition.txt").write_text(list_text(PART_HEADER, parts))
    if landmarks is not None:
        (root / "Anno/list_landmarks_inshop.txt").write_text(list_text(LM_HEADER, landmarks))
    (root / "Img/img").mkdir(parents=True)             # the layout needs Img/img/ beside the bbox lists
    if images:
        for name, *_ in boxes:
            path = root / "Img" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (256, 256)).save(path)
    return root


def square(x, y, s):
    return [float(x), float(y), float(x + s), float(y), float(x + s), float(y + s), float(x), float(y + s)]


def segmentation_doc():
    rle = mask_utils.encode(np.asfortranarray(np.pad(np.ones((3, 4), np.uint8), ((2, 15), (5, 15)))))
    rle["counts"] = rle["counts"].decode()
    return {
        "images": [{"id": 10, "file_name": "img_highres/WOMEN/Dresses/id_00000002/02_1_front.jpg",
                    "width": 20, "height": 20},
                   {"id": 7, "file_name": "WOMEN/Tees_Tanks/id_00000007/01_1_front.jpg"}],   # no size: from header
        "categories": [{"id": 4, "name": "dress"}, {"id": 15, "name": "face"}, {"id": 99, "name": "top"}],
        "annotations": [
            {"id": 5, "image_id": 10, "category_id": 4, "segmentation": [square(2, 2, 10)], "area": 100.0,
             "bbox": [2.0, 2.0, 10.0, 10.0], "iscrowd": 0},
            {"id": 5, "image_id": 10, "category_id": 15, "segmentation": [square(4, 4, 4)]},   # no area/bbox
            {"id": 6, "image_id": 7, "category_id": 99, "segmentation": rle, "bbox": [5, 2, 4, 3]},
            {"id": 8, "image_id": 3, "category_id": 4, "segmentation": [square(0, 0, 2)]},      # unknown image
            {"id": 9, "image_id": 7, "category_id": 4, "segmentation": [[1, 2, 3]]},           # bad polygon
        ]}


def make_segmentation(root: Path, doc=None, images=True) -> Path:
    seg = root / "Anno/segmentation"
    seg.mkdir(parents=True)
    (seg / "DeepFashion_segmentation_query.json").write_text(json.dumps(doc or segmentation_doc()))
    if images:
        for rel, size in (("img_highres/WOMEN/Dresses/id_00000002/02_1_front.jpg", (20, 20)),
                          ("img_highres/WOMEN/Tees_Tanks/id_00000007/01_1_front.jpg", (24, 20))):
            path = root / "Img" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", size).save(path)
    return root


# --------------------------------------------------------------------------- txt lists


def test_list_format_rules():
    rows = parse_list_text("2\nimage_name item_id evaluation_status\na 1 train\n\nb 2 query\n", "f.txt", "x")
    assert rows == [(3, ["a", "1", "train"]), (5, ["b", "2", "query"])]
    with pytest.raises(InputFileError, match=r"f.txt: line 1 declares 3 rows but the file has 2"):
        parse_list_text("3\nimage_name x y\na 1 train\nb 2 query\n", "f.txt", "x")
    with pytest.raises(InputFileError, match=r"f.txt:1: should hold the number of rows"):
        parse_list_text("image_name item_id evaluation_status\na 1 train\n", "f.txt", "x")
    with pytest.raises(InputFileError, match=r"f.txt:2: should hold the column names"):
        parse_list_text("1\nimg/a.jpg 1 train\n", "f.txt", "x")


def test_bbox_rows_parsed_by_position_and_bad_rows_reported():
    problems = ProblemLog()
    text = list_text(BOX_HEADER, BOX_ROWS[:2]) + "img/x.jpg 4 1 001 002 003 004\nimg/y.jpg 1 1 001 002\n"
    text = "4" + text[1:]
    rows = parse_bbox_list(text, "bbox.txt", problems)
    assert [(r.image_name, r.clothes_type, r.pose_type, r.x1, r.y1, r.x2, r.y2) for r in rows] == [
        (DRESS, 3, 1, 50.0, 49.0, 208.0, 235.0), (DRESS_SIDE, 3, 2, 60.0, 30.0, 190.0, 250.0)]
    assert problems.counts == {"bad-clothes-type": 1, "bad-line": 1}
    assert problems.examples["bad-line"][0].where() == "bbox.txt:6"


def test_unknown_partition_stops_with_the_line():
    text = list_text(PART_HEADER, PART_ROWS[:2] + [(TEE, "id_00000007", "val")])
    with pytest.raises(InputFileError, match=r"part.txt:5: evaluation_status 'val' is not one of train, query"):
        parse_partition_list(text, "part.txt", ProblemLog())


def test_landmarks_to_coco_keypoints_by_hand():
    rows = parse_landmark_list(list_text(LM_HEADER, LM_ROWS), "lm.txt", ProblemLog())
    assert [len(r.points) for r in rows] == [8, 6, 4]
    kps, n = keypoints_of(rows[2], 2)   # shorts: visible, visible, visible, truncated
    assert kps == [80.0, 105.0, 2, 170.0, 104.0, 2, 75.0, 225.0, 2, 0.0, 0.0, 0] and n == 3
    kps, n = keypoints_of(rows[1], 1)   # tee: 4th landmark occluded -> v=1
    assert kps[9:12] == [210.0, 98.0, 1] and n == 6
    assert keypoints_of(rows[1], 3) is None                         # 6 landmarks for a full-body box
    padded = parse_landmark_list(list_text(LM_HEADER, [(SHORTS, 2, 1, LM_ROWS[2][3] + [(0, 0, 0)] * 4)]),
                                 "lm.txt", ProblemLog())[0]
    assert keypoints_of(padded, 2) == keypoints_of(rows[2], 2)     # all-zero trailing slots up to 8 are fine


# --------------------------------------------------------------------------- bbox source end to end


def test_golden_bbox_conversion(tmp_path):
    root = make_inshop(tmp_path / "inshop")
    conv = save_coco_from_deepfashion(root, tmp_path / "out")
    got = {s: json.loads(Path(conv.summaries[s].out).read_text()) for s in ("train", "query", "gallery")}
    if os.environ.get("DATAPREP_REGEN_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(GOLDEN.read_text())
    train, query, gallery = got["train"], got["query"], got["gallery"]
    assert [im["file_name"] for im in train["images"]] == [DRESS, DRESS_SIDE]
    assert [(im["id"], im["width"], im["height"]) for im in train["images"]] == [(1, 256, 256), (2, 256, 256)]
    dress = train["annotations"][0]
    assert (dress["category_id"], dress["bbox"], dress["area"]) == (3, [50.0, 49.0, 158.0, 186.0], 158.0 * 186.0)
    assert dress["attributes"] == {"pose_type": 1, "item_id": "id_00000002", "variation_type": 1}
    assert dress["keypoints"][:6] == [95.0, 68.0, 2, 158.0, 69.0, 2] and dress["keypoints"][18:21] == [0.0, 0.0, 0]
    assert dress["num_keypoints"] == 7
    side = train["annotations"][1]                     # no landmark row: all-zero keypoints
    assert side["keypoints"] == [0.0, 0.0, 0] * 8 and side["num_keypoints"] == 0
    assert [c["name"] for c in train["categories"]] == ["upper-body", "lower-body", "full-body"]
    assert [len(c["keypoints"]) for c in train["categories"]] == [6, 4, 8]
    assert query["annotations"][0]["category_id"] == 1 and query["annotations"][0]["bbox"] == [44.0, 26.0, 171.0, 186.0]
    assert [a["attributes"]["pose_type"] for a in gallery["annotations"]] == [3, 4]
    assert conv.problems.counts == {"missing-landmarks": 2}
    assert [conv.summaries[s].images for s in ("train", "query", "gallery")] == [2, 1, 2]


def test_without_landmarks_no_keypoints_and_header_sizes(tmp_path):
    boxes = BOX_ROWS[:2]
    root = make_inshop(tmp_path / "inshop", boxes=boxes, parts=PART_ROWS[:2], landmarks=None)
    Image.new("RGB", (180, 256)).save(root / "Img" / DRESS_SIDE)       # header size is used
    conv = convert_deepfashion(root)
    assert list(conv.cocos) == ["train"]
    anns = conv.cocos["train"]["annotations"]
    assert all("keypoints" not in a for a in anns) and "keypoints" not in conv.cocos["train"]["categories"][0]
    assert [(im["width"], im["height"]) for im in conv.cocos["train"]["images"]] == [(256, 256), (180, 256)]
    assert conv.problems.counts == {"box-outside-image": 1}                 # x_2 = 190 > 180, kept as given
    assert anns[1]["bbox"] == [60.0, 30.0, 130.0, 220.0]
    assert any("partition query has no convertible image" in w for w in conv.warnings)


def test_rows_missing_on_one_side_are_reported(tmp_path):
    parts = PART_ROWS + [("img/MEN/Denim/id_00000099/01_1_front.jpg", "id_00000099", "query")]
    root = make_inshop(tmp_path / "inshop", boxes=BOX_ROWS[1:], parts=parts)
    conv = convert_deepfashion(root)
    assert conv.problems.counts["missing-box"] == 2          # DRESS and the Denim image
    assert conv.problems.counts["landmarks-without-box"] == 1
    res = CliRunner().invoke(cli, ["coco-from-deepfashion", str(root), "--strict", "-q"])
    assert res.exit_code == 2 and "landmarks-without-box" in res.stderr and "(7 problem(s) in all)" in res.stderr
    assert not (root / "annotations").exists()


def test_cli_bbox(tmp_path):
    root = make_inshop(tmp_path / "inshop")
    res = CliRunner().invoke(cli, ["coco-from-deepfashion", str(root)])
    assert res.exit_code == 0, res.output
    for split in ("train", "query", "gallery"):
        assert f"wrote {root / 'annotations' / f'deepfashion_{split}.json'}" in res.stdout
    assert "train: 2 images, 2 annotations (full-body=2); 1 with keypoints" in res.stdout
    assert "missing-landmarks: 2 (all keypoints 0)" in res.stdout
    assert "warning: " not in res.stderr


def test_missing_images_are_reported_and_taken_as_256(tmp_path):
    root = make_inshop(tmp_path / "inshop", images=False)
    conv = convert_deepfashion(root)
    assert conv.problems.counts["missing-image"] == 5
    assert all((im["width"], im["height"]) == (256, 256) for c in conv.cocos.values() for im in c["images"])


@pytest.mark.parametrize("case", ["count", "partition", "header", "missing-list"])
def test_cli_bad_lists_write_nothing(tmp_path, case):
    root = make_inshop(tmp_path / "inshop")
    part = root / "Eval/list_eval_partition.txt"
    if case == "count":
        part.write_text(list_text(PART_HEADER, PART_ROWS, count=52712))
    elif case == "partition":
        part.write_text(list_text(PART_HEADER, PART_ROWS[:3] + [(SHORTS, "id_00000012", "test")]))
    elif case == "header":
        (root / "Anno/list_bbox_inshop.txt").write_text("\n".join(list_text(BOX_HEADER, BOX_ROWS).splitlines()[::2]))
    else:
        part.unlink()
    res = CliRunner().invoke(cli, ["coco-from-deepfashion", str(root)])
    assert res.exit_code == 2
    expected = {"count": "list_eval_partition.txt: line 1 declares 52712 rows but the file has 5",
                "partition": "list_eval_partition.txt:6: evaluation_status 'test' is not one of",
                "header": "list_bbox_inshop.txt:2: should hold the column names",
                "missing-list": "list_eval_partition.txt"}[case]
    assert expected in res.stderr
    assert not (root / "annotations").exists()


# --------------------------------------------------------------------------- segmentation source


def test_segmentation_normalised_by_hand(tmp_path):
    root = make_segmentation(tmp_path / "inshop")
    conv = convert_deepfashion(root, DeepFashionOptions("segmentation"))
    coco = conv.cocos["query"]
    assert list(conv.cocos) == ["query"]
    assert [c["name"] for c in coco["categories"]] == list(MMDET_CLASSES)
    assert [c["id"] for c in coco["categories"]] == list(range(1, 16))
    assert coco["images"] == [
        {"id": 1, "file_name": "img_highres/WOMEN/Dresses/id_00000002/02_1_front.jpg", "width": 20, "height": 20},
        {"id": 2, "file_name": "img_highres/WOMEN/Tees_Tanks/id_00000007/01_1_front.jpg", "width": 24, "height": 20}]
    anns = coco["annotations"]
    assert [(a["id"], a["image_id"], a["category_id"]) for a in anns] == [(1, 1, 4), (2, 1, 15), (3, 2, 1)]
    assert (anns[0]["area"], anns[0]["bbox"]) == (100.0, [2.0, 2.0, 10.0, 10.0])          # kept as given
    face = anns[1]                                                # recomputed: 5 x 5 pixels drawn for a 4 x 4 square
    assert face["bbox"] == [4.0, 4.0, 4.0, 4.0] and face["iscrowd"] == 0
    assert face["area"] == float(mask_utils.area(mask_utils.merge(mask_utils.frPyObjects([square(4, 4, 4)], 20, 20))))
    assert anns[2]["area"] == 12.0 and anns[2]["bbox"] == [5.0, 2.0, 4.0, 3.0]            # RLE: 3 x 4 block
    assert conv.problems.counts == {"unknown-image": 1, "bad-segmentation": 1}
    assert conv.summaries["query"].recomputed == {"area": 2, "bbox": 1, "size": 1}
    assert any("partition train skipped" in w for w in conv.warnings)


def test_segmentation_bad_categories_and_ids(tmp_path):
    doc = segmentation_doc()
    doc["categories"][1]["name"] = "sock"
    with pytest.raises(RecordError, match=r"categories, record #1 .*'sock' is not one of mmdetection"):
        normalize_segmentation_coco(doc, "q.json", "query", ProblemLog())
    doc = segmentation_doc()
    doc["images"][1]["id"] = 10
    with pytest.raises(RecordError, match=r"images, record #1 .*repeats image id 10"):
        normalize_segmentation_coco(doc, "q.json", "query", ProblemLog())


def test_cli_segmentation(tmp_path):
    root = make_segmentation(tmp_path / "inshop")
    res = CliRunner().invoke(cli, ["coco-from-deepfashion", str(root), "--source", "segmentation", "-q"])
    assert res.exit_code == 0, res.output
    out = root / "annotations/deepfashion_segmentation_query.json"
    assert res.stdout.strip() == f"wrote {out}"
    assert json.loads(out.read_text())["images"][1]["width"] == 24
    res = CliRunner().invoke(cli, ["coco-from-deepfashion", str(tmp_path), "--source", "segmentation"])
    assert res.exit_code == 2 and "DeepFashion_segmentation_train.json" in res.stderr and "✗ missing" in res.stderr
    bbox_only = make_inshop(tmp_path / "bbox")
    res = CliRunner().invoke(cli, ["coco-from-deepfashion", str(bbox_only), "--source", "segmentation"])
    assert res.exit_code == 2 and "DeepFashion_segmentation_train.json  MISSING" in res.stderr


def test_layout_error_lists_required_files(tmp_path):
    with pytest.raises(LayoutError) as err:                       # data_layouts/deepfashion-inshop.yaml
        convert_deepfashion(tmp_path)
    assert "list_bbox_inshop.txt" in str(err.value) and "✗ missing" in str(err.value)
    root = make_inshop(tmp_path / "inshop")
    shutil.rmtree(root / "Img")                                   # images are optional: 256x256, one warning
    conv = convert_deepfashion(root)
    assert any("Img does not exist" in w for w in conv.warnings) and "missing-image" not in conv.problems.counts
    # the layout is satisfied by the segmentation alternative, but --source bbox needs the lists
    seg = make_segmentation(tmp_path / "seg")
    for split in ("train", "gallery"):
        (seg / f"Anno/segmentation/DeepFashion_segmentation_{split}.json").write_text(json.dumps(segmentation_doc()))
    with pytest.raises(LayoutError) as err:
        convert_deepfashion(seg)
    assert "Anno/list_bbox_inshop.txt  MISSING" in str(err.value) and "--source segmentation" in str(err.value)
