"""data_layouts/*.yaml and ``dataprep check-layout``: schema, synthetic trees (good, missing, misplaced), real
shared data (skipped when absent), the CLI, and the DOTA tools' use of the dota layout."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dataprep.cli import cli
from dataprep.layouts import (LAYOUT_NAMES, Group, Part, check_layout, layout_dir, list_layouts, load_layout,
                              parse_layout, require_layout)
from evaluators.errors import InputFileError, LayoutError, ParameterError


def _shared(name: str) -> Path:
    cands = []
    env = os.environ.get("DATAPREP_SHARED")
    if env:
        cands += [Path(env) / "data" / name, Path(env) / name]
    cands.append(Path(__file__).resolve().parents[2] / "shared" / "data" / name)
    for c in cands:
        if c.is_dir():
            return c
    pytest.skip(f"shared/data/{name} is not available")


def make_tree(root: Path, paths) -> Path:
    """Empty files (``a/b.txt``) and folders (``a/b/``) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for p in paths:
        full = root / p
        if p.endswith("/"):
            full.mkdir(parents=True, exist_ok=True)
        else:
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_bytes(b"")
    return root


def marked(text: str, fragment: str, mark: str) -> list:
    """The tree lines (above the fixes) that hold both ``fragment`` and ``mark``."""
    tree = text.split("\nfixes:\n")[0].split("\nresult: ")[0]
    return [ln for ln in tree.splitlines()[2:] if fragment in ln and mark in ln]


def line_of(text: str, fragment: str) -> str:
    """The one tree line (above the fixes) that holds ``fragment`` (fails when none or several do)."""
    tree = text.split("\nfixes:\n")[0].split("\nresult: ")[0]
    lines = [ln for ln in tree.splitlines()[2:] if fragment in ln]
    assert len(lines) == 1, (fragment, lines, text)
    return lines[0]


# A correct tree per layout, with its default splits (empty files are enough: nothing is opened).
GOOD = {
    "coco": ["annotations/instances_train2017.json", "annotations/instances_val2017.json",
             "train2017/000000000009.jpg", "val2017/000000000139.jpg"],
    "ultralytics-coco": ["images/train2017/a.jpg", "labels/train2017/a.txt", "images/val2017/b.jpg",
                         "labels/val2017/b.txt", "train2017.txt", "val2017.txt", "coco.yaml"],
    "lvis": ["annotations/lvis_v1_train.json", "annotations/lvis_v1_val.json", "train2017/a.jpg", "val2017/b.jpg"],
    "cityscapes": ["leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png",
                   "gtFine/train/aachen/aachen_000000_000019_gtFine_instanceIds.png",
                   "leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png",
                   "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_polygons.json"],
    "widerface": ["WIDER_train/Annotations/0_Parade_marchingband_1_5.xml", "train.txt",
                  "WIDER_train/0--Parade/0_Parade_marchingband_1_5.jpg",
                  "WIDER_val/Annotations/0_Parade_Parade_0_12.xml", "val.txt"],
    "deepfashion-inshop": ["Anno/list_bbox_inshop.txt", "Eval/list_eval_partition.txt",
                           "Img/img/WOMEN/Dresses/id_00000002/02_1_front.jpg"],
    "voc": ["VOC2007/Annotations/000001.xml", "VOC2007/JPEGImages/000001.jpg", "VOC2007/ImageSets/Main/trainval.txt"],
    "dota": ["train/images/P0000.png", "train/labelTxt/P0000.txt", "val/images/P0003.png",
             "val/labelTxt/P0003.txt", "test/images/P0006.png"],
}

# (layout, required file removed from GOOD, the line that must then say ✗ missing)
MISSING = [
    ("coco", "annotations/instances_val2017.json", "instances_val2017.json"),
    ("coco", "train2017/000000000009.jpg", "train2017/*.{jpg"),
    ("ultralytics-coco", "labels/val2017/b.txt", "val2017/*.txt"),
    ("lvis", "annotations/lvis_v1_val.json", "lvis_v0.5_val.json"),
    ("lvis", "val2017/b.jpg", "val2017/*.{jpg"),
    ("cityscapes", "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_polygons.json", "val/*/*_gtFine_polygons"),
    ("widerface", "val.txt", "val.txt"),
    ("deepfashion-inshop", "Eval/list_eval_partition.txt", "list_eval_partition.txt"),
    ("voc", "VOC2007/ImageSets/Main/trainval.txt", "Main/*.txt"),
    ("dota", "val/labelTxt/P0003.txt", "labelTxt/*.txt"),
]

