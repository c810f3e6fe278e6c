"""Differential tests: ``evaluators.evaluate`` against pycocotools, to 1e-12.

Every case is generated from a seed by ``cocogen`` (see its docstring for the
rules being exercised); a failure names the seed, so it is reproduced with e.g.

    gt, preds = cocogen.make_case(17, "bbox")
    reference.reference_stats(gt, preds, "bbox")      # pycocotools
    evaluators.evaluate(gt, preds, metric="bbox")      # engine
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _compare import assert_same, check, mismatches, run_engine
from cocogen import (
    AREA_ALL_MAX,
    SCENARIOS,
    SEGM_SCENARIOS,
    TIE_SCORES,
    case_features,
    float32_area_border_case,
    make_case,
    preds_to_array,
    scenario,
    segm_scenario,
    subset_ids,
)
from reference import reference_stats

N_BBOX, N_SEGM, N_PROPOSAL = 60, 40, 30


# ---------------------------------------------------------------------------
# plain seeds, default parameters
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(N_BBOX))
def test_bbox_seed(seed):
    gt, preds = make_case(seed, "bbox")
    check(gt, preds, "bbox", f"bbox seed={seed}")


@pytest.mark.parametrize("seed", range(N_SEGM))
def test_segm_seed(seed):
    gt, preds = make_case(seed, "segm")
    check(gt, preds, "segm", f"segm seed={seed}")


@pytest.mark.parametrize("seed", range(N_PROPOSAL))
def test_proposal_seed(seed):
    gt, preds = make_case(seed, "proposal")
    check(gt, preds, "proposal", f"proposal seed={seed}")


# ---------------------------------------------------------------------------
# hand-made minimal scenarios (one rule each)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("metric", ["bbox", "proposal"])
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name, metric):
    gt, preds = scenario(name)
    check(gt, preds, metric, f"scenario {name} ({metric})")


@pytest.mark.parametrize("name", SEGM_SCENARIOS)
def test_segm_scenario(name):
    gt, preds = segm_scenario(name)
    check(gt, preds, "segm", f"segm scenario {name}")


# ---------------------------------------------------------------------------
# option variants
# ---------------------------------------------------------------------------
def _fixed(**kw):
    return lambda seed, gt: dict(kw)


VARIANTS = {
    # name: (params(seed, gt) -> dict, metrics, seeds)
    "iou_050_no075": (_fixed(iou_thrs=[0.5, 0.6, 0.9]), ("bbox", "segm", "proposal"), range(6)),
    "iou_single_075": (_fixed(iou_thrs=[0.75]), ("bbox",), range(4)),
    "iou_k20_decimals": (_fixed(iou_thrs=[0.55, 0.65, 0.85, 0.95]), ("bbox", "segm"), range(4)),
    "iou_with_one": (_fixed(iou_thrs=[0.5, 0.75, 1.0]), ("bbox", "segm"), range(4)),
    "iou_with_zero": (_fixed(iou_thrs=[0.0, 0.5, 0.75]), ("bbox",), range(4)),
    "max_dets_1_5_20": (_fixed(max_dets=[1, 5, 20]), ("bbox", "segm"), range(6)),
    "max_dets_10_50_100": (_fixed(max_dets=[10, 50, 100]), ("bbox",), range(0, 20, 5)),
    "max_dets_1_2_3": (_fixed(max_dets=[1, 2, 3]), ("bbox",), range(4)),
    "max_dets_proposal_10_50_200": (_fixed(max_dets=[10, 50, 200]), ("proposal",), range(6)),
    "area_ranges_list": (_fixed(area_ranges=[[0, AREA_ALL_MAX], [0, 400], [400, 2500], [2500, AREA_ALL_MAX]]),
                         ("bbox", "segm", "proposal"), range(4)),
    "area_ranges_overlap": (_fixed(area_ranges=[[0.0, 1e9], [0.0, 2048.0], [1024.0, 9216.0], [1024.0, 1e12]]),
                            ("bbox",), range(4)),
    "area_ranges_dict": (_fixed(area_ranges={"all": [0, AREA_ALL_MAX], "small": [0, 32 ** 2],
                                             "medium": [32 ** 2, 64 ** 2], "large": [64 ** 2, AREA_ALL_MAX]}),
                         ("bbox",), range(4)),
    "img_ids_subset": (lambda seed, gt: dict(img_ids=subset_ids(seed, gt, "img")),
                       ("bbox", "segm", "proposal"), range(6)),
    "cat_ids_subset": (lambda seed, gt: dict(cat_ids=subset_ids(seed, gt, "cat")), ("bbox", "segm"), range(6)),
    "use_cats_false": (_fixed(use_cats=False), ("bbox", "segm"), range(8)),
    "use_cats_false_cat_subset": (lambda seed, gt: dict(use_cats=False, cat_ids=subset_ids(seed, gt, "cat")),
                                  ("bbox",), range(4)),
    "combined": (lambda seed, gt: dict(iou_thrs=[0.5, 0.7, 0.75], max_dets=[2, 10, 50],
                                       area_ranges=[[0, 1e10], [0, 900], [900, 6400], [6400, 1e10]],
                                       img_ids=subset_ids(seed, gt, "img")),
                 ("bbox", "segm"), range(4)),
}


def _variant_params():
    for name, (_fn, metrics, seeds) in VARIANTS.items():
        for metric in metrics:
            for seed in seeds:
                yield pytest.param(name, metric, seed, id=f"{name}-{metric}-{seed}")


@pytest.mark.parametrize("variant,metric,seed", list(_variant_params()))
def test_variant(variant, metric, seed):
    fn = VARIANTS[variant][0]
    gt, preds = make_case(seed, metric)
    params = fn(seed, gt)
    check(gt, preds, metric, f"{metric} seed={seed} variant={variant} params={params}", **params)


@pytest.mark.parametrize("seed", range(2))
def test_area_ranges_dict_permuted_labels_stats(seed):
    """Dict area ranges in a non-standard order: the labelled stats must still agree.

    (Only the stats are compared: the area axis order of the arrays follows the
    dict, which the contract does not pin down.)"""
    rngs = {"large": [96 ** 2, AREA_ALL_MAX], "small": [0, 32 ** 2], "all": [0, AREA_ALL_MAX],
            "medium": [32 ** 2, 96 ** 2]}
    gt, preds = make_case(seed, "bbox")
    ref = reference_stats(gt, preds, "bbox", area_ranges=rngs)
    res = run_engine(gt, preds, "bbox", area_ranges=rngs)
    probs = [p for p in mismatches(res, ref) if p.startswith("stat")]
    assert not probs, f"bbox seed={seed} permuted area dict:\n  " + "\n  ".join(probs)


@pytest.mark.parametrize("cat_ids", [[2, 1], [1, 2]], ids=["unsorted", "sorted"])
@pytest.mark.parametrize("name", ["agnostic_tie_across_categories", "agnostic_equal_iou_across_categories"])
def test_agnostic_cat_ids_order(name, cat_ids):
    """With useCats=0 pycocotools neither sorts nor de-duplicates params.catIds: each
    image's GTs and detections are pooled category by category in the given order,
    which decides score ties and equal-IoU ties."""
    gt, preds = scenario(name)
    check(gt, preds, "bbox", f"scenario {name} use_cats=False cat_ids={cat_ids}", use_cats=False, cat_ids=cat_ids)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("use_cats", [None, False])
def test_bbox_unknown_category_dets(seed, use_cats):
    """Results whose category_id is not among the GT categories.

    pycocotools silently never evaluates them (not even with useCats=0); the
    engine deliberately refuses them with UnknownIdError (see
    test_bad_input.py).  Check both halves: the error is raised, and once those
    results are dropped the engine agrees with pycocotools on the original list.
    """
    from evaluators import UnknownIdError

    gt, preds = make_case(seed, "bbox", unknown_cat_dets=True)
    assert any(d["category_id"] == 999 for d in preds)
    with pytest.raises(UnknownIdError):
        run_engine(gt, preds, "bbox", use_cats=use_cats)
    kept = [d for d in preds if d["category_id"] != 999]
    ctx = f"bbox seed={seed} unknown-category dets dropped, use_cats={use_cats}"
    check(gt, kept, "bbox", ctx, ref_preds=preds, use_cats=use_cats)


# ---------------------------------------------------------------------------
# input forms
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("metric", ["bbox", "segm", "proposal"])
@pytest.mark.parametrize("seed", range(2))
def test_empty_predictions(metric, seed):
    gt, _ = make_case(seed, metric)
    check(gt, [], metric, f"{metric} seed={seed} with empty predictions")


@pytest.mark.parametrize("seed", [1, 5])
def test_empty_numpy_predictions(seed):
    gt, _ = make_case(seed, "bbox")
    check(gt, np.zeros((0, 7)), "bbox", f"bbox seed={seed} with empty (0,7) array", ref_preds=[])


@pytest.mark.parametrize("metric", ["bbox", "proposal"])
@pytest.mark.parametrize("seed", range(6))
def test_numpy_array_input(metric, seed):
    """(N,7) [image_id, x, y, w, h, score, category_id] arrays vs loadRes(array)."""
    gt, preds = make_case(seed, metric)
    arr = preds_to_array(preds)
    check(gt, arr, metric, f"{metric} seed={seed} as (N,7) array")


def test_numpy_float32_array_area_border():
    """loadRes on a float32 array computes a result's area as a float32 product."""
    gt, arr = float32_area_border_case()
    w, h = arr[0, 3], arr[0, 4]
    assert w * h == np.float32(1024.0) and float(w) * float(h) > 1024.0
    check(gt, arr, "bbox", "float32 (N,7) array, box area 1024 in float32 but not in float64")


