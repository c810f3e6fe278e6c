"""``dataprep coco-from-wider``: the txt parser, the VOC-XML and txt routes on synthetic trees (golden values
written out here), bad input, the CLI, and on ``shared/data/widerface-sample`` (skipped when absent) the
agreement of the XML and txt routes on all 3,226 val images and the comparison with datumaro / globox.
"""
from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.problems import ProblemLog
from converters.widerface import (ATTRIBUTES, WiderOptions, convert_wider, parse_bbx_gt, save_coco_from_wider)
from dataprep.cli import cli
from evaluators.errors import LayoutError, ParameterError, RecordError


def _shared_data() -> Path:
    env = os.environ.get("DATAPREP_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


SAMPLE = _shared_data() / "widerface-sample"
needs_sample = pytest.mark.skipif(not (SAMPLE / "WIDER_val" / "Annotations").is_dir(),
                                  reason="shared/data/widerface-sample is not present")


def _xml(folder: str, stem: str, size, boxes, difficult=()) -> str:
    size_xml = "" if size is None else f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
    objects = "".join(
        f"<object><name>face</name><pose>Unspecified</pose><truncated>0</truncated>"
        f"<difficult>{1 if k in difficult else 0}</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
        f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>" for k, (x0, y0, x1, y1) in enumerate(boxes))
    return (f"<annotation><folder>{folder}</folder><filename>{stem}.jpg</filename>{size_xml}"
            f"<segmented>0</segmented>{objects}</annotation>")


def _voc_tree(root: Path, split: str = "val") -> Path:
    ann = root / f"WIDER_{split}" / "Annotations"
    ann.mkdir(parents=True)
    (ann / "0_Parade_a.xml").write_text(_xml("0--Parade", "0_Parade_a", (640, 480),
                                             [(10, 20, 30, 50), (5, 5, 5, 9), (100, 100, 110, 140)], difficult=(2,)))
    (ann / "1_Handshaking_b.xml").write_text(_xml("1--Handshaking", "1_Handshaking_b", (320, 200), [(1, 2, 20, 18)]))
    (ann / "2_Empty_c.xml").write_text(_xml("2--Empty", "2_Empty_c", (50, 60), []))
    (root / f"{split}.txt").write_text("0_Parade_a\n1_Handshaking_b\n2_Empty_c\n")
    return root


TXT = """0--Parade/0_Parade_a.jpg
3
10 20 20 30 2 0 0 0 2 0
5 5 0 4 0 0 0 1 0 0
100 100 10 40 1 1 1 1 1 1
1--Handshaking/1_Handshaking_b.jpg
1
1 2 19 16 0 1 0 0 2 1
2--Empty/2_Empty_c.jpg
0
0 0 0 0 0 0 0 0 0 0
"""


# --------------------------------------------------------------------------- txt parser


def test_txt_parser_reads_records_attributes_and_the_dummy_row():
    images = parse_bbx_gt(TXT, "gt.txt")
    assert [im.path for im in images] == ["0--Parade/0_Parade_a.jpg", "1--Handshaking/1_Handshaking_b.jpg",
                                          "2--Empty/2_Empty_c.jpg"]
    assert [len(im.faces) for im in images] == [3, 1, 0]
    face = images[1].faces[0]
    assert face.bbox == (1.0, 2.0, 19.0, 16.0) and face.line == 8
    # readme.txt order: blur, expression, illumination, invalid, occlusion, pose
    assert face.attributes == {"blur": 0, "expression": 1, "illumination": 0, "invalid": 0, "occlusion": 2, "pose": 1}
    assert ATTRIBUTES == ("blur", "expression", "illumination", "invalid", "occlusion", "pose")
    # a 0 count without the dummy row is read as well
    images = parse_bbx_gt("a--A/x.jpg\n0\nb--B/y.jpg\n1\n1 1 2 2 0 0 0 0 0 0\n", "gt.txt")
    assert [len(im.faces) for im in images] == [0, 1]


@pytest.mark.parametrize("text, where, message", [
    ("a--A/x.jpg\n3\n1 1 2 2 0 0 0 0 0 0\nb--B/y.jpg\n0\n", "gt.txt, line 2", "announces 3 faces but only 1"),
    ("a--A/x.jpg\n1\n1 1 2 2 0 0 0 0 0 0\n1 1 2 2 0 0 0 0 0 0\n", "gt.txt, line 4", "more rows follow"),
    ("a--A/x.jpg\ntwo\n", "gt.txt, line 2", "not an integer"),
    ("a--A/x.jpg\n1\n1 1 2 2 0 0\n", "gt.txt, line 3", "has 6 values"),
    ("a--A/x.jpg\n1\n1 1 2 b 0 0 0 0 0 0\n", "gt.txt, line 3", "not a number"),
    ("a--A/x.jpg\n", "gt.txt, line 1", "ends before the face count"),
])
def test_txt_parser_names_the_line_of_bad_records(text, where, message):
    with pytest.raises(RecordError) as info:
        parse_bbx_gt(text, "gt.txt")
    assert where in str(info.value) and message in str(info.value) and "Fix:" in str(info.value)


# --------------------------------------------------------------------------- VOC-XML route


def test_voc_route_golden(tmp_path):
    root = _voc_tree(tmp_path)
    problems = ProblemLog()
    coco, summary = convert_wider(root, WiderOptions(split="val", source="voc"), problems)
    assert coco["categories"] == [{"id": 1, "name": "face", "supercategory": "face"}]
    assert [(im["id"], im["file_name"], im["width"], im["height"]) for im in coco["images"]] == [
        (1, "0--Parade/0_Parade_a.jpg", 640, 480), (2, "1--Handshaking/1_Handshaking_b.jpg", 320, 200),
        (3, "2--Empty/2_Empty_c.jpg", 50, 60)]
    got = [(a["image_id"], a["bbox"], a["area"], a["iscrowd"]) for a in coco["annotations"]]
    assert got == [(1, [10.0, 20.0, 20.0, 30.0], 600.0, 0), (1, [100.0, 100.0, 10.0, 40.0], 400.0, 1),
                   (2, [1.0, 2.0, 19.0, 16.0], 304.0, 0)]
    assert [a["id"] for a in coco["annotations"]] == [1, 2, 3]
    assert summary.images == 3 and summary.annotations == 3 and summary.degenerate == 1 and summary.crowd == 1
    assert problems.counts == {"degenerate-box": 1}
    assert "0_Parade_a.xml" in problems.summary_lines()[1] and "object #1" in problems.summary_lines()[1]


def test_voc_route_options(tmp_path):
    root = _voc_tree(tmp_path)
    coco, _ = convert_wider(root, WiderOptions(source="voc", voc_minus_one=True, min_size=17, file_prefix="images/"))
    assert coco["images"][0]["file_name"] == "images/0--Parade/0_Parade_a.jpg"
    # mmdetection's shift moves the box one pixel up-left; w and h stay
    assert [a["bbox"] for a in coco["annotations"]] == [[9.0, 19.0, 20.0, 30.0], [99.0, 99.0, 10.0, 40.0],
                                                        [0.0, 1.0, 19.0, 16.0]]
    # w=10 < 17 -> crowd; 19x16: h < 17 -> crowd; 20x30 stays
    assert [a["iscrowd"] for a in coco["annotations"]] == [0, 1, 1]


def test_voc_route_bad_input(tmp_path):
    root = _voc_tree(tmp_path)
    (root / "WIDER_val" / "Annotations" / "1_Handshaking_b.xml").write_text(
        _xml("1--Handshaking", "1_Handshaking_b", None, [(1, 2, 20, 18)]))
    with pytest.raises(RecordError, match=r"1_Handshaking_b\.xml.*has no <size>"):
        convert_wider(root, WiderOptions(source="voc"))
    (root / "WIDER_val" / "Annotations" / "1_Handshaking_b.xml").write_text("<annotation><size>")
    with pytest.raises(RecordError, match="not well-formed XML"):
        convert_wider(root, WiderOptions(source="voc"))
    (root / "WIDER_val" / "Annotations" / "1_Handshaking_b.xml").unlink()
    with pytest.raises(Exception, match=r"1_Handshaking_b\.xml.*does not exist"):
        convert_wider(root, WiderOptions(source="voc"))


def test_missing_split_reports_the_layout(tmp_path):
    root = _voc_tree(tmp_path)
    with pytest.raises(LayoutError) as info:
        convert_wider(root, WiderOptions(split="train", source="voc"))
    assert "WIDER_train" in str(info.value) and "✗" in str(info.value)
    misplaced = tmp_path / "m"
    (misplaced / "WIDER_val_annotations").mkdir(parents=True)
    (misplaced / "WIDER_val_annotations" / "x.xml").write_text(_xml("0--P", "x", (5, 5), []))
    with pytest.raises(LayoutError, match=r"move WIDER_val_annotations/\*\.xml to WIDER_val/Annotations"):
        convert_wider(misplaced, WiderOptions(split="val", source="voc"))


def test_options_are_checked():
    with pytest.raises(ParameterError, match="train or val"):
        WiderOptions(split="test")
    with pytest.raises(ParameterError, match="--source voc"):
        WiderOptions(source="txt", voc_minus_one=True)


# --------------------------------------------------------------------------- txt route


def test_txt_route_with_sizes_from_images_and_attributes(tmp_path):
    from PIL import Image

    split = tmp_path / "wider_face_split"
    split.mkdir()
    (split / "wider_face_val_bbx_gt.txt").write_text(TXT)
    for rel, size in (("0--Parade/0_Parade_a.jpg", (64, 48)), ("1--Handshaking/1_Handshaking_b.jpg", (33, 21)),
                      ("2--Empty/2_Empty_c.jpg", (7, 9))):
        path = tmp_path / "WIDER_val" / "images" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size).save(path)
    problems = ProblemLog()
    coco, summary = convert_wider(tmp_path, WiderOptions(source="txt", invalid_as_crowd=True), problems)
    assert [(im["width"], im["height"]) for im in coco["images"]] == [(64, 48), (33, 21), (7, 9)]
    anns = coco["annotations"]
    assert [a["bbox"] for a in anns] == [[10.0, 20.0, 20.0, 30.0], [100.0, 100.0, 10.0, 40.0], [1.0, 2.0, 19.0, 16.0]]
    assert anns[0]["attributes"] == {"blur": 2, "expression": 0, "illumination": 0, "invalid": 0, "occlusion": 2,
                                     "pose": 0}
    assert [a["iscrowd"] for a in anns] == [0, 1, 0]  # the invalid face (row 3) only
    assert summary.degenerate == 1 and problems.examples["degenerate-box"][0].line == 4


def test_txt_route_without_sizes_says_what_to_add(tmp_path):
    (tmp_path / "wider_face_split").mkdir()
    (tmp_path / "wider_face_split" / "wider_face_val_bbx_gt.txt").write_text(TXT)
    (tmp_path / "WIDER_val" / "images" / "0--Parade").mkdir(parents=True)
    with pytest.raises(Exception, match=r"3 image\(s\) of the txt list have no size"):
        convert_wider(tmp_path, WiderOptions(source="txt"))


# --------------------------------------------------------------------------- CLI


def test_cli_writes_the_default_path_and_a_summary(tmp_path):
    root = _voc_tree(tmp_path)
    result = CliRunner().invoke(cli, ["coco-from-wider", str(root), "--split", "val", "--quiet"])
    assert result.exit_code == 0, result.output
    out = root / "annotations" / "widerface_val.json"
    assert result.output.strip() == f"wrote {out}"
    first = out.read_bytes()
    result = CliRunner().invoke(cli, ["coco-from-wider", str(root), "--workers", "2"])
    assert result.exit_code == 0 and "3 images, 3 faces (1 iscrowd=1), 1 degenerate boxes dropped" in result.output
    assert "degenerate-box: 1 (dropped)" in result.output
    assert out.read_bytes() == first  # deterministic, overwritten cleanly
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    result = CliRunner().invoke(cli, ["coco-from-wider", str(root), "--split", "train"])
    assert result.exit_code == 2 and "error:" in result.output and "WIDER_train" in result.output


# --------------------------------------------------------------------------- shared sample


@needs_sample
def test_sample_xml_and_txt_routes_agree_on_every_face(tmp_path):
    voc = save_coco_from_wider(SAMPLE, tmp_path / "voc.json", WiderOptions(source="voc", workers=2))
    txt = save_coco_from_wider(SAMPLE, tmp_path / "txt.json", WiderOptions(source="txt"))
    assert voc.images == txt.images == 3226
    # 39,708 txt rows: 11 without area (10 with w or h = 0, one negative width that the XML conversion dropped)
    assert (txt.annotations, txt.degenerate) == (39697, 11)
    assert (voc.annotations, voc.degenerate) == (39697, 10)
    a, b = (json.loads((tmp_path / f"{k}.json").read_text()) for k in ("voc", "txt"))

    def boxes(coco):
        names = {im["id"]: im["file_name"] for im in coco["images"]}
        out = defaultdict(list)
        for ann in coco["annotations"]:
            out[names[ann["image_id"]]].append(tuple(ann["bbox"]))
        return out, {im["file_name"]: (im["width"], im["height"]) for im in coco["images"]}

    (va, sa), (vb, sb) = boxes(a), boxes(b)
    assert va == vb and sa == sb  # same file names (with the event folder), sizes and boxes in the same order
    assert all("/" in name for name in sa)


@needs_sample
@pytest.mark.parametrize("reference", ["reference_datumaro_voc_val_0--Parade.json",
                                       "reference_globox_pascalvoc_val_0--Parade.json"])
def test_sample_parade_against_datumaro_and_globox(tmp_path, reference):
    """Same images, sizes and boxes as the peers except the documented differences: our file_name keeps
    the event folder, the category is id 1, and boxes without area are dropped."""
    ids = (SAMPLE / "val_0--Parade.txt").read_text().split()
    root = tmp_path / "parade"
    (root / "WIDER_val").mkdir(parents=True)
    (root / "WIDER_val" / "Annotations").symlink_to(SAMPLE / "WIDER_val" / "Annotations")
    (root / "val.txt").write_text("\n".join(ids) + "\n")
    ours = json.loads(Path(save_coco_from_wider(root, None, WiderOptions(source="voc")).out).read_text())
    ref = json.loads((SAMPLE / reference).read_text())
    assert len(ref["images"]) == len(ours["images"]) == 115

    def per_image(coco, key):
        names = {im["id"]: key(im["file_name"]) for im in coco["images"]}
        out = defaultdict(Counter)
        for ann in coco["annotations"]:
            out[names[ann["image_id"]]][tuple(float(v) for v in ann["bbox"])] += 1
        return out, {key(im["file_name"]): (im["width"], im["height"]) for im in coco["images"]}

    mine, my_sizes = per_image(ours, lambda f: Path(f).name)
    theirs, their_sizes = per_image(ref, lambda f: Path(f).name)
    assert my_sizes == their_sizes
    dropped = Counter()
    for name, boxes in theirs.items():
        kept = Counter({b: n for b, n in boxes.items() if b[2] > 0 and b[3] > 0})
        dropped[name] = sum(boxes.values()) - sum(kept.values())
        assert mine.get(name, Counter()) == kept, name
    assert sum(dropped.values()) == 3948 - sum(sum(c.values()) for c in mine.values())
    assert all(im["file_name"].startswith("0--Parade/") for im in ours["images"])


@needs_sample
def test_sample_txt_mini_fixes_datumaros_attribute_names():
    """datumaro names the last three columns occluded, pose, invalid; readme.txt says invalid, occlusion, pose."""
    root = SAMPLE / "datumaro-widerface-txt-mini"
    for split in ("train", "val"):
        coco, _ = convert_wider(root, WiderOptions(split=split, source="txt"))
        ref = json.loads((SAMPLE / f"reference_datumaro_widerface_txt_mini_{split}.json").read_text())
        assert [a["bbox"] for a in coco["annotations"]] == [a["bbox"] for a in ref["annotations"]]
        for ours, theirs in zip(coco["annotations"], ref["annotations"]):
            t = {k: int(v) for k, v in theirs["attributes"].items()}
            assert (ours["attributes"]["invalid"], ours["attributes"]["occlusion"], ours["attributes"]["pose"]) == \
                (t["occluded"], t["pose"], t["invalid"])
            assert [ours["attributes"][k] for k in ("blur", "expression", "illumination")] == \
                [t["blur"], t["expression"], t["illumination"]]