# (layout, tree, splits, fragment of the rendered '! misplaced' line, fix text, ok?)
MISPLACED = [
    ("widerface", ["WIDER_train_annotations/a.xml", "WIDER_train_annotations/b.xml", "train.txt"], ["train"],
     "WIDER_train_annotations/*.xml", "move WIDER_train_annotations/*.xml to WIDER_train/Annotations/", False),
    ("widerface", ["WIDER_val/Annotations/a.xml", "WIDER_val_annotations/val.txt"], ["val"],
     "val.txt", "move WIDER_val_annotations/val.txt to val.txt", False),
    ("coco", ["val2017/a.jpg", "val2017/instances_val2017.json"], ["val2017"],
     "instances_val2017.json", "annotations sit inside the image folder", False),
    ("coco", ["annotations/instances_val2017.json", "images/val2017/a.jpg"], ["val2017"],
     "val2017/*.{jpg", "move images/val2017 to val2017", False),
    ("coco", ["annotations/instances_val2017.json", "val2017/a.jpg", "val2017/a.png"], ["val2017"],
     "val2017/*.png", "the stuff maps were unzipped over the images", True),
    ("coco", ["annotations/instances_val2017.json", "val2017/a.jpg", "stuffthingmaps_trainval2017/val2017/a.png"],
     ["val2017"], "val2017/*.png", "rename stuffthingmaps_trainval2017/ to stuffthingmaps/", True),
    ("ultralytics-coco", ["images/val2017/a.jpg", "images/val2017/a.txt"], ["val2017"],
     "val2017/*.txt", "move images/val2017/*.txt to labels/val2017/", False),
    ("ultralytics-coco", ["images/val2017/a.jpg", "coco/labels/val2017/a.txt"], ["val2017"],
     "val2017/*.txt", "coco2017labels.zip holds a coco/ folder", False),
    ("lvis", ["lvis_v1_val.json", "train2017/a.jpg", "val2017/b.jpg"], ["val"],
     "lvis_v1_val.json", "move lvis_v1_val.json into annotations/", False),
    ("cityscapes", ["gtFine_trainvaltest/gtFine/val/frankfurt/f_gtFine_instanceIds.png"], ["val"],
     "val/*/*_gtFine_instanceIds.png",
     "extracted one level too deep: move gtFine_trainvaltest/gtFine to gtFine", False),
    ("deepfashion-inshop", ["Anno/list_bbox_inshop.txt", "Eval/list_eval_partition.txt", "img/MEN/x.jpg"], None,
     "img/", "move img/ into Img/", True),
    ("deepfashion-inshop", ["Anno/DeepFashion_segmentation_query.json"], ["query"],
     "DeepFashion_segmentation_query.json", "move Anno/DeepFashion_segmentation_query.json into "
     "Anno/segmentation/", False),
    ("voc", ["VOCdevkit/VOC2007/Annotations/1.xml", "VOCdevkit/VOC2007/ImageSets/Main/test.txt"], ["VOC2007"],
     "Annotations/*.xml", "PATH holds VOCdevkit/: pass PATH/VOCdevkit", False),
    ("dota", ["train/images/P1.png", "labelTxt/P1.txt"], ["train"],
     "labelTxt/*.txt", "labelTxt/ is at the top level but each split has its own: move it to train/labelTxt/", False),
    ("dota", ["val/images/P2.png", "val/labelTxt-v1.0/labelTxt/P2.txt"], ["val"], "labelTxt-v*/*/*.txt",
     "the label zip was unzipped one level too deep", False),
    ("dota", ["train/images/images/P1.png", "train/labelTxt/P1.txt"], ["train"], "images/*.{png",
     "move train/images/images/* up to train/images/", False),
]


# --------------------------------------------------------------------------- the layout files