@pytest.mark.parametrize("seed", range(3))
def test_numpy_float32_array_input(seed):
    gt, preds = make_case(seed, "bbox")
    check(gt, preds_to_array(preds).astype(np.float32), "bbox", f"bbox seed={seed} as float32 (N,7) array")


@pytest.mark.parametrize("metric", ["bbox", "segm"])
def test_path_inputs(tmp_path, metric):
    gt, preds = make_case(3, metric)
    gp, pp = tmp_path / "gt.json", tmp_path / "preds.json"
    gp.write_text(json.dumps(gt))
    pp.write_text(json.dumps(preds))
    ref = reference_stats(gt, preds, metric)
    res = run_engine(str(gp), str(pp), metric)
    assert_same(res, ref, f"{metric} seed=3 from paths")


@pytest.mark.parametrize("seed", range(3))
def test_shuffled_predictions(seed):
    """Shuffling the result list must give exactly what pycocotools gives for the
    shuffled list (which differs from the unshuffled one only through ties)."""
    gt, preds = make_case(seed, "bbox", score_mode="ties")
    rng = np.random.default_rng(seed)
    shuffled = [preds[i] for i in rng.permutation(len(preds))]
    check(gt, shuffled, "bbox", f"bbox seed={seed} shuffled predictions")


# ---------------------------------------------------------------------------
# property-based: tiny cases built from primitives (shrink to minimal repros)
# ---------------------------------------------------------------------------
_coord = st.integers(0, 24)
_size = st.sampled_from([0, 1, 2, 4, 5, 8, 10, 12, 20])


