"""Reference numbers from lvis-api 0.5.3 for the LVIS differential tests, and the comparison.

Only the public lvis-api classes are driven here (LVIS, LVISResults, LVISEval); the
evaluation logic itself is not reimplemented.  lvis-api rewrites what it is given
(results get 'id', 'area', 'segmentation'; GT dicts get 'ignore', '_ignore',
'segmentation'), so everything handed to it is deep-copied first and callers can give
the very same objects to the engine afterwards.

lvis-api 0.5.3 predates numpy 2: its ``accumulate`` uses the removed ``np.float``
alias, which is restored (as the builtin ``float``) before lvis is imported.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import tempfile
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from _compare import array_mismatches
import pytest

if not hasattr(np, "float"):
    np.float = float  # type: ignore[attr-defined]  # lvis-api 0.5.3 (accumulate) needs the numpy<1.24 alias

from lvis import LVIS, LVISEval, LVISResults  # noqa: E402

ATOL = 1e-12
LVIS_AP_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf")


def lvis_stat_keys(max_dets: int = 300) -> List[str]:
    """lvis-api's ``results`` keys, in order."""
    return list(LVIS_AP_KEYS) + [f"AR@{max_dets}", f"ARs@{max_dets}", f"ARm@{max_dets}", f"ARl@{max_dets}"]


@contextlib.contextmanager
def _quiet():
    """lvis-api logs at INFO and calls the deprecated ``Logger.warn``: silence both."""
    logger = logging.getLogger("lvis")
    old_level, old_prop = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old_level)
        logger.propagate = old_prop


def _load_json_if_path(obj):
    if isinstance(obj, (str, os.PathLike)):
        with open(obj) as f:
            return json.load(f)
    return obj


def lvis_gt(gt) -> LVIS:
    """An ``LVIS`` object; it only reads from a path, so a dict is written to a temporary file."""
    if isinstance(gt, (str, os.PathLike)):
        with _quiet():
            return LVIS(str(gt))
    fd, path = tempfile.mkstemp(suffix=".json", prefix="lvis_gt_")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(gt, f)
        with _quiet():
            return LVIS(path)
    finally:
        os.unlink(path)


def lvis_results(gt_api: LVIS, preds, max_dets: int = 300) -> LVISResults:
    """``LVISResults(gt, deepcopy(preds), max_dets)``.

    lvis-api cannot load an empty results list (it inspects ``results[0]``); an empty
    result set is built as an ``LVISResults`` holding the GT's images and categories
    and no annotations, which is what the constructor would produce otherwise.
    """
    preds = copy.deepcopy(_load_json_if_path(preds))
    with _quiet():
        if len(preds) == 0:
            res = LVISResults.__new__(LVISResults)
            res.logger = logging.getLogger("lvis.results")
            res.dataset = copy.deepcopy(gt_api.dataset)
            res.dataset["annotations"] = []
            res._create_index()
            return res
        return LVISResults(gt_api, preds, max_dets=max_dets)


