"""Differential tests of the LVIS protocol: ``evaluators.evaluate`` against lvis-api 0.5.3.

Bar: every stat within 1e-12 of lvis-api's ``results``, ``precision`` / ``recall``
equal to ``LVISEval.eval['precision' / 'recall']`` (atol 1e-12, same -1 pattern), and
``summary()`` identical to ``print_results()``.

Cases come from seeds (``lvisgen.make_lvis_case``, see its docstring for the rules
exercised) or are hand-made (``lvisgen.lvis_scenario``); a failure names them, so it
is reproduced with e.g.::

    gt, preds = lvisgen.make_lvis_case(17, "bbox")
    lvisref.run_lvis_api(gt, preds, "bbox")                        # lvis-api
    evaluators.evaluate(gt, preds, metric="bbox", protocol="lvis")  # engine
"""
from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lvisgen import (
    AREA_ABOVE_ALL,
    AREA_BORDERS,
    SCENARIOS,
    lvis_case_features,
    lvis_scenario,
    make_lvis_case,
    perturbed_predictions,
    segm_first_result_regrouped,
)
from lvisref import (
    assert_same_lvis,
    check_lvis,
    lvis_gt,
    lvis_mismatches,
    lvis_stat_keys,
    run_engine_lvis,
    run_lvis_api,
)

N_BBOX, N_SEGM = 40, 25

HERE = os.path.dirname(os.path.abspath(__file__))
REAL_GT = os.path.join(os.path.dirname(HERE), "..", "shared", "data", "coco-val2014-100", "lvis_val_100.json")


def _subset(seed: int, ids, frac: float = 0.6):
    rng = np.random.default_rng(seed)
    ids = sorted(ids)
    k = max(1, int(round(len(ids) * frac)))
    return sorted(int(i) for i in rng.choice(ids, size=k, replace=False))


# ---------------------------------------------------------------------------
# plain seeds, default parameters
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(N_BBOX))
def test_bbox_seed(seed):
    gt, preds = make_lvis_case(seed, "bbox")
    check_lvis(gt, preds, "bbox", f"lvis bbox seed={seed}")


@pytest.mark.parametrize("seed", range(N_SEGM))
def test_segm_seed(seed):
    gt, preds = make_lvis_case(seed, "segm")
    check_lvis(gt, preds, "segm", f"lvis segm seed={seed}")


# ---------------------------------------------------------------------------
# hand-made minimal cases (one rule each)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name):
    gt, preds = lvis_scenario(name)
    check_lvis(gt, preds, "bbox", f"lvis scenario {name}")


def test_scenarios_mean_what_they_say():
    """A few scenarios pin a specific lvis-api outcome (guards the scenarios, not the engine)."""
    ap = {n: run_lvis_api(*lvis_scenario(n), "bbox")["stats_dict"]["AP"] for n in
          ("dropped_category", "negative_category", "gt_id_zero", "gt_id_zero_not_exhaustive",
           "tie_at_cut_first_fp", "tie_at_cut_first_tp", "cut_counts_dropped", "not_exhaustive")}
    assert ap["dropped_category"] > 0.99 and ap["negative_category"] < 0.9
    assert ap["gt_id_zero_not_exhaustive"] > ap["gt_id_zero"]
    assert ap["tie_at_cut_first_tp"] > ap["tie_at_cut_first_fp"]
    assert ap["cut_counts_dropped"] == 0.0 and ap["not_exhaustive"] > 0.99


# ---------------------------------------------------------------------------
# option variants: (params(seed, gt) -> dict, kinds, seeds, generator overrides)
# ---------------------------------------------------------------------------
def _fixed(**kw):
    return lambda seed, gt: dict(kw)


