"""``evaluate --metric rotated`` and ``dataprep dota-merge`` through click's runner.

Exit codes: 0 success, 1 bad input (one ``error: ...`` line on stderr naming the file and line),
2 usage error (options that do not apply to the metric).
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import dotagen
from dataprep.cli import cli
from dotagen import CLASSES, make_scene
from evaluators import evaluate
from evaluators.cli import evaluate_command
from evaluators.data.dota import DOTA_V1_CLASSES

SCENE_CLASSES = list(CLASSES[:5])


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always separates stderr
        return CliRunner()


def _scene(root: Path, seed: int = 4):
    gt, dets = make_scene(seed)
    dotagen.write_label_folder(gt, root / "labelTxt", seed=seed)
    dotagen.write_imageset(gt, root / "imageset.txt")
    dotagen.write_task1_folder(dets, root / "det", CLASSES)
    return gt, dets


def _eval(args):
    return _runner().invoke(evaluate_command, [str(a) for a in args])


def _rotated_args(root: Path, *extra):
    return [root / "det", "--gt", root / "labelTxt", "--metric", "rotated", "--classes", ",".join(SCENE_CLASSES),
            "--device", "cpu", *extra]


def _one_error_line(res) -> str:
    """The single 'error: ...' line of a failed run (exit 1, nothing else on stderr with -q)."""
    assert res.exit_code == 1, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert res.stdout == ""
    return lines[0]


def _append_line(path: Path, line: str) -> int:
    """Append ``line`` to a text file; return its 1-based line number."""
    text = path.read_text()
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n")
    return text.count("\n") + 1


def _first_image(gt) -> str:
    return next(iter(gt))


# ----------------------------------------------------------------------------------------
# evaluate --metric rotated
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol,mode", [("dota-v1.0", "11points"), ("dota-v1.5", "area"), ("mmrotate", "11points")])
def test_rotated_summary_and_json_equal_library(tmp_path, protocol, mode):
    _scene(tmp_path)
    out = tmp_path / "res" / "rotated.json"
    res = _eval(_rotated_args(tmp_path, "--protocol", protocol, "--eval-mode", mode, "--imageset",
                              tmp_path / "imageset.txt", "-o", out))
    assert res.exit_code == 0, (res.stdout, res.stderr)
    lib = evaluate(str(tmp_path / "labelTxt"), str(tmp_path / "det"), metric="rotated", protocol=protocol,
                   eval_mode=mode, classes=SCENE_CLASSES, imageset=str(tmp_path / "imageset.txt"), device="cpu")
    assert res.stdout.splitlines() == lib.summary().splitlines()
    m = re.search(r"^\s+mAP\s+(\d\.\d{4})$", res.stdout, re.M)
    assert m and m.group(1) == f"{lib.stats['mAP']:.4f}"
    assert res.stdout.splitlines()[0].startswith(f"DOTA Task1, {protocol} rules")
    assert "[evaluate] done:" in res.stderr
    data = json.loads(out.read_text())
    want = lib.to_dict()
    assert data["stats"] == want["stats"] == {"mAP": lib.stats["mAP"]}
    assert data["per_class"] == want["per_class"]
    assert [r["name"] for r in data["per_class"]] == SCENE_CLASSES
    assert (data["metric"], data["protocol"], data["params"]) == ("rotated", protocol, want["params"])
    assert not list(out.parent.glob(".*.tmp"))


def test_rotated_numpy_device_prints_the_same_summary(tmp_path):
    """--device numpy (the engine on numpy arrays, no torch import) prints what the torch backend prints."""
    _scene(tmp_path)
    res = _eval(_rotated_args(tmp_path, "--device", "numpy"))  # the last --device wins
    assert res.exit_code == 0, (res.stdout, res.stderr)
    lib = evaluate(str(tmp_path / "labelTxt"), str(tmp_path / "det"), metric="rotated", classes=SCENE_CLASSES,
                   device="cpu")
    assert res.stdout.splitlines() == lib.summary().splitlines()
    assert "device numpy" in res.stderr


def test_rotated_quiet_defaults(tmp_path):
    """-q: nothing on stderr; default protocol dota-v1.0 with 11 points; iou-thr passes through."""
    _scene(tmp_path)
    res = _eval(_rotated_args(tmp_path, "-q", "--iou-thr", "0.3"))
    assert res.exit_code == 0 and res.stderr == ""
    lib = evaluate(str(tmp_path / "labelTxt"), str(tmp_path / "det"), metric="rotated", classes=SCENE_CLASSES,
                   iou_thr=0.3, device="cpu")
    assert res.stdout.splitlines() == lib.summary().splitlines()
    assert "polygon IoU > 0.3" in res.stdout and "11-point AP" in res.stdout


def test_unknown_image_in_task1_file(tmp_path):
    _scene(tmp_path)
    path = tmp_path / "det" / "Task1_plane.txt"
    line = _append_line(path, "P9999_nope 0.5 0 0 10 0 10 10 0 10")
    msg = _one_error_line(_eval(_rotated_args(tmp_path, "-q")))
    assert f"{path}, line {line}" in msg and "P9999_nope" in msg


@pytest.mark.parametrize("rest, needle", [("0.5 0 0 10 0 10 10 0", "9 tokens"), ("nan 0 0 10 0 10 10 0 10", "NaN")],
                         ids=["too-few-numbers", "nan-score"])
def test_bad_task1_line(tmp_path, rest, needle):
    gt, _ = _scene(tmp_path)
    path = tmp_path / "det" / "Task1_plane.txt"
    line = _append_line(path, f"{_first_image(gt)} {rest}")
    msg = _one_error_line(_eval(_rotated_args(tmp_path, "-q")))
    assert f"{path}, line {line}" in msg and needle in msg


def test_label_line_with_11_tokens(tmp_path):
    gt, _ = _scene(tmp_path)
    path = tmp_path / "labelTxt" / f"{_first_image(gt)}.txt"
    line = _append_line(path, "0 0 10 0 10 10 0 10 plane 0 extra")
    msg = _one_error_line(_eval(_rotated_args(tmp_path, "-q")))
    assert f"{path}, line {line}" in msg and "11 tokens" in msg


def test_missing_label_folder(tmp_path):
    _scene(tmp_path)
    missing = tmp_path / "no_such_labelTxt"
    res = _eval([tmp_path / "det", "--gt", missing, "--metric", "rotated", "-q", "--device", "cpu"])
    assert str(missing) in _one_error_line(res)


def test_imageset_entry_without_label_file(tmp_path):
    _scene(tmp_path)
    _append_line(tmp_path / "imageset.txt", "P7777_ghost")
    res = _eval(_rotated_args(tmp_path, "-q", "--imageset", tmp_path / "imageset.txt"))
    msg = _one_error_line(res)
    assert str(tmp_path / "labelTxt" / "P7777_ghost.txt") in msg and "image set" in msg


def test_empty_and_missing_task1_files_mean_no_detections(tmp_path):
    gt, dets = _scene(tmp_path)
    (tmp_path / "det" / "Task1_plane.txt").write_text("")      # empty file
    (tmp_path / "det" / "Task1_ship.txt").unlink(missing_ok=True)  # no file at all
    out = tmp_path / "r.json"
    res = _eval(_rotated_args(tmp_path, "-q", "-o", out))
    assert res.exit_code == 0, res.stderr
    rows = {r["name"]: r for r in json.loads(out.read_text())["per_class"]}
    for cls in ("plane", "ship"):
        assert rows[cls]["n_dets"] == 0
        assert rows[cls]["AP"] == 0.0
    # the same as leaving those classes' detections out
    kept = {c: v for c, v in dets.items() if c not in ("plane", "ship")}
    dotagen.write_task1_folder(kept, tmp_path / "det2", CLASSES)
    lib = evaluate(str(tmp_path / "labelTxt"), str(tmp_path / "det2"), metric="rotated", classes=SCENE_CLASSES,
                   device="cpu")
    assert json.loads(out.read_text())["stats"]["mAP"] == lib.stats["mAP"]


@pytest.mark.parametrize("args,needle", [
    (["--metric", "rotated", "--max-dets", "1,10,100"], "--max-dets"),
    (["--metric", "rotated", "--iou-thrs", "0.5"], "--iou-thrs"),
    (["--metric", "rotated", "--protocol", "coco"], "--protocol"),
    (["--protocol", "mmrotate"], "--metric rotated"),
    (["--metric", "bbox", "--protocol", "dota-v1.0"], "--metric rotated"),
])
def test_usage_errors(tmp_path, args, needle):
    _scene(tmp_path)
    res = _eval([tmp_path / "det", "--gt", tmp_path / "labelTxt", "--device", "cpu", *args])
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    assert needle in res.stderr


def test_evaluate_through_dataprep_group(tmp_path):
    _scene(tmp_path)
    res = _runner().invoke(cli, ["evaluate"] + [str(a) for a in _rotated_args(tmp_path, "-q")])
    assert res.exit_code == 0, res.stderr
    assert re.search(r"^\s+mAP\s+\d\.\d{4}$", res.stdout, re.M)


# ----------------------------------------------------------------------------------------
# dataprep dota-merge
# ----------------------------------------------------------------------------------------

TILE_LINES = {
    "ship": ["P0001__1024__0___0 0.9 100 100 140 100 140 120 100 120",
             "P0001__1024__824___0 0.8 -722 101 -682 101 -682 121 -722 121",  # same ship, other window
             "P0001__1024__824___0 0.7 300 300 340 300 340 330 300 330",
             "P0002__1__0___824 0.6 10 10 30 10 30 30 10 30"],
    "plane": ["P0002__0.5__0___0 0.95 50 50 90 50 90 90 50 90"],
}


def _write_tile_folder(folder: Path, lines=TILE_LINES):
    folder.mkdir(parents=True, exist_ok=True)
    for cls, rows in lines.items():
        (folder / f"Task1_{cls}.txt").write_text("".join(r + "\n" for r in rows))


def _merge(args):
    return _runner().invoke(cli, ["dota-merge"] + [str(a) for a in args])


def test_dota_merge_output_and_zip(tmp_path):
    _write_tile_folder(tmp_path / "tiles")
    out = tmp_path / "merged"
    res = _merge([tmp_path / "tiles", "-o", out, "-q"])
    assert res.exit_code == 0, (res.stdout, res.stderr)
    lines = res.stdout.splitlines()
    assert re.fullmatch(r"merged 5 tile detections from 4 tiles into 4 detections on 2 images \(2 classes\) in "
                        r"\d+\.\d\ds", lines[0]), lines[0]
    assert lines[1] == f"wrote {len(DOTA_V1_CLASSES)} files to {out} and {tmp_path / 'merged.zip'}"
    assert (out / "Task1_ship.txt").read_text().splitlines() == [
        "P0001 0.9 100.0 100.0 140.0 100.0 140.0 120.0 100.0 120.0",
        "P0001 0.7 1124.0 300.0 1164.0 300.0 1164.0 330.0 1124.0 330.0",
        "P0002 0.6 10.0 834.0 30.0 834.0 30.0 854.0 10.0 854.0"]
    assert (out / "Task1_plane.txt").read_text() == "P0002 0.95 100.0 100.0 180.0 100.0 180.0 180.0 100.0 180.0\n"
    assert (out / "Task1_harbor.txt").read_text() == ""
    with zipfile.ZipFile(tmp_path / "merged.zip") as zf:
        assert sorted(zf.namelist()) == sorted(f"Task1_{c}.txt" for c in DOTA_V1_CLASSES)
        assert zf.read("Task1_ship.txt") == (out / "Task1_ship.txt").read_bytes()


@pytest.mark.parametrize("device,needle", [("bogus", "Expected `device` to be auto, cpu, cuda or cuda:<k> but got 'bogus'"),
                                           ("numpy", "use --device cpu (or auto)")])
def test_dota_merge_bad_device_is_one_error_line(tmp_path, device, needle):
    """A device the merge cannot use: exit 1 and one 'error:' line (no traceback), nothing written."""
    _write_tile_folder(tmp_path / "tiles")
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "out", "-q", "--device", device])
    assert needle in _one_error_line(res)
    assert not (tmp_path / "out").exists()
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "out", "-q", "--device", "auto"])
    assert res.exit_code == 0, res.stderr


def test_dota_merge_options(tmp_path):
    _write_tile_folder(tmp_path / "tiles")
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "a", "-q", "--no-zip", "--classes", "none"])
    assert res.exit_code == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["Task1_plane.txt", "Task1_ship.txt"]
    assert not (tmp_path / "a.zip").exists()
    assert res.stdout.splitlines()[1] == f"wrote 2 files to {tmp_path / 'a'}"
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "b", "-q", "--no-zip", "--classes", "ship,bridge,my-class"])
    assert res.exit_code == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "Task1_bridge.txt", "Task1_my-class.txt", "Task1_plane.txt", "Task1_ship.txt"]
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "c", "-q", "--no-zip", "--nms", "rotated", "--nms-iou", "0.1"])
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "c" / "Task1_ship.txt").read_text() == (tmp_path / "a" / "Task1_ship.txt").read_text()
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "d", "-q", "--name-style", "mmrotate", "--no-zip"])
    assert res.exit_code == 0, res.stderr  # P0002__1__... read as a window: shifted only
    assert "P0002 0.95 50.0 50.0 90.0 50.0" in (tmp_path / "d" / "Task1_plane.txt").read_text()


def test_dota_merge_bad_tile_name_and_usage(tmp_path):
    _write_tile_folder(tmp_path / "tiles", {"ship": ["P0001__1024__0___0 0.9 0 0 10 0 10 10 0 10",
                                                     "P0001-tile-3 0.8 0 0 10 0 10 10 0 10"]})
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "out", "-q"])
    msg = _one_error_line(res)
    assert f"{tmp_path / 'tiles' / 'Task1_ship.txt'}, line 2" in msg and "P0001-tile-3" in msg
    res = _merge([tmp_path / "tiles", "-o", tmp_path / "out", "--nms", "hbb"])
    assert res.exit_code == 2
    res = _merge([tmp_path / "missing", "-o", tmp_path / "out"])
    assert res.exit_code == 2