def run_lvis_api(
    gt,
    preds,
    iou_type: str = "bbox",
    *,
    max_dets: int = 300,
    iou_thrs: Optional[Sequence[float]] = None,
    area_ranges: Optional[Sequence[Sequence[float]]] = None,
    img_ids: Optional[Sequence[int]] = None,
    cat_ids: Optional[Sequence[int]] = None,
    gt_api: Optional[LVIS] = None,
    capture_print: bool = False,
) -> Dict[str, Any]:
    """Evaluate with lvis-api; returns ``stats_dict`` (its ``results``), ``precision``, ``recall``
    and, with ``capture_print``, the ``print_results`` lines.

    ``max_dets`` is given to ``LVISResults`` (the per-image cut) and set on ``params.max_dets``
    (which only names the AR keys and the printed maxDets; the constructor leaves it at 300).
    ``iou_thrs`` / ``area_ranges`` (4 [lo, hi] pairs, all/small/medium/large) / ``img_ids`` /
    ``cat_ids`` are set on ``ev.params`` before ``run()`` (the constructor does not take them).
    ``gt_api`` lets a caller reuse an already loaded ``LVIS`` (it is deep-copied here).
    """
    if gt_api is None:
        gt_api = lvis_gt(_load_json_if_path(gt))
    else:
        gt_api = copy.deepcopy(gt_api)
    dt_api = lvis_results(gt_api, preds, max_dets=max_dets)
    out = io.StringIO()
    with _quiet(), contextlib.redirect_stdout(out):
        ev = LVISEval(gt_api, dt_api, iou_type)
        p = ev.params
        p.max_dets = int(max_dets)
        if iou_thrs is not None:
            p.iou_thrs = np.asarray(list(iou_thrs), dtype=np.float64)
        if area_ranges is not None:
            p.area_rng = [[float(lo), float(hi)] for lo, hi in area_ranges]
        if img_ids is not None:
            p.img_ids = list(img_ids)
        if cat_ids is not None:
            p.cat_ids = sorted(int(c) for c in cat_ids)
        ev.run()
        results = ev.get_results()
    ref = {
        "stats_dict": {k: float(v) for k, v in results.items()},
        "precision": np.array(ev.eval["precision"], dtype=np.float64),
        "recall": np.array(ev.eval["recall"], dtype=np.float64),
        "freq_groups": [list(g) for g in ev.freq_groups],
        "cat_ids": list(ev.params.cat_ids),
    }
    if capture_print:
        buf = io.StringIO()
        with _quiet(), contextlib.redirect_stdout(buf):
            ev.print_results()
        ref["printed"] = buf.getvalue().splitlines()
    return ref


def run_engine_lvis(gt, preds, metric: str = "bbox", protocol: Optional[str] = "lvis", **params):
    """``evaluators.evaluate`` on deep copies, CPU; ``None`` params are left out
    (``protocol=None`` is passed on: it asks for auto-detection)."""
    from evaluators import evaluate  # imported lazily: generator-only tests run without it

    kwargs = {k: v for k, v in params.items() if v is not None}
    return evaluate(copy.deepcopy(gt), copy.deepcopy(preds), metric=metric, device="cpu", protocol=protocol,
                    **kwargs)


def lvis_mismatches(res, ref) -> List[str]:
    """Human-readable list of every difference between an engine result and the lvis-api reference."""
    out = []
    stats = getattr(res, "stats", None)
    if not isinstance(stats, dict):
        return [f"res.stats is {type(stats).__name__}, expected dict"]
    if list(stats) != list(ref["stats_dict"]):
        out.append(f"stat keys: ours={list(stats)} ref={list(ref['stats_dict'])}")
    for k, v in ref["stats_dict"].items():
        if k not in stats:
            out.append(f"stat {k}: missing (ref={v!r})")
            continue
        o = float(stats[k])
        if not abs(o - v) <= ATOL:
            out.append(f"stat {k}: ours={o!r} ref={v!r} diff={o - v!r}")
    out.extend(array_mismatches(res, ref, ("precision", "recall")))
    return out


def assert_same_lvis(res, ref, ctx: str = "") -> None:
    probs = lvis_mismatches(res, ref)
    if probs:
        pytest.fail(f"{ctx}: {len(probs)} mismatch(es) vs lvis-api\n  " + "\n  ".join(probs), pytrace=False)


def check_lvis(gt, preds, metric: str = "bbox", ctx: str = "", *, max_dets: Optional[int] = None,
               iou_thrs=None, area_ranges=None, img_ids=None, cat_ids=None, protocol: Optional[str] = "lvis"):
    """Evaluate with the engine and lvis-api and require identical stats and arrays; returns both."""
    ref = run_lvis_api(gt, preds, metric, max_dets=300 if max_dets is None else max_dets, iou_thrs=iou_thrs,
                       area_ranges=area_ranges, img_ids=img_ids, cat_ids=cat_ids)
    res = run_engine_lvis(gt, preds, metric, max_dets=max_dets, iou_thrs=iou_thrs, area_ranges=area_ranges,
                          img_ids=img_ids, cat_ids=cat_ids, protocol=protocol)
    assert_same_lvis(res, ref, ctx or metric)
    return res, ref