@st.composite
def tiny_bbox_case(draw):
    n_img = draw(st.integers(1, 3))
    images = [{"id": 10 + i, "width": 64, "height": 64} for i in range(n_img)]
    categories = [{"id": c, "name": str(c)} for c in (2, 1, 7)]  # 7 never has GT
    gts = draw(st.lists(st.tuples(st.integers(0, n_img - 1), st.sampled_from([1, 2]), _coord, _coord, _size, _size,
                                  st.booleans(), st.sampled_from(["box", 1024.0, 9216.0, 0.0, 50.0]),
                                  st.sampled_from([None, 0, 1])),
                        max_size=6))
    zero_id = draw(st.booleans())
    anns = []
    for j, (i, c, x, y, w, h, crowd, area, ign) in enumerate(gts):
        a = {"id": (0 if zero_id and j == 0 else j + 1), "image_id": 10 + i, "category_id": c,
             "bbox": [float(x), float(y), float(w), float(h)], "iscrowd": int(crowd),
             "area": float(w * h) if area == "box" else area}
        if ign is not None:
            a["ignore"] = ign
        anns.append(a)
    dts = draw(st.lists(st.tuples(st.integers(0, n_img - 1), st.sampled_from([1, 2, 7]), _coord, _coord, _size,
                                  _size, st.sampled_from(TIE_SCORES)),
                        max_size=10))
    preds = [{"image_id": 10 + i, "category_id": c, "bbox": [float(x), float(y), float(w), float(h)], "score": s}
             for (i, c, x, y, w, h, s) in dts]
    gt = {"images": images, "categories": categories, "annotations": anns}
    return gt, preds


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(case=tiny_bbox_case(), metric=st.sampled_from(["bbox", "proposal"]),
       max_dets=st.sampled_from([None, [1, 2, 3]]), use_cats=st.sampled_from([None, False]),
       iou_thrs=st.sampled_from([None, [0.0, 0.5], [0.5, 0.75, 1.0]]))