VARIANTS = {
    # LVISResults(max_dets=m) and params.max_dets = m (the AR keys become AR@m)
    "max_dets_50": (_fixed(max_dets=50), ("bbox", "segm"), (0, 4, 6, 8), {}),
    "max_dets_50_ties_at_50": (_fixed(max_dets=50), ("bbox", "segm"), (0, 12, 18), {"max_dets": 50}),
    "max_dets_1": (_fixed(max_dets=1), ("bbox",), (1, 3, 4), {}),
    "max_dets_7_ties": (_fixed(max_dets=7), ("bbox",), (0, 2, 5), {"score_mode": "ties"}),
    # params.iou_thrs set before run()
    "iou_050_060_090": (_fixed(iou_thrs=[0.5, 0.6, 0.9]), ("bbox", "segm"), (0, 1, 2), {}),
    "iou_single_075": (_fixed(iou_thrs=[0.75]), ("bbox",), (3, 4), {}),
    "iou_k20_no_050": (_fixed(iou_thrs=[0.55, 0.65, 0.85, 0.95]), ("bbox", "segm"), (5, 6), {}),
    "iou_with_one_and_zero": (_fixed(iou_thrs=[0.0, 0.5, 0.75, 1.0]), ("bbox", "segm"), (7, 8), {}),
    # params.area_rng (labels stay all/small/medium/large)
    "area_ranges": (_fixed(area_ranges=[[0, 1e10], [0, 400], [400, 2500], [2500, 1e10]]),
                    ("bbox", "segm"), (0, 1, 2), {}),
    # params.img_ids / params.cat_ids (the per-image cut still sees every image's results)
    "img_ids_subset": (lambda seed, gt: dict(img_ids=_subset(seed, [i["id"] for i in gt["images"]])),
                       ("bbox", "segm"), (0, 3, 4), {}),
    "cat_ids_subset": (lambda seed, gt: dict(cat_ids=_subset(seed, [c["id"] for c in gt["categories"]])),
                       ("bbox", "segm"), (1, 2, 4), {}),
    "combined": (lambda seed, gt: dict(max_dets=50, iou_thrs=[0.5, 0.7, 0.75],
                                       area_ranges=[[0, 1e10], [0, 900], [900, 6400], [6400, 1e10]],
                                       img_ids=_subset(seed, [i["id"] for i in gt["images"]], 0.8)),
                 ("bbox",), (0, 8), {"max_dets": 50}),
}


def _variant_params():
    for name, (_fn, kinds, seeds, _ov) in VARIANTS.items():
        for kind in kinds:
            for seed in seeds:
                yield pytest.param(name, kind, seed, id=f"{name}-{kind}-{seed}")


@pytest.mark.parametrize("variant,kind,seed", list(_variant_params()))
def test_variant(variant, kind, seed):
    fn, _kinds, _seeds, overrides = VARIANTS[variant]
    gt, preds = make_lvis_case(seed, kind, **overrides)
    params = fn(seed, gt)
    res, ref = check_lvis(gt, preds, kind, f"lvis {kind} seed={seed} overrides={overrides} {params}", **params)
    md = params.get("max_dets", 300)
    assert list(res.stats) == lvis_stat_keys(md)


# ---------------------------------------------------------------------------
# input forms and auto-detection
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["bbox", "segm"])
@pytest.mark.parametrize("seed", [0, 1])
def test_empty_predictions(kind, seed):
    """lvis-api cannot load [] (it reads results[0]); the reference is built around that."""
    gt, _ = make_lvis_case(seed, kind)
    check_lvis(gt, [], kind, f"lvis {kind} seed={seed} with empty predictions")


@pytest.mark.parametrize("kind", ["bbox", "segm"])
def test_auto_detection_dict_and_paths(tmp_path, kind):
    gt, preds = make_lvis_case(4, kind)
    ref = run_lvis_api(gt, preds, kind)
    res = run_engine_lvis(gt, preds, kind, protocol=None)
    assert res.protocol == "lvis"
    assert_same_lvis(res, ref, f"lvis {kind} seed=4, protocol=None (dicts)")
    gp, pp = tmp_path / "lvis_gt.json", tmp_path / "preds.json"
    gp.write_text(json.dumps(gt))
    pp.write_text(json.dumps(preds))
    res = run_engine_lvis(str(gp), str(pp), kind, protocol=None)
    assert res.protocol == "lvis"
    assert_same_lvis(res, ref, f"lvis {kind} seed=4, protocol=None (paths)")


