"""Golden numbers on the 100-image val2014 sample.

The constants below were produced by pycocotools 2.0.11 (COCO + loadRes +
COCOeval with default parameters); the tests also re-run pycocotools live and
compare the full precision / recall / scores arrays.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from _compare import assert_same, run_engine
from reference import DET_KEYS, reference_stats

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GT = os.path.join(ROOT, "evaluators", "samples", "instances_val2014_100.json")
BBOX_RES = os.path.join(ROOT, "evaluators", "samples", "instances_val2014_fakebbox100_results.json")
SEGM_RES = os.path.join(HERE, "data", "instances_val2014_fakesegm100_results.json")
GT_BBOX_AREA = os.path.join(HERE, "data", "sampled_gts_bbox_area.json")

GOLDEN = {
    "bbox": (GT, BBOX_RES, dict(zip(DET_KEYS, [
        0.5045806987249628, 0.6969727247299577, 0.5729816669904824, 0.5856257209410443,
        0.5193996948036719, 0.5013978986347466, 0.38681277964578054, 0.5936795762842003,
        0.595352982877607, 0.6398109626113442, 0.5664205978994309, 0.5642905982905982]))),
    "segm": (GT, SEGM_RES, dict(zip(DET_KEYS, [
        0.3195452758576433, 0.5622883972521636, 0.29892653412086784, 0.3873740315997837,
        0.31018272403369485, 0.3269339071005138, 0.2682297225711534, 0.41544868114906375,
        0.4168394992198818, 0.4694498622754236, 0.37675922666197265, 0.3814715099715099]))),
    "bbox_area_gt": (GT_BBOX_AREA, BBOX_RES, dict(zip(DET_KEYS, [
        0.5036473243630208, 0.6969727247299577, 0.5716670593726122, 0.593252103002719,
        0.5579906676111427, 0.48936321019618756, 0.38681277964578054, 0.5936795762842003,
        0.595352982877607, 0.6547641893777741, 0.6031300236406619, 0.5537444355958507]))),
}
METRIC = {"bbox": "bbox", "segm": "segm", "bbox_area_gt": "bbox"}


def _load(p):
    with open(p) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def live_refs():
    return {name: reference_stats(_load(g), _load(r), METRIC[name]) for name, (g, r, _) in GOLDEN.items()}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_constants_match_pycocotools(name, live_refs):
    """Guards the constants themselves (and the installed pycocotools)."""
    expected = GOLDEN[name][2]
    got = live_refs[name]["stats_dict"]
    bad = {k: (got[k], v) for k, v in expected.items() if not abs(got[k] - v) <= 1e-12}
    assert not bad, f"{name}: pycocotools (live, ref) differ from golden: {bad}"


def _golden_failures(name, res):
    expected = GOLDEN[name][2]
    out = []
    for k, v in expected.items():
        o = res.stats.get(k) if isinstance(res.stats, dict) else None
        if o is None or not abs(float(o) - v) <= 1e-12:
            out.append(f"{k}: ours={o!r} golden={v!r}")
    return out


@pytest.mark.parametrize("name", list(GOLDEN))
def test_engine_from_paths(name, live_refs):
    gt_path, res_path, _ = GOLDEN[name]
    res = run_engine(gt_path, res_path, METRIC[name])
    bad = _golden_failures(name, res)
    assert not bad, f"{name} (paths): stats differ from golden:\n  " + "\n  ".join(bad)
    assert_same(res, live_refs[name], f"{name} (paths) vs live pycocotools")


@pytest.mark.parametrize("name", list(GOLDEN))
def test_engine_from_objects(name, live_refs):
    gt_path, res_path, _ = GOLDEN[name]
    res = run_engine(_load(gt_path), _load(res_path), METRIC[name])
    bad = _golden_failures(name, res)
    assert not bad, f"{name} (dict/list): stats differ from golden:\n  " + "\n  ".join(bad)
    assert_same(res, live_refs[name], f"{name} (dict/list) vs live pycocotools")


def test_engine_proposal_on_sample():
    gt, preds = _load(GT), _load(BBOX_RES)
    ref = reference_stats(gt, preds, "proposal")
    assert_same(run_engine(gt, preds, "proposal"), ref, "proposal on val2014 sample")


def test_engine_bbox_numpy_array_on_sample():
    gt, preds = _load(GT), _load(BBOX_RES)
    arr = np.asarray([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in preds], dtype=np.float64)
    ref = reference_stats(gt, arr, "bbox")
    assert_same(run_engine(gt, arr, "bbox"), ref, "bbox (N,7) array on val2014 sample")
