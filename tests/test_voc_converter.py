"""``dataprep coco-from-voc`` and the shared VOC XML parser, on synthetic VOCdevkit trees built here.

* The parser: every field (optional ones missing, extra and nested fields kept), bytes or text, and a
  located error (file, line/column or object and field) for each kind of malformed file; the real
  WIDER Face VOC-XML files when ``shared/data/widerface-sample`` is there (skipped otherwise).
* The converter: golden output for a two-year tree (tests/data/voc/*.json: boxes in detectron2's
  convention, difficult kept, iscrowd, image ids in image-set order, file names, sizes), --keep-difficult,
  --classes, deterministic bytes on re-runs and with --workers 2, and bad input: missing ImageSets files
  or folders (layout error with a tree), XML without <size> (read from the JPEG, else skipped),
  non-numeric corners, classes outside the 20, missing or malformed XML (reported, skipped, --strict).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.voc import VocConvertOptions, clean_annotation, convert_voc, resolve_classes
from converters.voc_xml import parse_voc_xml, read_voc_xml
from dataprep.cli import cli
from evaluators.data.voc import VOC_CLASSES
from evaluators.errors import InputFileError, LayoutError, ParameterError, RecordError

GOLDEN = Path(__file__).resolve().parent / "data" / "voc"
UPDATE_GOLDEN = os.environ.get("DATAPREP_UPDATE_GOLDEN") == "1"


def _shared_data() -> Path:
    env = os.environ.get("DATAPREP_SHARED")
    if env:
        return Path(env) / "data" if (Path(env) / "data").is_dir() else Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


WIDER = _shared_data() / "widerface-sample"


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always separates stderr
        return CliRunner()


def _obj(name, box, difficult=None, truncated=None, extra=""):
    parts = [f"<name>{name}</name>", "<pose>Left</pose>"]
    if truncated is not None:
        parts.append(f"<truncated>{truncated}</truncated>")
    if difficult is not None:
        parts.append(f"<difficult>{difficult}</difficult>")
    parts.append("<bndbox>" + "".join(f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box))
                 + "</bndbox>")
    return "<object>" + "".join(parts) + extra + "</object>"


def _xml(name, objects, size=(500, 375), folder="VOC2007"):
    size_xml = "" if size is None else f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
    return (f"<annotation>\n\t<folder>{folder}</folder>\n\t<filename>{name}.jpg</filename>\n"
            f"\t<source><database>The VOC2007 Database</database></source>\n\t{size_xml}\n"
            f"\t<segmented>0</segmented>\n\t" + "\n\t".join(objects) + "\n</annotation>\n")


def _tree(root: Path) -> Path:
    """A small VOCdevkit: VOC2007 trainval (3 images) + test (2), VOC2012 trainval (2)."""
    files = {
        "VOC2007": {
            "000005": _xml("000005", [_obj("chair", (263, 211, 324, 339), 0, 0),
                                      _obj("chair", (165, 264, 253, 372), 1, 1),
                                      _obj("diningtable", (5, 244, 67, 374), 1, 1)]),
            "000007": _xml("000007", [_obj("car", (141, 50, 500, 330), 0, 1)], size=(500, 333)),
            "000009": _xml("000009", [_obj("horse", (69, 172, 270, 330), 0, 0),
                                      _obj("face", (10, 10, 40, 40), 0, 0),  # not a VOC class
                                      _obj("person", (150, 141, 229, 284), 1, 0,
                                           extra="<part><name>head</name><bndbox><xmin>1</xmin></bndbox></part>")]),
            "000001": _xml("000001", [_obj("dog", (48, 240, 195, 371), 0, 1),
                                      _obj("person", (8, 12, 352, 498), 0, 0)], size=(353, 500)),
            "000004": _xml("000004", [_obj("car", (13, 311, 13, 323), 0, 0),  # 1 pixel wide
                                      _obj("car", (362.5, 330, 406.25, 342), 0, 0)]),  # float corners
        },
        "VOC2012": {
            "2008_000002": _xml("2008_000002", [_obj("tvmonitor", (34, 11, 448, 293), 0, 0)], folder="VOC2012"),
            "2008_000003": _xml("2008_000003", [
                _obj("person", (46, 11, 500, 333)),  # no <difficult>, no <truncated> (action / layout objects)
                _obj("train", (62, 190, 83, 243), 0, 0, extra="<occluded>1</occluded><actions><jumping>0</jumping>"
                                                                "<phoning>1</phoning></actions>")], folder="VOC2012"),
        },
    }
    sets = {"VOC2007": {"trainval": ["000005", "000007", "000009"], "test": ["000001", "000004"]},
            "VOC2012": {"trainval": ["2008_000002", "2008_000003"]}}
    for year, xmls in files.items():
        (root / year / "Annotations").mkdir(parents=True, exist_ok=True)
        (root / year / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
        (root / year / "JPEGImages").mkdir(parents=True, exist_ok=True)
        for name, text in xmls.items():
            (root / year / "Annotations" / f"{name}.xml").write_text(text)
        for split, ids in sets[year].items():
            (root / year / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))
    return root


# --------------------------------------------------------------------------- the XML parser


def test_parse_voc_xml_fields():
    text = _xml("2008_000003", [
        _obj("person", (46, 11, 500, 333)),
        _obj("train", (62.5, 190, 83, 243), 1, 1, extra="<occluded>1</occluded><part><name>hand</name></part>"
                                                         "<part><name>foot</name></part>")], folder="VOC2012")
    for data in (text, text.encode()):
        ann = parse_voc_xml(data, "a.xml")
        assert (ann.filename, ann.folder, ann.width, ann.height, ann.depth, ann.segmented) == \
               ("2008_000003.jpg", "VOC2012", 500, 375, 3, 0)
        assert ann.extra == {"source": {"database": "The VOC2007 Database"}}
        person, train = ann.objects
        assert (person.index, person.name, person.bbox, person.difficult, person.truncated, person.pose) == \
               (0, "person", (46.0, 11.0, 500.0, 333.0), 0, 0, "Left")
        assert (train.index, train.bbox, train.difficult, train.truncated) == (1, (62.5, 190.0, 83.0, 243.0), 1, 1)
        assert train.extra == {"occluded": "1", "part": [{"name": "hand"}, {"name": "foot"}]}
    no_size = parse_voc_xml(_xml("x", [], size=None), "b.xml")
    assert (no_size.width, no_size.height, no_size.objects) == (None, None, ())
    assert parse_voc_xml("<annotation><object><name>a</name><difficult>true</difficult><bndbox><xmin>1</xmin>"
                         "<ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>",
                         "c.xml").objects[0].difficult == 1


@pytest.mark.parametrize("text,message", [
    ("<annotation><size>", r"a\.xml, line 1, column \d+.*not well-formed XML"),
    ("<voc></voc>", r"a\.xml '<voc>': the root element is not <annotation>"),
    (_xml("x", [_obj("dog", (1, 2, "3,5", 4))]), r"a\.xml, object #0 \(dog\) '3,5': <bndbox>/<xmax> is not a number"),
    (_xml("x", [_obj("dog", (1, 2, 3, 4)), _obj("cat", (1, 2, 3, "nan"))]),
     r"a\.xml, object #1 \(cat\) 'nan': <bndbox>/<ymax> is not finite"),
    (_xml("x", ["<object><name>dog</name></object>"]), r"object #0 \(dog\) 'dog': has no <bndbox>"),
    (_xml("x", ["<object><bndbox></bndbox></object>"]), r"object #0 .*has no <name>"),
    (_xml("x", [_obj("dog", (1, 2, 3, 4), difficult="maybe")]), r"object #0 \(dog\) 'maybe': <difficult> is not an integer"),
    (_xml("x", [], size=("wide", 3)), r"a\.xml 'wide': <size>/<width> is not an integer"),
    ("<annotation><object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax></bndbox>"
     "</object></annotation>", r"<bndbox> has no <ymax>"),
])
def test_parse_voc_xml_errors_are_located(text, message):
    with pytest.raises(RecordError, match=message):
        parse_voc_xml(text, "a.xml")


def test_read_voc_xml_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"nope\.xml: annotation file does not exist"):
        read_voc_xml(tmp_path / "nope.xml")


@pytest.mark.skipif(not (WIDER / "WIDER_val" / "Annotations").is_dir(), reason="shared/data/widerface-sample absent")
def test_parses_the_wider_face_voc_xml_files():
    """All 3,226 WIDER val VOC-XML files: 39,707 faces (the sample's README count), sizes present,
    every object 'face', difficult 0, the event folder in <folder>."""
    files = sorted((WIDER / "WIDER_val" / "Annotations").glob("*.xml"))
    anns = [read_voc_xml(p) for p in files]
    assert len(anns) == 3226
    assert sum(len(a.objects) for a in anns) == 39707
    assert all(a.width and a.height and a.folder and "--" in a.folder for a in anns)
    assert {o.name for a in anns for o in a.objects} == {"face"}
    assert all(o.difficult == 0 for a in anns for o in a.objects)


# --------------------------------------------------------------------------- golden output


def test_golden_output(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    result = convert_voc(root, tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["voc07_test.json", "voc07_trainval.json", "voc12_trainval.json"]
    for name in names:
        got = json.loads((tmp_path / "out" / name).read_text())
        if UPDATE_GOLDEN:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(json.dumps(got, indent=1) + "\n")
        assert got == json.loads((GOLDEN / name).read_text()), name
    assert [(s.year, s.split, s.images, s.annotations, s.difficult) for s in result.outputs] == [
        ("2007", "trainval", 3, 6, 3), ("2007", "test", 2, 4, 0), ("2012", "trainval", 2, 3, 0)]
    assert result.unknown == {"face": 1}
    assert result.problems.counts == {"unknown-class": 1}


def test_golden_values_spelled_out(tmp_path):
    """What the golden files say, in words: the box convention, ids, file names, sizes, difficult/iscrowd."""
    root = _tree(tmp_path / "VOCdevkit")
    convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2007",), splits=("trainval", "test")))
    tv = json.loads((tmp_path / "out" / "voc07_trainval.json").read_text())
    test = json.loads((tmp_path / "out" / "voc07_test.json").read_text())
    assert [c["name"] for c in tv["categories"]] == list(VOC_CLASSES) and tv["categories"][0]["id"] == 1
    assert [(im["id"], im["file_name"], im["width"], im["height"]) for im in tv["images"]] == [
        (1, "000005.jpg", 500, 375), (2, "000007.jpg", 500, 333), (3, "000009.jpg", 500, 375)]
    dog = test["annotations"][0]
    assert dog["bbox"] == [47.0, 239.0, 148.0, 132.0] and dog["area"] == 148.0 * 132.0
    assert dog["category_id"] == VOC_CLASSES.index("dog") + 1 and dog["iscrowd"] == 0 and dog["difficult"] == 0
    assert test["annotations"][2]["bbox"] == [12.0, 310.0, 1.0, 13.0]  # 1 pixel wide: xmin == xmax
    assert test["annotations"][3]["bbox"] == [361.5, 329.0, 44.75, 13.0]
    chair2 = tv["annotations"][1]
    assert (chair2["difficult"], chair2["iscrowd"]) == (1, 1)
    assert [a["id"] for a in tv["annotations"]] == list(range(1, 7))
    assert not (tmp_path / "out" / "voc12_trainval.json").exists()


def test_keep_difficult_and_classes(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    convert_voc(root, tmp_path / "a", VocConvertOptions(years=("2007",), splits=("trainval",), keep_difficult=True,
                                                         classes="voc,face"))
    data = json.loads((tmp_path / "a" / "voc07_trainval.json").read_text())
    assert all(a["iscrowd"] == 0 for a in data["annotations"])
    assert sum(a["difficult"] for a in data["annotations"]) == 3
    assert data["categories"][-1] == {"id": 21, "name": "face", "supercategory": "face"}
    assert any(a["category_id"] == 21 for a in data["annotations"])
    result = convert_voc(root, tmp_path / "b", VocConvertOptions(years=("2007",), splits=("trainval",), classes="found"))
    data = json.loads((tmp_path / "b" / "voc07_trainval.json").read_text())
    assert [c["name"] for c in data["categories"]] == ["car", "chair", "diningtable", "face", "horse", "person"]
    assert not result.unknown
    assert resolve_classes("dog, cat") == ["dog", "cat"]
    with pytest.raises(ParameterError, match="repeats dog"):
        resolve_classes("voc,dog")


def test_reruns_and_workers_give_the_same_bytes(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    big = root / "VOC2007"
    ids = [f"{k:06d}" for k in range(100, 180)]  # enough files for the worker pool
    for i in ids:
        (big / "Annotations" / f"{i}.xml").write_text(_xml(i, [_obj("cat", (1 + int(i) % 50, 3, 90, 80), int(i) % 2, 0)]))
    (big / "ImageSets" / "Main" / "val.txt").write_text("\n".join(ids) + "\n")
    opts = VocConvertOptions(years=("2007",), splits=("val",))
    convert_voc(root, tmp_path / "one", opts)
    first = (tmp_path / "one" / "voc07_val.json").read_bytes()
    convert_voc(root, tmp_path / "one", opts)
    assert (tmp_path / "one" / "voc07_val.json").read_bytes() == first
    convert_voc(root, tmp_path / "two", VocConvertOptions(years=("2007",), splits=("val",), workers=2))
    assert (tmp_path / "two" / "voc07_val.json").read_bytes() == first
    assert len(json.loads(first)["images"]) == 80
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["voc07_val.json"]  # no temp files left


# --------------------------------------------------------------------------- bad input


def test_layout_errors_name_what_is_missing(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    with pytest.raises(LayoutError) as err:
        convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2012",), splits=("test",)))
    assert "MISSING test.txt" in str(err.value) and "VOC2012/ImageSets/Main/  (splits here: trainval)" in str(err.value)
    assert "choose --splits among trainval" in str(err.value)
    with pytest.raises(LayoutError, match=r"VOC2010/[\s\S]*Annotations/\*\.xml +✗ missing"):
        convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2010",)))
    (root / "VOC2012" / "Annotations").rename(root / "VOC2012" / "Annots")
    with pytest.raises(LayoutError, match=r"VOC2012/[\s\S]*Annotations/\*\.xml +✗ missing"):
        convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2012",)))
    with pytest.raises(InputFileError, match="does not exist"):
        convert_voc(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LayoutError, match=r"VOC2007"):
        convert_voc(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(LayoutError, match=r"PATH holds VOCdevkit/: pass PATH/VOCdevkit"):  # one level too high
        convert_voc(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written before the checks pass


def test_a_year_folder_stands_for_its_parent_and_year(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    result = convert_voc(root / "VOC2007")
    assert [Path(s.path) for s in result.outputs] == [root / "annotations" / "voc07_trainval.json",
                                                       root / "annotations" / "voc07_test.json"]
    with pytest.raises(ParameterError, match="is the VOC2007 folder but --years asks for 2012"):
        convert_voc(root / "VOC2007", options=VocConvertOptions(years=("2012",)))


def test_missing_size_is_read_from_the_image_or_skipped(tmp_path):
    from PIL import Image

    root = _tree(tmp_path / "VOCdevkit")
    ann = root / "VOC2007" / "Annotations"
    (ann / "000007.xml").write_text(_xml("000007", [_obj("car", (1, 1, 9, 9), 0, 0)], size=None))
    (ann / "000009.xml").write_text(_xml("000009", [_obj("car", (1, 1, 9, 9), 0, 0)], size=(0, 0)))
    Image.new("RGB", (64, 48)).save(root / "VOC2007" / "JPEGImages" / "000007.jpg")
    result = convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2007",), splits=("trainval",)))
    data = json.loads((tmp_path / "out" / "voc07_trainval.json").read_text())
    assert [(im["id"], im["width"], im["height"]) for im in data["images"]] == [(1, 500, 375), (2, 64, 48)]
    assert result.problems.counts == {"size-from-image": 1, "no-size": 1}
    assert result.outputs[0].skipped_images == 1
    lines = "\n".join(result.lines())
    assert "no-size: 1 (image skipped)" in lines and "000009.xml" in lines


def test_bad_annotation_files_are_reported_and_skipped(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    ann = root / "VOC2007" / "Annotations"
    (ann / "000007.xml").write_text(_xml("000007", [_obj("car", (1, 1, 9, 9)), _obj("car", ("1x", 1, 9, 9))]))
    (ann / "000005.xml").write_text("<annotation><object>")
    (ann / "000009.xml").unlink()
    result = convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2007",), splits=("trainval", "test")))
    assert result.problems.counts == {"bad-annotation": 2, "missing-annotation": 1}
    assert [(s.split, s.images, s.skipped_images) for s in result.outputs] == [("trainval", 0, 3), ("test", 2, 0)]
    text = "\n".join(result.lines())
    assert "000007.xml: object #1 (car) '1x': <bndbox>/<xmin> is not a number" in text
    assert "000005.xml: line 1, column" in text and "000009.xml" in text
    shutil.rmtree(tmp_path / "out")
    with pytest.raises(InputFileError, match="no image could be converted.*bad-annotation: 2"):
        convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2007",), splits=("trainval",)))
    assert not (tmp_path / "out").exists()
    with pytest.raises(RecordError, match=r"000005\.xml.*bad-annotation: line 1, column 20"):
        convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2007",), splits=("trainval", "test"), strict=True))


def test_inverted_corners_and_bad_image_sets(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    ann = root / "VOC2007" / "Annotations"
    (ann / "000001.xml").write_text(_xml("000001", [_obj("dog", (50, 10, 40, 20), 0, 0), _obj("dog", (1, 1, 5, 5), 0, 0)]))
    result = convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2007",), splits=("test",)))
    assert result.problems.counts == {"inverted-box": 1}
    assert result.outputs[0].annotations == 3
    (root / "VOC2007" / "ImageSets" / "Main" / "test.txt").write_text("000001\n000004  1\n")
    with pytest.raises(RecordError, match=r"test\.txt, line 2 '000004  1': has more than one token"):
        convert_voc(root, tmp_path / "out", VocConvertOptions(years=("2007",), splits=("test",)))


def test_clean_annotation_counts_unknown_classes():
    from collections import Counter

    from converters.problems import ProblemLog

    ann = parse_voc_xml(_xml("a", [_obj("dog", (1, 1, 2, 2)), _obj("face", (1, 1, 2, 2))]), "a.xml")
    log, unknown = ProblemLog(), Counter()
    image = clean_annotation(ann, "a", {"dog": 1}, log, unknown)
    assert [o.name for o in image.objects] == ["dog"] and unknown == {"face": 1}
    assert log.examples["unknown-class"][0].detail == "object #1: class 'face' is not in the list"


# --------------------------------------------------------------------------- command line


def test_cli(tmp_path):
    root = _tree(tmp_path / "VOCdevkit")
    res = _runner().invoke(cli, ["coco-from-voc", str(root), "--years", "2007", "--splits", "trainval,test"])
    assert res.exit_code == 0, res.output
    out = root / "annotations"
    assert res.stdout.splitlines() == [
        f"wrote {out / 'voc07_trainval.json'}: VOC2007 trainval, 3 images, 6 annotations (3 difficult)",
        f"wrote {out / 'voc07_test.json'}: VOC2007 test, 2 images, 4 annotations (0 difficult)"]
    assert "skipped 1 object(s) of classes outside the list (face=1); --classes voc,face keeps them" in res.stderr
    res = _runner().invoke(cli, ["coco-from-voc", str(root), "--years", "2012", "--splits", "test", "-q"])
    assert res.exit_code == 1 and res.stderr.startswith("error: ") and "VOC2012 has no image set 'test'" in res.stderr
    res = _runner().invoke(cli, ["coco-from-voc", str(root), "-o", str(tmp_path / "o"), "--keep-difficult",
                                 "--years", "2007", "--years", "2012", "--workers", "2", "-q"])
    assert res.exit_code == 0 and res.stderr == "" and len(res.stdout.splitlines()) == 3