def test_shuffled_predictions_follow_file_order():
    """Reordering the result list changes only tie-breaking; the engine must follow it exactly."""
    for seed in (0, 4):
        gt, preds = make_lvis_case(seed, "bbox", score_mode="ties", overflow=True)
        rng = np.random.default_rng(seed)
        shuffled = [preds[i] for i in rng.permutation(len(preds))]
        check_lvis(gt, shuffled, "bbox", f"lvis bbox seed={seed} shuffled (ties, overflow)")


@pytest.mark.parametrize("seed", range(3))
def test_unknown_category_dets(seed):
    """Results of a category the GT does not list: lvis-api drops them silently, the engine
    refuses them (UnknownIdError, as for COCO). Kept under the cap, dropping them first
    gives lvis-api's numbers on the original list."""
    from evaluators import UnknownIdError

    gt, preds = make_lvis_case(seed, "bbox", overflow=False)
    unknown = max(c["id"] for c in gt["categories"]) + 1
    extra = [dict(copy.deepcopy(d), category_id=unknown) for d in preds[:3]]
    with pytest.raises(UnknownIdError):
        run_engine_lvis(gt, preds + extra, "bbox")
    ref = run_lvis_api(gt, preds + extra, "bbox")
    res = run_engine_lvis(gt, preds, "bbox")
    assert_same_lvis(res, ref, f"lvis bbox seed={seed}, unknown-category results dropped")


# ---------------------------------------------------------------------------
# segm: which record decides box vs mask areas
# ---------------------------------------------------------------------------
def test_segm_first_result_after_regrouping_has_bbox():
    """lvis-api regroups results by image (and cuts over-the-cap images to their best 300)
    before looking at ``results[0]``; if that record has a bbox, every area is w*h."""
    gt, preds = segm_first_result_regrouped()
    check_lvis(gt, preds, "segm", "segm: file-first result without bbox, lvis-api's first with one")


def test_segm_first_result_after_regrouping_lacks_bbox():
    """Mirror case: the file-first result has a bbox but is cut; lvis-api's first result has
    none, so it takes mask areas (and derives the missing bboxes) instead of failing."""
    gt, preds = segm_first_result_regrouped()
    preds = [{k: v for k, v in d.items() if k != "bbox"} for d in preds]
    preds[0]["bbox"] = [5.0, 5.0, 20.0, 20.0]
    check_lvis(gt, preds, "segm", "segm: file-first result with bbox (cut), the others without")


# ---------------------------------------------------------------------------
# summary text and per-class table
# ---------------------------------------------------------------------------
SUMMARY_CASES = {
    "bbox-3": (lambda: make_lvis_case(3, "bbox"), "bbox", {}),
    "segm-5": (lambda: make_lvis_case(5, "segm"), "segm", {}),
    "bbox-0-max_dets_50": (lambda: make_lvis_case(0, "bbox"), "bbox", {"max_dets": 50}),
    "bbox-2-max_dets_7": (lambda: make_lvis_case(2, "bbox"), "bbox", {"max_dets": 7}),
    "segm-6-iou_050_075": (lambda: make_lvis_case(6, "segm"), "segm", {"iou_thrs": [0.5, 0.75]}),
    "bbox-1-iou_060_090": (lambda: make_lvis_case(1, "bbox"), "bbox", {"iou_thrs": [0.6, 0.9]}),
    "empty_group": (lambda: lvis_scenario("empty_group"), "bbox", {}),
    "empty_predictions": (lambda: (make_lvis_case(7, "bbox")[0], []), "bbox", {}),
}