def test_hypothesis_tiny_cases(case, metric, max_dets, use_cats, iou_thrs):
    gt, preds = case
    if metric == "proposal":
        use_cats = None
        if max_dets is not None:
            max_dets = [1, 2, 300]
    ctx = (f"hypothesis tiny {metric} max_dets={max_dets} use_cats={use_cats} iou_thrs={iou_thrs}"
           f"\n  gt={gt}\n  preds={preds}")
    check(gt, preds, metric, ctx, max_dets=max_dets, use_cats=use_cats, iou_thrs=iou_thrs)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(seed=st.integers(1000, 2 ** 31 - 1), metric=st.sampled_from(["bbox", "segm", "proposal"]),
       n_images=st.integers(1, 3), use_cats=st.sampled_from([None, False]))
def test_hypothesis_generated_cases(seed, metric, n_images, use_cats):
    gt, preds = make_case(seed, metric, n_images=n_images)
    if metric == "proposal":
        use_cats = None
    check(gt, preds, metric, f"make_case({seed}, {metric!r}, n_images={n_images}) use_cats={use_cats}",
          use_cats=use_cats)


# ---------------------------------------------------------------------------
# the generators and the comparator themselves (no engine needed)
# ---------------------------------------------------------------------------
_COMMON = {
    "crowd", "crowd_multi_match", "ignore_disagrees", "area_border", "area_above_all", "area_differs_from_box",
    "gt_id_zero", "area_ulp_off_border", "img_no_gt", "img_no_det", "cat_no_gt", "det_cat_no_gt", "zero_area_box", "tiny_box",
    "duplicate_det", "score_tie_within_image", "score_tie_across_images", "over_100_per_group",
    "iou_exact_0.5", "iou_exact_0.75", "iou_exact_0.9", "iou_exact_other_threshold", "iou_one", "touching_gt",
}
REQUIRED = {
    "bbox": _COMMON | {"float_coords", "duplicate_gt"},
    "segm": _COMMON - {"touching_gt"} | {
        "gt_polygon", "gt_polygon_multipart", "gt_rle_uncompressed", "gt_rle_compressed", "crowd_rle_uncompressed",
        "crowd_rle_compressed", "segm_det_bbox_all", "segm_det_bbox_mixed", "segm_det_bbox_none",
        "segm_det_bbox_area_differs", "segm_det_empty_mask", "segm_det_full_mask"},
    "proposal": _COMMON | {"float_coords", "over_1000_per_image"},
}


@pytest.mark.parametrize("kind,n", [("bbox", N_BBOX), ("segm", N_SEGM), ("proposal", N_PROPOSAL)])
def test_generators_cover_tricky_rules(kind, n):
    seen = set()
    for s in range(n):
        seen |= case_features(*make_case(s, kind), kind)
    missing = REQUIRED[kind] - seen
    assert not missing, f"{kind} seeds 0..{n - 1} never produce: {sorted(missing)}"


@pytest.mark.parametrize("kind", ["bbox", "segm", "proposal"])
def test_generators_deterministic_and_json(kind):
    a = make_case(7, kind)
    b = make_case(7, kind)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert json.dumps(make_case(8, kind), sort_keys=True) != json.dumps(a, sort_keys=True)
    gt, preds = a
    assert len({x["id"] for x in gt["annotations"]}) == len(gt["annotations"]), "GT ids must be unique"


def test_comparator_catches_differences():
    gt, preds = make_case(2, "bbox")
    ref = reference_stats(gt, preds, "bbox")

    class Res:
        pass

    good = Res()
    good.stats = dict(ref["stats_dict"])
    good.precision, good.recall, good.scores = (ref[k].copy() for k in ("precision", "recall", "scores"))
    assert mismatches(good, ref) == []

    bad = copy.deepcopy(good)
    bad.stats["AP75"] += 1e-11
    assert any("AP75" in m for m in mismatches(bad, ref))

    bad = copy.deepcopy(good)
    i = tuple(np.argwhere(bad.precision > -1)[0])
    bad.precision[i] += 2e-12
    assert any(m.startswith("precision") for m in mismatches(bad, ref))

    bad = copy.deepcopy(good)
    bad.recall = np.where(bad.recall == -1, 0.0, bad.recall)
    assert (ref["recall"] == -1).any() and any(m.startswith("recall") for m in mismatches(bad, ref))

    bad = copy.deepcopy(good)
    bad.scores = bad.scores[..., :2]
    assert any("shape" in m for m in mismatches(bad, ref))

    bad = copy.deepcopy(good)
    del bad.stats["ARl"]
    bad.stats["AR"] = 0.0
    assert any("ARl" in m for m in mismatches(bad, ref))
