"""PASCAL VOC protocols: what the VOC devkit's ``voc_eval`` (its numpy port in detectron2 and
py-faster-rcnn) decides, with ``use_07_metric`` True (``voc07``) or False (``voc12``).

========  ==================================  ==============  ===================================
protocol  match                               difficult GT    AP
========  ==================================  ==============  ===================================
voc07     box IoU > t (devkit +1 convention)  ignored         11-point (VOC2007 devkit)
voc12     box IoU > t (devkit +1 convention)  ignored         area under the precision envelope
========  ==================================  ==============  ===================================

Rules shared with the DOTA devkit (a copy of ``voc_eval``; same engine, :mod:`..engine.voc_pipeline`): per
class over all images, detections in descending score order (ties: input order, a stable sort; the
devkit's ``np.argsort`` is unstable), each looks at its best ground truth (highest IoU, first in file
order among equal ones) whether taken or not; IoU strictly above the threshold: difficult -> ignored
(neither TP nor FP), free -> TP, taken -> FP; otherwise FP. ``rec = tp / npos``,
``prec = tp / max(tp + fp, eps)``; 11-point AP over the float64 thresholds ``np.arange(0., 1.1, 0.1)``
with ``rec >= t``; the area AP with sentinels (0, 0) and (1, 0).

A class without non-difficult ground truth (npos = 0) has no AP: ``voc_eval`` divides by zero there
(11-point AP 0 with a RuntimeWarning, area AP NaN). We report it as undefined (-1 in ``per_class``,
``null`` in JSON, flagged ``no_gt``) and take the mAP over the classes that have ground truth, as
mmdetection's ``eval_map`` does; on VOC itself every class has ground truth, so this is the devkit's mean.
With several IoU thresholds ``mAP`` is the mean over thresholds of the per-threshold mAPs (detectron2's
``AP``) and ``AP50``, ``AP75``, ... hold each threshold's mAP.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..errors import ParameterError
from ..engine.voc_pipeline import VocRules

UNDEFINED = -1.0


@dataclass(frozen=True)
class VocProtocol:
    """The rules of one VOC protocol (see the module table)."""

    name: str
    eval_mode: str
    title: str

    @property
    def rules(self) -> VocRules:
        """The engine's rules: strict ``IoU > t``, this protocol's AP, float64 arithmetic."""
        return VocRules(strict=True, eval_mode=self.eval_mode, float32=False)

    def describe(self, thresholds: Sequence[float], n_classes: int, n_with_gt: int) -> str:
        """One line naming the rules in force."""
        iou = " and ".join(f"{t:g}" for t in thresholds)
        ap = "11-point AP" if self.eval_mode == "11points" else "area AP"
        return (f"PASCAL {self.title} rules: box IoU > {iou} (devkit +1 convention), difficult ignored, {ap}, "
                f"mean over the {n_with_gt} of {n_classes} classes with ground truth")


PROTOCOLS: Dict[str, VocProtocol] = {
    "voc07": VocProtocol("voc07", "11points", "VOC2007"),
    "voc12": VocProtocol("voc12", "area", "VOC2010+"),
}


def get_protocol(name: str) -> VocProtocol:
    """The protocol called ``name``."""
    if name not in PROTOCOLS:
        raise ParameterError(f"Expected a VOC `protocol` ({', '.join(PROTOCOLS)}) but got {name!r}.")
    return PROTOCOLS[name]


def check_thresholds(iou_thrs: Sequence[float]) -> Tuple[float, ...]:
    """IoU thresholds as floats: non-empty, in [0, 1], no repeats."""
    try:
        thrs = tuple(float(t) for t in iou_thrs)
    except (TypeError, ValueError):
        raise ParameterError(f"Expected `iou_thrs` to be numbers but got {iou_thrs!r}.") from None
    if not thrs or not all(0.0 <= t <= 1.0 for t in thrs):
        raise ParameterError(f"Expected `iou_thrs` to be a non-empty list of numbers in [0, 1] but got {iou_thrs!r}.",
                             fix="use e.g. 0.5 (VOC), or 0.5,0.75.")
    if len(set(thrs)) != len(thrs):
        raise ParameterError(f"`iou_thrs` repeats a value: {iou_thrs!r}.", fix="give each threshold once.")
    return thrs


def threshold_key(t: float) -> str:
    """``AP50`` for 0.5, ``AP75`` for 0.75, ``AP52.5`` for 0.525."""
    return f"AP{round(t * 100, 6):g}"


def class_rows(names: Sequence[str], cat_ids: Sequence[int], thresholds: Sequence[float], ap: np.ndarray,
               npos: np.ndarray, n_gt: np.ndarray, n_dets: np.ndarray) -> Tuple[Dict[str, float], List[dict]]:
    """The stats (``mAP`` and one ``AP<t>`` per threshold) and one row per class; ``ap`` is (T, K)."""
    has_gt = np.asarray(npos) > 0
    per_thr = []
    for t in range(len(thresholds)):
        values = [float(ap[t, k]) for k in range(len(names)) if has_gt[k]]
        total = 0.0
        for v in values:  # running sum, then / count
            total = total + v
        per_thr.append(total / len(values) if values else UNDEFINED)
    stats = {"mAP": _mean(per_thr) if has_gt.any() else UNDEFINED}
    stats.update({threshold_key(t): v for t, v in zip(thresholds, per_thr)})
    rows = []
    for k, name in enumerate(names):
        row = {"id": int(cat_ids[k]), "name": name,
               "AP": _mean([float(ap[t, k]) for t in range(len(thresholds))]) if has_gt[k] else UNDEFINED}
        if len(thresholds) > 1:
            row.update({threshold_key(t): (float(ap[i, k]) if has_gt[k] else UNDEFINED)
                        for i, t in enumerate(thresholds)})
        row.update({"n_gt": int(npos[k]), "n_ignored": int(n_gt[k] - npos[k]), "n_dets": int(n_dets[k]),
                    "no_gt": not bool(has_gt[k])})
        rows.append(row)
    return stats, rows


def _mean(values: Sequence[float]) -> float:
    total = 0.0
    for v in values:
        total = total + v
    return total / len(values)


def summary_lines(proto: VocProtocol, thresholds: Sequence[float], stats: Dict[str, float],
                  rows: List[dict]) -> List[str]:
    """The printed report: rules, one line per class, the mAP (and each threshold's) and what was flagged."""
    n_with = sum(1 for r in rows if not r["no_gt"])
    lines = [proto.describe(thresholds, len(rows), n_with)]
    width = max([len(r["name"]) for r in rows] + [5])
    keys = [threshold_key(t) for t in thresholds] if len(thresholds) > 1 else []
    for r in rows:
        if r["no_gt"]:
            lines.append(f"  {r['name']:<{width}}  AP    -     gt {r['n_gt']:>6}  dets {r['n_dets']:>7}"
                         f"  (no ground truth: not in the mean)")
            continue
        extra = "".join(f"  {k} {r[k]:.4f}" for k in keys)
        lines.append(f"  {r['name']:<{width}}  AP {r['AP']:.4f}  gt {r['n_gt']:>6}  dets {r['n_dets']:>7}{extra}")
    m = stats["mAP"]
    lines.append(f"  {'mAP':<{width}}  {m:.4f}" if m != UNDEFINED else f"  {'mAP':<{width}}  -  (no class has ground truth)")
    if keys:
        lines.append("  " + "  ".join(f"{k} {stats[k]:.4f}" for k in keys if stats[k] != UNDEFINED))
    return lines