@pytest.mark.parametrize("name", SUMMARY_CASES)
def test_summary_matches_print_results(name):
    make, kind, params = SUMMARY_CASES[name]
    gt, preds = make()
    md = params.get("max_dets", 300)
    ref = run_lvis_api(gt, preds, kind, capture_print=True, max_dets=md,
                       **{k: v for k, v in params.items() if k != "max_dets"})
    res = run_engine_lvis(gt, preds, kind, **params)
    ours = res.summary().splitlines()
    assert len(ref["printed"]) == 13
    assert ours == ref["printed"], "\n".join(
        f"line {i}: ours={a!r}\n         ref ={b!r}" for i, (a, b) in enumerate(zip(ours, ref["printed"])) if a != b
    ) or f"ours has {len(ours)} lines, lvis-api printed {len(ref['printed'])}"


def _per_class_from_ref(ref, k: int, md: int) -> dict:
    """The per-class numbers as lvis-api's _summarize would give them restricted to one category."""
    p, r = ref["precision"][:, :, k, :], ref["recall"][:, k, :]

    def mean(s):
        s = s[s > -1]
        return -1.0 if s.size == 0 else float(np.mean(s))

    iou = np.linspace(0.5, 0.95, 10)
    return {"AP": mean(p[..., 0]), "AP50": mean(p[iou == 0.5][..., 0]), "AP75": mean(p[iou == 0.75][..., 0]),
            "APs": mean(p[..., 1]), "APm": mean(p[..., 2]), "APl": mean(p[..., 3]), f"AR@{md}": mean(r[:, 0])}


@pytest.mark.parametrize("kind,seed,md", [("bbox", 3, 300), ("bbox", 0, 50), ("segm", 1, 300)])
def test_per_class_table(kind, seed, md):
    gt, preds = make_lvis_case(seed, kind)
    ref = run_lvis_api(gt, preds, kind, max_dets=md)
    res = run_engine_lvis(gt, preds, kind, max_dets=md)
    df = res.per_class
    assert list(df.columns) == ["id", "name", "frequency", "AP", "AP50", "AP75", "APs", "APm", "APl", f"AR@{md}",
                                "n_gt", "n_dets"]
    assert df["id"].tolist() == ref["cat_ids"]
    cats = {c["id"]: c for c in gt["categories"]}
    bad = []
    for k, row in enumerate(df.to_dict("records")):
        assert row["name"] == cats[row["id"]]["name"] and row["frequency"] == cats[row["id"]]["frequency"]
        for key, v in _per_class_from_ref(ref, k, md).items():
            if not abs(float(row[key]) - v) <= 1e-12:
                bad.append(f"cat {row['id']} {key}: ours={row[key]!r} ref={v!r}")
    assert not bad, f"lvis {kind} seed={seed} per-class:\n  " + "\n  ".join(bad)


# ---------------------------------------------------------------------------
# the real 100-image LVIS sample (shared data; skipped when absent)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_gt():
    if not os.path.exists(REAL_GT):
        pytest.skip(f"shared LVIS sample not found: {os.path.normpath(REAL_GT)}")
    with open(REAL_GT) as f:
        gt = json.load(f)
    return gt, lvis_gt(REAL_GT)


@pytest.fixture(scope="module")
def real_runs(real_gt):
    gt, api = real_gt
    cache = {}

    def get(kind):
        if kind not in cache:
            preds = perturbed_predictions(gt, kind, seed=0)
            ref = run_lvis_api(REAL_GT, preds, kind, gt_api=api, capture_print=True)
            cache[kind] = (preds, ref)
        return cache[kind]

    return get


@pytest.mark.parametrize("kind", ["bbox", "segm"])
def test_real_lvis_sample(real_runs, kind):
    preds, ref = real_runs(kind)
    res = run_engine_lvis(REAL_GT, preds, kind, protocol=None)  # from the path, auto-detected
    assert res.protocol == "lvis"
    assert_same_lvis(res, ref, f"lvis_val_100.json {kind}, perturbed-GT predictions")
    assert res.summary().splitlines() == ref["printed"]