def test_every_layout_file_loads_and_is_shipped():
    names = sorted(p.stem for p in layout_dir().glob("*.yaml"))
    assert names == sorted(LAYOUT_NAMES) and len(names) == 8
    for name, title in list_layouts():
        layout = load_layout(name)
        assert layout.name == name and layout.title == title and layout.parts
        assert set(layout.default_splits) <= set(layout.splits)
        parts = [p for e in layout.parts for p in ([e] if isinstance(e, Part) else
                                                   [q for a in e.alternatives for q in a.parts])]
        assert all(p.description for p in parts) and any(p.required for p in parts)
        assert any(isinstance(e, Group) for e in layout.parts) or name in ("coco", "voc")
        assert sum(len(p.misplaced) for p in parts) >= 2, name  # every layout knows common mistakes


def test_schema_rejects_bad_layouts(tmp_path):
    ok = {"name": "x", "title": "t", "splits": ["a"], "parts": [{"path": "{split}/*.jpg", "description": "d"}]}
    assert parse_layout(ok).default_splits == ("a",)
    bad = [
        ({**ok, "colour": 1}, "unknown key"),
        ({**ok, "parts": [{"path": "{year}/a", "description": "d"}]}, "unknown placeholder"),
        ({**ok, "parts": [{"path": "../a", "description": "d"}]}, "relative"),
        ({**ok, "parts": [{"path": "a/*.jpg", "kind": "file", "description": "d"}]}, "kind must be glob"),
        ({**ok, "parts": [{"path": "a", "description": "d", "min": 0}]}, "min must be"),
        ({**ok, "parts": [{"path": "a"}]}, "needs a description"),
        ({**ok, "parts": [{"path": "a", "description": "d", "misplaced": [{"path": "b"}]}]}, "exactly 'path' and 'fix'"),
        ({**ok, "parts": [{"any_of": [{"path": "a", "description": "d"}]}]}, "at least two"),
        ({**ok, "default_splits": ["b"]}, "not in splits"),
        ({**ok, "single_split": True, "parts": [{"path": "a", "description": "d"}]}, "single_split"),
    ]
    for data, message in bad:
        with pytest.raises(InputFileError, match=message):
            parse_layout(data)
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump({**ok, "name": "other"}))
    with pytest.raises(InputFileError, match="differs from the file name"):
        load_layout(str(f))


def test_custom_layout_file(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump({"name": "mine", "title": "t", "splits": ["a", "b"], "default_splits": ["a"],
                                 "parts": [{"path": "{split}/*.jpg", "description": "pics", "min": 2}]}))
    root = make_tree(tmp_path / "d", ["a/1.jpg"])
    report = check_layout(str(f), root)
    assert not report.ok
    assert "✗ missing (1 file, need 2) — pics" in line_of(report.render(), "a/*.jpg")
    assert "– absent (optional split)" in line_of(report.render(), "b/*.jpg")
    make_tree(root, ["a/2.jpg"])
    assert check_layout(str(f), root).ok


