"""Exact comparison of an engine result against the pycocotools reference."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from reference import reference_stats

ATOL = 1e-12


def run_engine(gt, preds, metric, **params):
    from evaluators import evaluate  # imported lazily: generator-only tests run without it

    kwargs = {k: v for k, v in params.items() if v is not None}
    return evaluate(copy.deepcopy(gt), copy.deepcopy(preds) if not isinstance(preds, np.ndarray) else preds.copy(),
                    metric=metric, device="cpu", **kwargs)


def mismatches(res, ref) -> list:
    """Human-readable list of every difference between ``res`` and ``ref``."""
    out = []
    stats = getattr(res, "stats", None)
    if not isinstance(stats, dict):
        return [f"res.stats is {type(stats).__name__}, expected dict"]
    for k, v in ref["stats_dict"].items():
        if k not in stats:
            out.append(f"stat {k}: missing (ref={v!r}); ours has keys {sorted(stats)}")
            continue
        try:
            o = float(stats[k])
        except Exception as e:  # pragma: no cover - reported as a mismatch
            out.append(f"stat {k}: not a number ({e!r})")
            continue
        if not abs(o - v) <= ATOL:
            out.append(f"stat {k}: ours={o!r} ref={v!r} diff={o - v!r}")
    out.extend(array_mismatches(res, ref, ("precision", "recall", "scores")))
    return out


def array_mismatches(res, ref, names) -> list:
    """Differences between ``res.<name>`` and ``ref[name]`` arrays: shape, the -1 pattern, |diff| > ATOL."""
    out = []
    for name in names:
        b = ref[name]
        a = getattr(res, name, None)
        if a is None:
            out.append(f"{name}: missing")
            continue
        a = np.asarray(a, dtype=np.float64)
        if a.shape != b.shape:
            out.append(f"{name}: shape ours={a.shape} ref={b.shape}")
            continue
        bad = ~(np.abs(a - b) <= ATOL)  # NaN counts as a difference
        bad |= (a == -1) != (b == -1)
        if bad.any():
            idx = [tuple(int(i) for i in ix) for ix in np.argwhere(bad)[:4]]
            detail = ", ".join(f"{ix}: ours={a[ix]!r} ref={b[ix]!r}" for ix in idx)
            out.append(f"{name}: {int(bad.sum())}/{bad.size} entries differ; e.g. {detail}")
        else:
            # belt and braces: the documented criterion
            np.testing.assert_allclose(a, b, atol=ATOL, rtol=0)
    return out


def assert_same(res, ref, ctx: str = "") -> None:
    probs = mismatches(res, ref)
    if probs:
        pytest.fail(f"{ctx}: {len(probs)} mismatch(es) vs pycocotools\n  " + "\n  ".join(probs), pytrace=False)


def check(gt, preds, metric: str, ctx: str = "", ref_preds=None, **params) -> None:
    """Evaluate with the engine and pycocotools and require identical results.

    ``ref_preds`` lets the reference use a different (equivalent) form of the
    predictions, e.g. the engine gets a path while pycocotools gets the list.
    """
    ref = reference_stats(gt, preds if ref_preds is None else ref_preds, metric, **params)
    res = run_engine(gt, preds, metric, **params)
    assert_same(res, ref, ctx or metric)