def test_real_lvis_sample_max_dets_50(real_gt):
    gt, api = real_gt
    preds = perturbed_predictions(gt, "bbox", seed=1, max_dets=50)
    ref = run_lvis_api(REAL_GT, preds, "bbox", gt_api=api, max_dets=50)
    res = run_engine_lvis(gt, preds, "bbox", max_dets=50)
    assert_same_lvis(res, ref, "lvis_val_100.json bbox, max_dets=50")


# ---------------------------------------------------------------------------
# property-based: tiny federated cases built from primitives (they shrink to minimal repros)
# ---------------------------------------------------------------------------
_coord = st.integers(0, 40)
_size = st.sampled_from([0, 1, 4, 8, 10, 20, 32, 40])
_cat_ids = (3, 5, 9)


@st.composite
def tiny_lvis_case(draw):
    n_img = draw(st.integers(1, 3))
    cat_sub = st.lists(st.sampled_from(_cat_ids), unique=True, max_size=3)
    images = [{"id": 20 + i, "width": 80, "height": 80, "neg_category_ids": draw(cat_sub),
               "not_exhaustive_category_ids": draw(cat_sub)} for i in range(n_img)]
    freqs = draw(st.lists(st.sampled_from("rcf"), min_size=3, max_size=3))
    categories = [{"id": c, "name": f"c{c}", "frequency": f} for c, f in zip(_cat_ids, freqs)]
    gts = draw(st.lists(st.tuples(st.integers(0, n_img - 1), st.sampled_from(_cat_ids), _coord, _coord, _size, _size,
                                  st.sampled_from(["box", 0.0, AREA_BORDERS[0], AREA_BORDERS[1], AREA_ABOVE_ALL]),
                                  st.sampled_from([None, 0, 1]), st.sampled_from([None, 0, 1])), max_size=6))
    zero_id = draw(st.booleans())
    anns = []
    for j, (i, c, x, y, w, h, area, ign, crowd) in enumerate(gts):
        a = {"id": 0 if zero_id and j == 0 else j + 1, "image_id": 20 + i, "category_id": c,
             "bbox": [float(x), float(y), float(w), float(h)], "area": float(w * h) if area == "box" else area,
             "segmentation": [[x, y, x, y + h, x + w, y + h, x + w, y]]}
        if ign is not None:
            a["ignore"] = ign
        if crowd is not None:
            a["iscrowd"] = crowd
        anns.append(a)
    dts = draw(st.lists(st.tuples(st.integers(0, n_img - 1), st.sampled_from(_cat_ids), _coord, _coord, _size, _size,
                                  st.sampled_from([0.2, 0.5, 0.8])), min_size=1, max_size=10))
    preds = [{"image_id": 20 + i, "category_id": c, "bbox": [float(x), float(y), float(w), float(h)], "score": s}
             for (i, c, x, y, w, h, s) in dts]
    return {"images": images, "categories": categories, "annotations": anns}, preds


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(case=tiny_lvis_case(), max_dets=st.sampled_from([None, 1, 2, 3]),
       iou_thrs=st.sampled_from([None, [0.0, 0.5], [0.5, 0.75, 1.0]]))
def test_hypothesis_tiny_cases(case, max_dets, iou_thrs):
    gt, preds = case
    ref = run_lvis_api(gt, preds, "bbox", max_dets=300 if max_dets is None else max_dets, iou_thrs=iou_thrs)
    res = run_engine_lvis(gt, preds, "bbox", max_dets=max_dets, iou_thrs=iou_thrs)
    probs = lvis_mismatches(res, ref)
    assert not probs, (f"tiny lvis case max_dets={max_dets} iou_thrs={iou_thrs}\n  gt={gt}\n  preds={preds}\n  "
                       + "\n  ".join(probs))