# --------------------------------------------------------------------------- synthetic trees


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_good_tree_passes(tmp_path, name):
    root = make_tree(tmp_path / name, GOOD[name])
    report = check_layout(name, root)
    text = report.render()
    assert report.ok and not report.missing and "✗" not in text, text
    assert text.endswith("result: ok, every required part is present")
    res = CliRunner().invoke(cli, ["check-layout", name, str(root)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == text
    assert require_layout(name, root).ok


@pytest.mark.parametrize("name,removed,fragment", MISSING)
def test_missing_required_part_fails(tmp_path, name, removed, fragment):
    root = make_tree(tmp_path / name, [p for p in GOOD[name] if p != removed])
    report = check_layout(name, root)
    assert not report.ok and report.missing
    text = report.render()
    assert marked(text, fragment, "✗ missing")
    assert "result: NOT OK" in text and "fixes:" in text
    res = CliRunner().invoke(cli, ["check-layout", name, str(root)])
    assert res.exit_code == 1 and "✗ missing" in res.output
    with pytest.raises(LayoutError) as exc:
        require_layout(name, root)
    assert exc.value.report == text and "check-layout" in str(exc.value) and str(root) in str(exc.value)


@pytest.mark.parametrize("name,tree,splits,found,fix,ok", MISPLACED)
def test_misplaced_parts_give_their_fix(tmp_path, name, tree, splits, found, fix, ok):
    root = make_tree(tmp_path / "t", tree)
    report = check_layout(name, root, splits)
    text = report.render()
    assert report.ok is ok, text
    assert any(fix in m.fix for m in report.misplaced), report.misplaced
    number = next(i for i, f in enumerate(report.fixes, 1) if fix in f)
    assert any(f"fix {number}" in ln for ln in marked(text, found, "! misplaced")), text
    assert f"  {number}. " in text and fix in text


def test_globs_are_counted_and_alternatives_used(tmp_path):
    files = [f"WIDER_val/Annotations/{i}.xml" for i in range(12)] + ["val.txt"]
    files += [f"WIDER_val/{e}--Ev/{e}_{i}.jpg" for e in range(3) for i in range(2)] + ["WIDER_val/Annotations/.x.xml"]
    root = make_tree(tmp_path / "w", files + ["WIDER_val/Annotations/sub.xml/"])  # a folder named *.xml: not a file
    text = check_layout("widerface", root, ["val"]).render()
    assert "✓ 12 files" in line_of(text, "Annotations/*.xml")
    assert "✓ 6 files" in line_of(text, "*--*/*.jpg")
    assert "wider_face_split" not in text  # the unused alternative is not listed
    root2 = make_tree(tmp_path / "t", ["wider_face_split/wider_face_val_bbx_gt.txt", "WIDER_val/images/0--P/a.jpg"])
    r2 = check_layout("widerface", root2, ["val"])
    assert r2.ok and "Annotations" not in r2.render()
    # LVIS v0.5 names are an alternative to v1
    r3 = check_layout("lvis", make_tree(tmp_path / "l", ["annotations/lvis_v0.5_train.json",
                                                         "annotations/lvis_v0.5_val.json", "train2017/a.jpg",
                                                         "val2017/b.jpg"]))
    assert r3.ok and "lvis_v1_train" not in r3.render()


def test_ultralytics_list_file_replaces_the_image_folder(tmp_path):
    root = make_tree(tmp_path / "u", ["train2017.txt", "labels/train2017/a.txt"])
    assert check_layout("ultralytics-coco", root, ["train2017"]).ok
    (root / "train2017.txt").unlink()
    report = check_layout("ultralytics-coco", root, ["train2017"])
    assert not report.ok and report.missing[0].path == "images/train2017/*.{jpg,jpeg,png,bmp,tif,tiff,webp,JPG,JPEG,PNG} | train2017.txt"
    assert "add one of: image folder (images/train2017/" in report.render()


def test_splits_option(tmp_path):
    root = make_tree(tmp_path / "c", GOOD["coco"])
    report = check_layout("coco", root)
    assert report.splits == ("train2017", "val2017") and report.optional_splits == ("test2017",)
    assert "– absent (optional split)" in line_of(report.render(), "test2017/*")
    val_only = make_tree(tmp_path / "v", ["annotations/instances_val2017.json", "val2017/a.jpg"])
    assert "to check only the split(s) present: --splits val2017" in check_layout("coco", val_only).render()
    assert "no trace of" not in report.render()
    only = check_layout("coco", root, ["val2017"])
    assert only.ok and "train2017" not in only.render()
    assert not check_layout("coco", root, ["train2014"]).ok  # any name; required when asked for
    assert check_layout("coco", root, "train2017,val2017").ok
    for bad, message in [([], "non-empty"), (["a", ""], "non-empty"), (["."], "not possible for layout 'coco'"),
                         (["../x"], "is not a folder name")]:
        with pytest.raises(ParameterError, match=message):
            check_layout("coco", root, bad)
    with pytest.raises(ParameterError, match="cannot be combined"):
        check_layout("dota", root, [".", "train"])


def test_single_split_folder(tmp_path):
    split = make_tree(tmp_path / "train", ["images/P1.png", "labelTxt/P1.txt"])
    report = check_layout("dota", split)
    assert report.ok and report.single_split and "PATH is one split folder" in report.render()
    assert check_layout("dota", split, ["."]).ok
    tiles = make_tree(tmp_path / "tiles", ["images/P1__1024__0___0.png", "annfiles/P1__1024__0___0.txt"])
    assert check_layout("dota", tiles).ok
    year = make_tree(tmp_path / "VOC2012", ["Annotations/a.xml", "ImageSets/Main/train.txt"])
    assert check_layout("voc", year).single_split and check_layout("voc", year).ok
    loose = make_tree(tmp_path / "loose", ["labelTxt/P1.txt", "P1.png"])
    r = check_layout("dota", loose)
    assert not r.ok and "move the image files of PATH into images/" in r.render()
    # a root with split folders is never taken as one split, even with stray top-level folders
    root = make_tree(tmp_path / "root", GOOD["dota"] + ["images/x.png"])
    assert not check_layout("dota", root).single_split


def test_bad_arguments(tmp_path):
    with pytest.raises(ParameterError, match="unknown layout 'cocoa'; known layouts: coco, ultralytics-coco"):
        check_layout("cocoa", tmp_path)
    with pytest.raises(InputFileError, match="does not exist"):
        check_layout("coco", tmp_path / "nope")
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(InputFileError, match="is a file, not a folder"):
        check_layout("coco", f)


def test_cli(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["check-layout", "--list"])
    assert res.exit_code == 0 and [ln.split()[0] for ln in res.output.splitlines()] == list(LAYOUT_NAMES)
    root = make_tree(tmp_path / "d", GOOD["dota"])
    res = runner.invoke(cli, ["check-layout", "dota", str(root), "--splits", "train,val"])
    assert res.exit_code == 0 and "(splits: train, val)" in res.output
    res = runner.invoke(cli, ["check-layout", "dota", str(root), "--splits", "test,extra"])
    assert res.exit_code == 1 and marked(res.output, "images/*", "✗ missing")
    assert "(splits: test, extra)" in res.output and "extra/" in res.output
    res = runner.invoke(cli, ["check-layout", "dotta", str(root)])
    assert res.exit_code == 2 and "error: unknown layout 'dotta'" in res.output
    res = runner.invoke(cli, ["check-layout", "dota", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = runner.invoke(cli, ["check-layout", "dota"])
    assert res.exit_code == 2 and "give a layout NAME and a dataset PATH" in res.output


# --------------------------------------------------------------------------- the DOTA tools


def test_coco_from_dota_reports_the_layout(tmp_path):
    from converters.dota import dota_to_coco

    root = make_tree(tmp_path / "DOTA", GOOD["dota"])
    with pytest.raises(LayoutError, match="is a DOTA root: pass one split folder") as exc:
        dota_to_coco(root)
    assert "train/" in exc.value.report
    deep = make_tree(tmp_path / "deep", ["images/P1.png", "labelTxt-v1.0/labelTxt/P1.txt"])
    with pytest.raises(LayoutError) as exc:
        dota_to_coco(deep)
    assert "the label zip was unzipped one level too deep" in exc.value.report
    no_images = make_tree(tmp_path / "noimg", ["labelTxt/P1.txt"])
    with pytest.raises(LayoutError) as exc:
        dota_to_coco(no_images)
    assert "✗ missing" in line_of(exc.value.report, "images/*")
    res = CliRunner().invoke(cli, ["coco-from-dota", str(deep)])
    assert res.exit_code == 1 and "unzipped one level too deep" in res.output


def test_dota_split_explains_a_root(tmp_path):
    from dataprep.dota_split import split_dota

    root = make_tree(tmp_path / "DOTA", GOOD["dota"])
    with pytest.raises(InputFileError, match="has no images/ folder") as exc:
        split_dota([root], tmp_path / "out")
    assert "What the folder holds (dota layout)" in str(exc.value) and "✓ 1 file" in str(exc.value)


# --------------------------------------------------------------------------- real data


@pytest.mark.parametrize("name,sample,splits", [
    ("cityscapes", "cityscapes-sample", None),
    ("widerface", "widerface-sample", ["val"]),
    ("widerface", "widerface-sample/datumaro-widerface-txt-mini", None),
    ("ultralytics-coco", "yolo-sample/coco", ["train2017"]),
    ("ultralytics-coco", "yolo-sample/coco-segments", ["train2017"]),
    ("dota", "dota-sample", None),
])
def test_real_shared_trees_pass(name, sample, splits):
    root = _shared(sample)
    report = check_layout(name, root, splits)
    assert report.ok, report.render()
    assert "✓" in report.render()


def test_real_widerface_counts():
    root = _shared("widerface-sample")
    text = check_layout("widerface", root, ["val"]).render()
    assert "✓ 3,226 files" in line_of(text, "Annotations/*.xml")
    whole = check_layout("widerface", root).render()  # no train split in the sample
    assert "result: NOT OK" in whole and "no trace of train here; to check only the split(s) present: --splits val" in whole
