"""Rotated (DOTA Task1) evaluation against the plain-Python devkit reference (``dotaref``).

* 100 seeded ``dotagen`` scenes, written as labelTxt + Task1 folders: every per-class AP of
  ``evaluate(metric="rotated")`` equals ``voc_eval_ref`` to 1e-12 for dota-v1.0 (difficult
  ignored) and dota-v1.5 (difficult counted), 11-point and area AP; the mAP is the plain mean
  over the requested classes; classes without counted GT report AP 0.0 and ``no_gt``.
* The same scenes given as a COCO-style GT JSON and / or a results JSON list give the very same
  numbers as the folders; ``rbox`` records equal the polygons they describe.
* The devkit numbers stored in ``shared/data/dota-sample/reference_outputs/reference_numbers.json``
  (skipped when the shared data is absent).
* mmrotate rules on hand-made cases: IoU >= t (an exact 0.5 matches, where the devkit's > 0.5
  does not), difficult GT counted, mean over the classes with GT only, GT rectangles with a side
  under 2 px dropped.
"""
from __future__ import annotations

import functools
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

import dotagen
from dotagen import CLASSES, make_scene, scene_features
from dotaref import polyiou_ref, voc_ap_ref, voc_eval_ref
from evaluators import evaluate

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "dota-sample"
REF_OUT = SAMPLE / "reference_outputs"
DET_DIR = REF_OUT / "detections"
needs_sample = pytest.mark.skipif(not (REF_OUT / "reference_numbers.json").is_file(),
                                  reason="shared/data/dota-sample not available")

SCENE_CLASSES = list(CLASSES[:5])
N_SCENES = 100
CHUNK = 10
JSON_SEEDS = range(3, N_SCENES, 10)  # 10 scenes also go through the JSON loaders
VARIANTS = [("dota-v1.0", "11points", False, True), ("dota-v1.0", "area", False, False),
            ("dota-v1.5", "11points", True, True), ("dota-v1.5", "area", True, False)]
TOL = 1e-12
WORKERS = 1  # the scenes are small: one thread is fastest (results do not depend on it)
DEVICES = ("numpy", "cpu")  # the engine on numpy arrays and on torch tensors


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _scene(seed: int):
    """``make_scene(seed)``, generated once per test session."""
    return make_scene(seed)


def _write_scene(root: Path, seed: int):
    """Scene ``seed`` as labelTxt/ + imageset.txt + det/ under ``root`` -> (gt, dets)."""
    gt, dets = _scene(seed)
    dotagen.write_label_folder(gt, root / "labelTxt", seed=seed)
    dotagen.write_imageset(gt, root / "imageset.txt")
    dotagen.write_task1_folder(dets, root / "det", CLASSES)
    return gt, dets


def _imageset_arg(root: Path, gt, seed: int):
    """Vary how the image list reaches ``evaluate``: a file, a list of names, or none (every label file)."""
    return [str(root / "imageset.txt"), list(gt), None][seed % 3]


def _npos(gt, cls: str, count_difficult: bool) -> int:
    return sum(1 for objs in gt.values() for _, c, d in objs if c == cls and (count_difficult or d == 0))


def _n_objects(gt, cls: str) -> int:
    return sum(1 for objs in gt.values() for _, c, _ in objs if c == cls)


def _ref_ap(gt, cls_dets, cls, count_difficult: bool, use_07: bool, cache: dict = None) -> float:
    """``voc_eval_ref(...)[2]``; with ``cache``, one matching pass serves both AP rules (same rec / prec)."""
    if cache is None or not cls_dets:
        return voc_eval_ref(gt, cls_dets, cls, 0.5, use_07, count_difficult)[2]
    key = (cls, count_difficult)
    if key not in cache:
        cache[key] = voc_eval_ref(gt, cls_dets, cls, 0.5, True, count_difficult)
    rec, prec, ap07 = cache[key]
    return ap07 if use_07 else voc_ap_ref(rec, prec, False)