# ---------------------------------------------------------------------------
# the generator and the comparator themselves (no engine needed)
# ---------------------------------------------------------------------------
_COMMON = {
    "freq_all_groups", "freq_group_empty", "gt_area_zero", "gt_zero_area_sole", "gt_area_border",
    "gt_area_ulp_off_border", "gt_area_above_all", "gt_ignore", "gt_iscrowd_one", "gt_id_zero", "img_no_gt",
    "img_no_det", "neg_and_not_exhaustive", "neg_and_present", "not_exhaustive_present", "det_negative",
    "det_not_exhaustive", "det_dropped", "det_dropped_zero_area_gt", "image_exactly_at_cap", "image_over_cap",
    "tie_at_cut", "score_tie_within_image", "score_tie_across_images", "zero_area_det",
}
REQUIRED = {
    "bbox": _COMMON,
    "segm": _COMMON | {"det_counts_str", "segm_det_bbox_all", "segm_det_bbox_mixed", "segm_det_bbox_none",
                       "segm_det_bbox_area_differs", "gt_polygon", "gt_polygon_multipart"},
}


@pytest.mark.parametrize("kind,n", [("bbox", N_BBOX), ("segm", N_SEGM)])
def test_generator_covers_lvis_rules(kind, n):
    seen = set()
    for s in range(n):
        seen |= lvis_case_features(*make_lvis_case(s, kind), kind)
    missing = REQUIRED[kind] - seen
    assert not missing, f"{kind} seeds 0..{n - 1} never produce: {sorted(missing)}"


@pytest.mark.parametrize("kind", ["bbox", "segm"])
def test_generator_deterministic_and_valid(kind):
    a, b = make_lvis_case(7, kind), make_lvis_case(7, kind)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert json.dumps(make_lvis_case(8, kind), sort_keys=True) != json.dumps(a, sort_keys=True)
    for s in range(10):
        gt, preds = make_lvis_case(s, kind)
        assert len({x["id"] for x in gt["annotations"]}) == len(gt["annotations"]), "GT ids must be unique"
        assert all("neg_category_ids" in i and "not_exhaustive_category_ids" in i for i in gt["images"])
        assert all(c["frequency"] in "rcf" for c in gt["categories"])
        cat_ids = {c["id"] for c in gt["categories"]}
        assert all(d["category_id"] in cat_ids for d in preds)
        if kind == "segm":
            assert all(isinstance(d["segmentation"]["counts"], str) for d in preds)
            if preds and any("bbox" in d for d in preds) and not all("bbox" in d for d in preds):
                assert "bbox" not in preds[0]


def test_comparator_catches_differences():
    gt, preds = make_lvis_case(2, "bbox")
    ref = run_lvis_api(gt, preds, "bbox")

    class Res:
        pass

    good = Res()
    good.stats = dict(ref["stats_dict"])
    good.precision, good.recall = ref["precision"].copy(), ref["recall"].copy()
    assert lvis_mismatches(good, ref) == []

    bad = copy.deepcopy(good)
    bad.stats["APc"] += 1e-11
    assert any("APc" in m for m in lvis_mismatches(bad, ref))

    bad = copy.deepcopy(good)
    i = tuple(np.argwhere(bad.precision > -1)[0])
    bad.precision[i] += 2e-12
    assert any(m.startswith("precision") for m in lvis_mismatches(bad, ref))

    bad = copy.deepcopy(good)
    bad.recall = np.where(bad.recall == -1, 0.0, bad.recall)
    assert (ref["recall"] == -1).any() and any(m.startswith("recall") for m in lvis_mismatches(bad, ref))

    bad = copy.deepcopy(good)
    bad.stats = {("AR@100" if k == "AR@300" else k): v for k, v in bad.stats.items()}
    assert any("AR@300" in m for m in lvis_mismatches(bad, ref))
