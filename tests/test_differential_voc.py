"""PASCAL VOC evaluation (``--protocol voc07|voc12``) against the plain-numpy ``voc_eval`` reference (``vocref``).

* 60 seeded ``vocgen`` scenes written as a VOCdevkit tree + comp4 files: every per-class AP of
  ``evaluate(protocol="voc07")`` / ``"voc12"`` equals ``voc_eval(use_07_metric=True / False)`` to 1e-12, at
  IoU 0.5, at (0.5, 0.75) and at 0.50:0.05:0.95; classes without non-difficult GT (npos = 0: the reference
  gives 0.0 / NaN there, with a divide warning) are reported undefined (-1, ``no_gt``) and left out of the mAP; the mAP is the
  mean over the classes with GT; counts (npos, ignored, detections) agree.
* The same scenes converted with ``coco-from-voc`` (with and without ``--keep-difficult``) and their
  detections as COCO results (file or list, classes in another order) give the very same numbers (==),
  and so do the mixed inputs (JSON GT + comp4 files, folder GT + COCO results).
* The scenes contain what the issue asks for: difficult flags, a class whose GT is all difficult, classes
  with detections but no GT, images without GT, duplicated GT boxes, 1-pixel-wide GT, tied scores, exact
  duplicate detections, zero-width detections and detections whose devkit IoU is exactly 0.5 or 0.75.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest

import vocgen
import vocref
from converters.voc import VocConvertOptions, convert_voc
from evaluators import evaluate
from evaluators.data.voc import VOC_CLASSES

N_SCENES = 60
CHUNK = 10
TOL = 1e-12
COCO_THRS = tuple(np.linspace(0.5, 0.95, 10).tolist())
THRESHOLD_SETS = [(0.5,), (0.5, 0.75), (0.5,), COCO_THRS]
JSON_SEEDS = range(1, N_SCENES, 10)


@functools.lru_cache(maxsize=None)
def _scene(seed: int):
    return vocgen.make_scene(seed)


def _thresholds(seed: int):
    return THRESHOLD_SETS[seed % len(THRESHOLD_SETS)]


def _write(root: Path, seed: int):
    images, dets = _scene(seed)
    base = vocgen.write_vocdevkit(root / "VOCdevkit", images)
    vocgen.write_comp4(root / "det", dets)
    return base, images, dets


class Reference:
    """voc_eval per (class, threshold), rec/prec computed once for both AP rules."""

    def __init__(self, images, dets):
        self.recs = vocgen.recs(images)
        self.dets = dets
        self.cache = {}

    def ap(self, cls: str, thr: float, use_07: bool) -> float:
        key = (cls, thr)
        if key not in self.cache:
            self.cache[key] = vocref.voc_eval(self.recs, vocgen.ref_dets(self.dets, cls), cls, thr, True)
        rec, prec, ap07 = self.cache[key]
        if use_07:
            return ap07
        with np.errstate(invalid="ignore"):
            return float(vocref.voc_ap(rec, prec, False))

    def counts(self, cls: str):
        objs = [o for lst in self.recs.values() for o in lst if o["name"] == cls]
        npos = sum(1 for o in objs if not o["difficult"])
        return npos, len(objs) - npos, len(self.dets.get(cls, []))


def _check(res, ref: Reference, thresholds, use_07: bool, label: str) -> list:
    """Mismatches between one result and the reference (empty: all equal)."""
    bad = []
    rows = res.per_class_rows
    if [r["name"] for r in rows] != list(VOC_CLASSES):
        return [(label, "class order", [r["name"] for r in rows])]
    per_thr = {t: [] for t in thresholds}
    for row in rows:
        cls = row["name"]
        npos, ignored, n_dets = ref.counts(cls)
        if (row["n_gt"], row["n_ignored"], row["n_dets"]) != (npos, ignored, n_dets):
            bad.append((label, cls, "counts", row, (npos, ignored, n_dets)))
        aps = [ref.ap(cls, t, use_07) for t in thresholds]
        if npos == 0:
            if not (row["no_gt"] and row["AP"] == -1.0):
                bad.append((label, cls, "no-GT class", row))
            # voc_eval divides by npos = 0: 11-point AP 0, area AP NaN (0 when there are no detections either)
            if not all((a == 0.0) if use_07 or not n_dets else math.isnan(a) for a in aps):
                bad.append((label, cls, "reference on a no-GT class", aps))
            continue
        for t, a in zip(thresholds, aps):
            per_thr[t].append(a)
            got = row[f"AP{round(t * 100, 6):g}"] if len(thresholds) > 1 else row["AP"]
            if row["no_gt"] or not abs(got - a) <= TOL:
                bad.append((label, cls, t, got, a))
        if not abs(row["AP"] - sum(aps) / len(aps)) <= TOL:
            bad.append((label, cls, "mean AP", row["AP"], aps))
    maps = [sum(v) / len(v) for v in per_thr.values() if v]
    if maps and not abs(res.stats["mAP"] - sum(maps) / len(maps)) <= TOL:
        bad.append((label, "mAP", res.stats["mAP"], maps))
    for t, m in zip(thresholds, maps):
        if not abs(res.stats[f"AP{round(t * 100, 6):g}"] - m) <= TOL:
            bad.append((label, f"AP{t}", res.stats, m))
    return bad


def _numbers(res):
    return (res.stats, [tuple(sorted(r.items())) for r in res.per_class_rows])


def test_scenes_cover_the_interesting_cases():
    """The seeds below contain every situation the generator can make (generation only)."""
    seen = set()
    for seed in range(N_SCENES):
        seen.update(k for k, v in vocgen.scene_features(*_scene(seed)).items() if v)
    assert seen == {"difficult", "difficult_only_class", "det_only_class", "empty_image", "duplicate_gt",
                    "one_pixel_gt", "tied_scores", "zero_width_det"}


def test_generated_exact_threshold_ious():
    """The scenes really hold detections whose devkit IoU is exactly 0.5 and 0.75 (and IoU 1 copies)."""
    found = set()
    for seed in range(N_SCENES):
        images, dets = _scene(seed)
        gt = {(im[0], o[0]): [] for im in images for o in im[3]}
        for name, _, _, objs in images:
            for o in objs:
                gt[(name, o[0])].append(o[1:5])
        for cls, lst in dets.items():
            for name, _, box in lst:
                for g in gt.get((name, cls), []):
                    d = vocgen.corners(box)
                    iw = max(min(g[2], d[2]) - max(g[0], d[0]) + 1.0, 0.0)
                    ih = max(min(g[3], d[3]) - max(g[1], d[1]) + 1.0, 0.0)
                    u = (d[2] - d[0] + 1.0) * (d[3] - d[1] + 1.0) + (g[2] - g[0] + 1.0) * (g[3] - g[1] + 1.0) - iw * ih
                    if u > 0 and iw * ih / u in (0.5, 0.75, 1.0):
                        found.add(iw * ih / u)
    assert found == {0.5, 0.75, 1.0}


@pytest.mark.parametrize("device", ["numpy", "cpu"])
@pytest.mark.parametrize("first", range(0, N_SCENES, CHUNK))
def test_folder_and_comp4_match_reference(tmp_path, first, device, one_torch_thread):
    """VOCdevkit folder + comp4 files: per-class AP, counts, no-GT flags and mAP of 10 scenes x voc07/voc12,
    with the engine on numpy arrays and on torch tensors."""
    bad = []
    for seed in range(first, first + CHUNK):
        base, images, dets = _write(tmp_path / str(seed), seed)
        ref = Reference(images, dets)
        thrs = _thresholds(seed)
        for protocol, use_07 in (("voc07", True), ("voc12", False)):
            res = evaluate(str(base), str(tmp_path / str(seed) / "det"), protocol=protocol, imageset="test",
                           iou_thrs=list(thrs), device=device)
            bad += _check(res, ref, thrs, use_07, f"seed {seed} {protocol}")
    assert not bad, bad[:10]


@pytest.mark.parametrize("seed", JSON_SEEDS)
def test_coco_json_and_results_give_identical_numbers(tmp_path, seed, one_torch_thread):
    """coco-from-voc JSON (with / without --keep-difficult) and COCO results == folder + comp4 == reference."""
    base, images, dets = _write(tmp_path, seed)
    out = tmp_path / "ann"
    keep = seed % 2 == 1
    convert_voc(tmp_path / "VOCdevkit", out, VocConvertOptions(splits=("test",), keep_difficult=keep))
    gt_json = out / "voc07_test.json"
    results = vocgen.coco_results(images, dets)
    (tmp_path / "results.json").write_text(json.dumps(results))
    thrs = _thresholds(seed)
    ref = Reference(images, dets)
    for protocol, use_07 in (("voc07", True), ("voc12", False)):
        run = lambda gt, preds, **kw: evaluate(gt, preds, protocol=protocol, iou_thrs=list(thrs),  # noqa: E731
                                               device=["numpy", "cpu"][seed % 2], **kw)
        folder = run(str(base), str(tmp_path / "det"), imageset="test")
        assert not _check(folder, ref, thrs, use_07, f"seed {seed} {protocol}")
        combos = {
            "json gt + results file": run(str(gt_json), str(tmp_path / "results.json")),
            "json gt + results list": run(json.loads(gt_json.read_text()), results),
            "json gt + comp4": run(str(gt_json), str(tmp_path / "det")),
            "folder gt + results list": run(str(base), results, imageset="test"),
        }
        for label, res in combos.items():
            assert _numbers(res) == _numbers(folder), (seed, protocol, label)


def test_multiple_thresholds_keys(tmp_path, one_torch_thread):
    """Stats hold mAP and one AP<t> per threshold; mAP is their mean; rows hold AP and AP<t>."""
    base, images, dets = _write(tmp_path, 3)
    res = evaluate(str(base), str(tmp_path / "det"), protocol="voc12", imageset="test", iou_thrs=[0.5, 0.75],
                   device="cpu")
    assert list(res.stats) == ["mAP", "AP50", "AP75"]
    assert res.stats["mAP"] == pytest.approx((res.stats["AP50"] + res.stats["AP75"]) / 2, abs=1e-15)
    assert res.stats["AP50"] >= res.stats["AP75"]
    assert {"AP", "AP50", "AP75", "n_gt", "n_ignored", "n_dets", "no_gt"} <= set(res.per_class_rows[0])
    one = evaluate(str(base), str(tmp_path / "det"), protocol="voc12", imageset="test", device="cpu")
    assert list(one.stats) == ["mAP", "AP50"] and one.stats["mAP"] == one.stats["AP50"] == res.stats["AP50"]