def _check_against_ref(res, gt, dets, classes, count_difficult: bool, use_07: bool, label: str,
                       cache: dict = None) -> list:
    """Mismatches between one evaluation result and voc_eval_ref (empty list: all equal)."""
    bad = []
    rows = res.per_class_rows
    if [r["name"] for r in rows] != list(classes):
        return [(label, "class order", [r["name"] for r in rows])]
    for row, cls in zip(rows, classes):
        cls_dets = dets.get(cls, [])
        ap_ref = _ref_ap(gt, cls_dets, cls, count_difficult, use_07, cache)
        npos = _npos(gt, cls, count_difficult)
        if row["n_gt"] != npos or row["n_dets"] != len(cls_dets) or \
                row["n_ignored"] != _n_objects(gt, cls) - npos:
            bad.append((label, cls, "counts", row, npos, len(cls_dets)))
        if npos == 0:
            if not (row["AP"] == 0.0 and row["no_gt"] is True):
                bad.append((label, cls, "no-GT class", row))
            if not (ap_ref == 0.0 or math.isnan(ap_ref)):
                bad.append((label, cls, "reference no-GT value", ap_ref))
        elif row["no_gt"] or not abs(row["AP"] - ap_ref) <= TOL:
            bad.append((label, cls, row["AP"], ap_ref, row["no_gt"]))
    mean = sum(r["AP"] for r in rows) / len(rows)
    if not abs(res.stats["mAP"] - mean) <= TOL:
        bad.append((label, "mAP", res.stats["mAP"], mean))
    return bad


def _ap_tuple(res):
    return (res.stats["mAP"],) + tuple((r["name"], r["AP"], r["n_gt"], r["n_ignored"], r["n_dets"], r["no_gt"])
                                       for r in res.per_class_rows)


def _gt_json(gt, classes, rng):
    """COCO-style GT (DOTA2COCO layout): shuffled category ids, difficulty sometimes omitted when 0."""
    cat_ids = [int(v) for v in rng.permutation(np.arange(1, len(classes) + 1) * 7)]
    cat_of = dict(zip(classes, cat_ids))
    images, anns = [], []
    for k, name in enumerate(gt):
        images.append({"id": 100 + 3 * k, "file_name": f"{name}.png", "width": 4000, "height": 4000})
        for poly, cls, diff in gt[name]:
            ann = {"id": len(anns) + 1, "image_id": 100 + 3 * k, "category_id": cat_of[cls],
                   "segmentation": [[float(v) for v in poly]], "iscrowd": 0}
            if diff != 0 or rng.random() < 0.5:
                ann["difficulty"] = int(diff)
            anns.append(ann)
    cats = [{"id": cat_of[c], "name": c} for c in classes]
    return {"images": images, "annotations": anns, "categories": cats[::-1]}, cat_of


def _results_json(dets, classes, gt_json=None, cat_of=None):
    """Result records in a class order other than the files' (order within a class kept)."""
    img_id = {Path(im["file_name"]).stem: im["id"] for im in gt_json["images"]} if gt_json else None
    out = []
    for cls in reversed(classes):
        for name, score, poly in dets.get(cls, []):
            if gt_json is None:
                out.append({"image_name": name, "category": cls, "score": score, "poly": [float(v) for v in poly]})
            else:
                out.append({"image_id": img_id[name], "category_id": cat_of[cls], "score": score,
                            "poly": [float(v) for v in poly]})
    return out


# ----------------------------------------------------------------------------------------
# seeded scenes against voc_eval_ref
# ----------------------------------------------------------------------------------------

def test_scenes_cover_the_interesting_cases():
    """The seeds used below contain every situation the generator can make (cheap: generation only)."""
    seen = set()
    for seed in range(N_SCENES):
        gt, dets = _scene(seed)
        seen.update(k for k, v in scene_features(gt, dets).items() if v)
    assert seen == {"difficult", "det_only_class", "gt_missing_file", "gt_empty_file", "empty_image",
                    "tied_scores"}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("first", range(0, N_SCENES, CHUNK))
def test_folders_match_devkit_reference(tmp_path, first, device):
    """Per-class AP, counts, no_gt flags and mAP of 10 scenes x {v1.0, v1.5} x {11points, area}, on the numpy
    backend and on torch."""
    bad = []
    for seed in range(first, first + CHUNK):
        root = tmp_path / str(seed)
        gt, dets = _write_scene(root, seed)
        cache: dict = {}
        for protocol, mode, count_difficult, use_07 in VARIANTS:
            res = evaluate(str(root / "labelTxt"), str(root / "det"), metric="rotated", protocol=protocol,
                           eval_mode=mode, classes=SCENE_CLASSES, imageset=_imageset_arg(root, gt, seed),
                           device=device, workers=WORKERS)
            bad += _check_against_ref(res, gt, dets, SCENE_CLASSES, count_difficult, use_07,
                                      f"seed {seed} {protocol} {mode}", cache)
    assert not bad, bad[:10]


