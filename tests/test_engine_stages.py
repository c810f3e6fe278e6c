"""Stage-level checks of the engine against pycocotools' own intermediate results.

The differential suite compares final arrays; these tests pin down the stage that would be wrong:
grouping must reproduce pycocotools' per-(image, category) detection order, and matching must reproduce
the TP / FP / ignored status of every detection that ``COCOeval.evaluateImg`` stores.
"""
import contextlib
import copy
import io

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cocogen import make_case
from evaluators.data.ground_truth import load_ground_truth
from evaluators.data.predictions import load_predictions
from evaluators.engine.grouping import build_groups
from evaluators.engine.matching import match
from evaluators.engine.pairs import box_iou_fn, candidate_pairs, lowest_threshold
from evaluators.params import EvalParams


def _cocoeval(gt, preds, use_cats=True):
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO()
        g.dataset = copy.deepcopy(gt)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(preds))
        ev = COCOeval(g, d, "bbox")
        ev.params.useCats = int(use_cats)
        ev.evaluate()
    return ev


def _ours(gt, preds, use_cats=True):
    params = EvalParams.create("bbox", use_cats=use_cats)
    ground = load_ground_truth(gt)
    dets = load_predictions(preds, ground)
    groups = build_groups(ground, dets, params)
    return ground, dets, groups, params


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("use_cats", [True, False])
def test_grouping_reproduces_pycocotools_detection_order(seed, use_cats):
    gt, preds = make_case(seed, "bbox")
    ev = _cocoeval(gt, preds, use_cats)
    ground, dets, groups, params = _ours(gt, preds, use_cats)
    # pycocotools' kept detections per group, in its order (ids are 1-based file positions)
    ref = []
    for e in ev.evalImgs:
        if e is not None and e["aRng"] == ev.params.areaRng[0]:
            ref.extend(np.asarray(e["dtIds"], np.int64) - 1)
    ours = [int(r) for r in groups.dt_row]
    assert sorted(ours) == sorted(ref)
    # same order within each (image, category) group: compare as sequences per image
    by_img_ref, by_img_ours = {}, {}
    for e in ev.evalImgs:
        if e is not None and e["aRng"] == ev.params.areaRng[0] and len(e["dtIds"]):
            by_img_ref.setdefault((e["image_id"], e["category_id"]), []).extend(np.asarray(e["dtIds"]) - 1)
    for row, grp in zip(groups.dt_row, groups.dt_group):
        by_img_ours.setdefault(int(grp), []).append(int(row))
    assert sorted(map(tuple, by_img_ref.values())) == sorted(map(tuple, by_img_ours.values()))


@pytest.mark.parametrize("seed", range(12))
def test_matching_reproduces_evaluateimg_flags(seed):
    gt, preds = make_case(seed, "bbox")
    ev = _cocoeval(gt, preds)
    ground, dets, groups, params = _ours(gt, preds)
    dev = torch.device("cpu")
    t = lambda a, dt=None: torch.as_tensor(a, dtype=dt)  # noqa: E731
    cands = candidate_pairs(groups, box_iou_fn(dets.bbox[groups.dt_row], ground.ann_bbox[groups.gt_row],
                                                ground.ann_crowd[groups.gt_row], dev), lowest_threshold(params.iou_thrs), dev)
    m = match(cands, groups.dt_row.size, t(groups.dt_group), t(dets.area[groups.dt_row], torch.float64),
              t(ground.ann_area[groups.gt_row], torch.float64), t(ground.ann_crowd[groups.gt_row]),
              t(ground.ann_ids[groups.gt_row]), t(groups.gt_pos), params.iou_thrs, params.area_ranges)
    T, A = m.n_thr, m.n_area
    n = groups.dt_row.size
    tp = torch.zeros((n, T * A), dtype=torch.bool)
    ign = m.outside.repeat(1, T).clone()  # unmatched: ignored when outside the range
    tp[m.det, m.col] = m.gt_ignored.logical_not() & m.gt_zero_id.logical_not()
    ign[m.det, m.col] = torch.where(m.gt_zero_id, m.gt_ignored | ign[m.det, m.col], m.gt_ignored)
    row_of = {int(r): i for i, r in enumerate(groups.dt_row)}
    checked = 0
    for e in ev.evalImgs:
        if e is None:
            continue
        a = [tuple(r) for r in ev.params.areaRng].index(tuple(e["aRng"]))
        for j, did in enumerate(e["dtIds"]):
            i = row_of[did - 1]
            for ti in range(T):
                ref_tp = bool(e["dtMatches"][ti, j]) and not bool(e["dtIgnore"][ti, j])
                assert bool(tp[i, ti * A + a]) == ref_tp
                assert bool(ign[i, ti * A + a]) == bool(e["dtIgnore"][ti, j])
                checked += 1
    assert checked > 0