@pytest.mark.parametrize("seed", JSON_SEEDS)
def test_json_inputs_give_identical_numbers(tmp_path, seed):
    """COCO-style GT JSON and results JSON (file or in-memory list) == the labelTxt / Task1 folders."""
    root = tmp_path / "scene"
    gt, dets = _write_scene(root, seed)
    rng = np.random.default_rng([seed, 0x15])
    gt_json, cat_of = _gt_json(gt, SCENE_CLASSES, rng)
    (root / "gt.json").write_text(json.dumps(gt_json))
    by_name = _results_json(dets, SCENE_CLASSES)
    (root / "preds.json").write_text(json.dumps(by_name))
    by_id = _results_json(dets, SCENE_CLASSES, gt_json, cat_of)
    label_dir, det_dir = str(root / "labelTxt"), str(root / "det")
    combos = {
        "json preds file": (label_dir, str(root / "preds.json")),
        "json preds list": (label_dir, by_name),
        "json gt": (str(root / "gt.json"), det_dir),
        "json gt + json preds": (str(root / "gt.json"), str(root / "preds.json")),
        "json gt dict + id records": (gt_json, by_id),
    }
    protocol, mode, count_difficult, use_07 = VARIANTS[(seed // 10) % len(VARIANTS)]  # each variant in turn
    kw = dict(metric="rotated", protocol=protocol, eval_mode=mode, classes=SCENE_CLASSES, device="cpu", workers=WORKERS)
    want = evaluate(label_dir, det_dir, **kw)
    assert not _check_against_ref(want, gt, dets, SCENE_CLASSES, count_difficult, use_07, "folders")
    for label, (g, p) in combos.items():
        got = evaluate(g, p, **kw)
        assert _ap_tuple(got) == _ap_tuple(want), (label, protocol, mode)


def test_results_json_with_rboxes_equals_polys(tmp_path):
    """``rbox`` + angle_version records give the numbers of the polygons they describe (rectangles)."""
    gt = {"img": [([0.0, 0.0, 60.0, 0.0, 60.0, 20.0, 0.0, 20.0], "ship", 0),
                  ([200.0, 200.0, 240.0, 200.0, 240.0, 300.0, 200.0, 300.0], "ship", 0)]}
    dotagen.write_label_folder(gt, tmp_path / "labelTxt")
    rboxes = [[31.0, 10.0, 60.0, 20.0, 0.0], [220.0, 250.0, 100.0, 40.0, -math.pi / 2], [500.0, 500.0, 10.0, 5.0, 0.3]]
    recs = [{"image_name": "img", "category": "ship", "score": s, "rbox": b, "angle_version": "le90"}
            for s, b in zip((0.9, 0.8, 0.7), rboxes)]
    polys = [list(dotagen.rect_poly(b[0], b[1], b[2], b[3], b[4])) for b in rboxes]
    as_poly = [{"image_name": "img", "category": "ship", "score": r["score"], "poly": p} for r, p in zip(recs, polys)]
    for mode in ("11points", "area"):
        a = evaluate(str(tmp_path / "labelTxt"), recs, metric="rotated", eval_mode=mode, classes=["ship"], device="cpu")
        b = evaluate(str(tmp_path / "labelTxt"), as_poly, metric="rotated", eval_mode=mode, classes=["ship"],
                     device="cpu")
        ref = voc_eval_ref(gt, [("img", r["score"], p) for r, p in zip(recs, polys)], "ship", 0.5, mode == "11points")
        assert a.stats["mAP"] == pytest.approx(b.stats["mAP"], abs=1e-12)
        assert a.stats["mAP"] == pytest.approx(ref[2], abs=1e-12)
        assert a.per_class_rows[0]["AP"] > 0.5


# ----------------------------------------------------------------------------------------
# devkit numbers stored with the shared sample
# ----------------------------------------------------------------------------------------

def _variant_args(variant: str):
    protocol = "dota-v1.5" if variant.startswith("v1.5") else "dota-v1.0"
    return protocol, ("11points" if variant.endswith("True") else "area")


def _check_block(label_dir: Path, det_dir: Path, imageset: Path, results: dict, classes):
    bad = []
    for (variant, per_class), device in itertools.product(results.items(), DEVICES):
        protocol, mode = _variant_args(variant)
        res = evaluate(str(label_dir), str(det_dir), metric="rotated", protocol=protocol, eval_mode=mode,
                       classes=classes, imageset=str(imageset), device=device)
        rows = {r["name"]: r for r in res.per_class_rows}
        for cls in classes:
            want = per_class[cls]
            row = rows[cls]
            if want is None or (want == 0.0 and row["no_gt"]):
                ok = row["AP"] == 0.0 and row["no_gt"]
            else:
                ok = abs(row["AP"] - want) <= 1e-9 and not row["no_gt"]
            if not ok:
                bad.append((variant, device, cls, row, want))
        mean = sum(0.0 if per_class[c] is None else per_class[c] for c in classes) / len(classes)
        if not abs(res.stats["mAP"] - mean) <= 1e-9:
            bad.append((variant, device, "mAP", res.stats["mAP"], mean))
    assert not bad, bad


@needs_sample
def test_reference_numbers_eval_example_stable_ties():
    block = json.loads((REF_OUT / "reference_numbers.json").read_text())["real_detections_eval_example"]
    ex = SAMPLE / "eval_example"
    _check_block(ex / "labelTxt", ex / "Task1_results", ex / "imgnamefile.txt", block["tie_order_stable"],
                 block["classes"])


@needs_sample
@pytest.mark.parametrize("key,folder", [("perturbed_full_5images", "perturbed_full"),
                                        ("merged_devkit_5images", "merged_devkit")])
def test_reference_numbers_5images(key, folder):
    block = json.loads((REF_OUT / "reference_numbers.json").read_text())[key]
    _check_block(SAMPLE / "labelTxt", DET_DIR / folder, DET_DIR / "imageset_5images.txt", block["results"],
                 block["classes"])


@needs_sample
def test_reference_numbers_after_our_merge(tmp_path):
    """Our merge of the mmrotate-named tiles, evaluated, reproduces the merged_devkit_5images numbers."""
    from dataprep.dota_merge import merge_folder

    block = json.loads((REF_OUT / "reference_numbers.json").read_text())["merged_devkit_5images"]
    merge_folder(DET_DIR / "perturbed_tiles", tmp_path / "merged", classes=(), make_zip=False)
    _check_block(SAMPLE / "labelTxt", tmp_path / "merged", DET_DIR / "imageset_5images.txt", block["results"],
                 block["classes"])


# ----------------------------------------------------------------------------------------
# mmrotate rules on hand-made cases
# ----------------------------------------------------------------------------------------

def _vertex_orders(poly):
    """The 8 vertex orders of a quadrilateral (4 start vertices x 2 orientations)."""
    pts = np.asarray(poly, np.float64).reshape(4, 2)
    for start, rev in itertools.product(range(4), (False, True)):
        q = np.roll(pts, -start, 0)
        yield (q[::-1] if rev else q).reshape(8)


def _label_line(poly, cls, diff):
    return " ".join(str(int(v)) for v in poly) + f" {cls} {diff}"


def _task1_line(img, score, poly):
    return f"{img} {score} " + " ".join(str(int(v)) for v in poly)


def _run_all(tmp_path, labels: dict, task1: dict, classes):
    (tmp_path / "gt").mkdir()
    (tmp_path / "det").mkdir()
    for img, lines in labels.items():
        (tmp_path / "gt" / f"{img}.txt").write_text("".join(ln + "\n" for ln in lines))
    for cls, lines in task1.items():
        (tmp_path / "det" / f"Task1_{cls}.txt").write_text("".join(ln + "\n" for ln in lines))
    out = {}
    for protocol in ("dota-v1.0", "dota-v1.5", "mmrotate"):
        for mode in ("11points", "area"):
            got = [evaluate(str(tmp_path / "gt"), str(tmp_path / "det"), metric="rotated", protocol=protocol,
                            eval_mode=mode, classes=classes, device=device) for device in DEVICES]
            assert len({_ap_tuple(r) for r in got}) == 1, [_ap_tuple(r) for r in got]  # numpy == torch
            out[protocol, mode] = got[0]
    return out


def _ap(res, cls):
    return next(r for r in res.per_class_rows if r["name"] == cls)


def test_mmrotate_matches_at_exactly_half_where_devkit_does_not(tmp_path):
    gt_box, det_box = dotagen.int_box(0, 0, 6, 4), dotagen.int_box(-2, 0, 6, 4)  # shift by a third: IoU 1/2
    half_gt, half_det = dotagen.int_box(0, 0, 6, 4), dotagen.int_box(0, 0, 6, 2)  # half inside: IoU 1/2
    # the devkit's polyiou lands on exactly 0.5 whatever the vertex order or argument order (so the
    # minimum-area rectangles of mmrotate, whatever order they come in, give 0.5 too)
    for a, b in ((gt_box, det_box), (half_gt, half_det)):
        values = {polyiou_ref(p, q) for p in _vertex_orders(a) for q in _vertex_orders(b)}
        values |= {polyiou_ref(q, p) for p in _vertex_orders(a) for q in _vertex_orders(b)}
        assert values == {0.5}
    labels = {"img": [_label_line(gt_box, "a", 0)], "img2": [_label_line(half_gt, "b", 0)]}
    task1 = {"a": [_task1_line("img", 0.9, det_box)], "b": [_task1_line("img2", 0.8, half_det)]}
    out = _run_all(tmp_path, labels, task1, ["a", "b"])
    for mode in ("11points", "area"):
        for cls in ("a", "b"):
            assert _ap(out["dota-v1.0", mode], cls)["AP"] == 0.0  # 0.5 is not > 0.5
            assert _ap(out["dota-v1.5", mode], cls)["AP"] == 0.0
            assert _ap(out["mmrotate", mode], cls)["AP"] == pytest.approx(1.0, abs=1e-6)  # 0.5 >= 0.5
        assert out["mmrotate", mode].stats["mAP"] == pytest.approx(1.0, abs=1e-6)
        assert out["dota-v1.0", mode].stats["mAP"] == 0.0
    # and the devkit reference agrees on the v1.0 side
    gt = {"img": [([float(v) for v in gt_box], "a", 0)]}
    assert voc_eval_ref(gt, [("img", 0.9, [float(v) for v in det_box])], "a")[2] == 0.0


def test_mmrotate_counts_difficult_and_averages_classes_with_gt_only(tmp_path):
    a1, a2 = dotagen.int_box(0, 0, 30, 20), dotagen.int_box(100, 100, 30, 20)
    c_box = dotagen.int_box(300, 300, 40, 40)
    labels = {"img": [_label_line(a1, "a", 0), _label_line(a2, "a", 1), _label_line(c_box, "c", 2)]}
    task1 = {"a": [_task1_line("img", 0.9, a1), _task1_line("img", 0.8, a2)],
             "b": [_task1_line("img", 0.7, dotagen.int_box(500, 500, 10, 10))],  # b: detections, no GT
             "c": [_task1_line("img", 0.6, c_box)]}
    out = _run_all(tmp_path, labels, task1, ["a", "b", "c"])
    for mode in ("11points", "area"):
        mm = out["mmrotate", mode]
        a, b, c = (_ap(mm, k) for k in "abc")
        assert (a["n_gt"], a["n_ignored"], c["n_gt"], c["n_ignored"]) == (2, 0, 1, 0)  # difficult counted
        assert a["AP"] == pytest.approx(1.0, abs=1e-6) and c["AP"] == pytest.approx(1.0, abs=1e-6)
        assert b["no_gt"] and b["AP"] == 0.0 and not a["no_gt"] and not c["no_gt"]
        assert mm.stats["mAP"] == pytest.approx(1.0, abs=1e-6)  # mean over a and c only
        v10 = out["dota-v1.0", mode]
        assert (_ap(v10, "a")["n_gt"], _ap(v10, "a")["n_ignored"]) == (1, 1)
        assert _ap(v10, "c")["no_gt"] and _ap(v10, "c")["AP"] == 0.0  # only difficult GT: nothing counted
        assert v10.stats["mAP"] == pytest.approx(1.0 / 3.0, abs=1e-12)  # mean over all three requested classes
        v15 = out["dota-v1.5", mode]
        assert v15.stats["mAP"] == pytest.approx(2.0 / 3.0, abs=1e-12)


def test_mmrotate_drops_gt_rectangles_thinner_than_2px(tmp_path):
    thin = dotagen.int_box(0, 0, 40, 1)  # 40 x 1 px: dropped by mmrotate (poly2obb_np), kept by the devkit
    labels = {"img": [_label_line(thin, "a", 0)]}
    task1 = {"a": [_task1_line("img", 0.9, thin)]}
    out = _run_all(tmp_path, labels, task1, ["a"])
    for mode in ("11points", "area"):
        assert _ap(out["mmrotate", mode], "a")["no_gt"] and _ap(out["mmrotate", mode], "a")["n_gt"] == 0
        assert _ap(out["dota-v1.0", mode], "a")["AP"] == pytest.approx(1.0, abs=1e-12)
