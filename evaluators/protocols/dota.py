"""DOTA Task1 protocols: what the devkit v1.0 / v1.5 scripts and mmrotate's ``eval_rbbox_map`` decide.

=============  ===========================  ===================  =====================
protocol       match                        difficult GT         mAP is the mean over
=============  ===========================  ===================  =====================
dota-v1.0      polygon IoU > t (polyiou)    ignored              all requested classes
dota-v1.5      polygon IoU > t (polyiou)    counted              all requested classes
mmrotate       rectangle IoU >= t           counted              classes with GT
=============  ===========================  ===================  =====================

The devkit's classes without ground truth get AP 0 with 11 points and NaN with the area rule (which
makes its mean NaN); both are reported as 0 and flagged (``no_gt``). mmrotate evaluates rotated boxes:
ground-truth quadrilaterals become their minimum-area rectangles (those with a side under 2 px are
dropped, as mmrotate 0.x's ``poly2obb_np``), detections given as polygons too; its precision and 11-point
sum are float32. That mode follows mmrotate's rules but is not verified bit-exact against mmcv.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from ..data.dota import DOTA_V15_CLASSES, DOTA_V1_CLASSES
from ..errors import ParameterError
from ..kernels.rbox import poly_to_rbox, rbox_to_poly

EVAL_MODES = ("11points", "area")


@dataclass(frozen=True)
class DotaProtocol:
    """The rules of one DOTA protocol (see the module table)."""

    name: str
    default_classes: Tuple[str, ...]
    ignore_difficult: bool
    strict: bool
    rectangles: bool
    mean_over_all: bool
    float32: bool
    devkit_prefilter: bool

    def describe(self, eval_mode: str, iou_thr: float, n_classes: int) -> str:
        """One line naming the rules in force."""
        iou = f"rectangle IoU >= {iou_thr:g}" if self.rectangles else f"polygon IoU > {iou_thr:g}"
        diff = "difficult ignored" if self.ignore_difficult else "difficult counted"
        ap = "11-point AP" if eval_mode == "11points" else "area AP"
        mean = f"mean over {n_classes} classes" if self.mean_over_all else "mean over classes with ground truth"
        return f"DOTA Task1, {self.name} rules: {iou}, {diff}, {ap}, {mean}"


PROTOCOLS: Dict[str, DotaProtocol] = {
    "dota-v1.0": DotaProtocol("dota-v1.0", DOTA_V1_CLASSES, True, True, False, True, False, True),
    "dota-v1.5": DotaProtocol("dota-v1.5", DOTA_V15_CLASSES, False, True, False, True, False, True),
    "mmrotate": DotaProtocol("mmrotate", DOTA_V1_CLASSES, False, False, True, False, True, False),
}


def get_protocol(name: str, eval_mode: str) -> DotaProtocol:
    """The protocol called ``name``; checks ``eval_mode`` too."""
    if name not in PROTOCOLS:
        raise ParameterError(f"Expected `protocol` for rotated evaluation to be one of {', '.join(PROTOCOLS)} but got {name!r}.")
    if eval_mode not in EVAL_MODES:
        raise ParameterError(f"Expected `eval_mode` to be one of {', '.join(EVAL_MODES)} but got {eval_mode!r}.")
    return PROTOCOLS[name]


def min_area_rectangles(polys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Minimum-area rectangles of quadrilaterals as polygons, and which have both sides >= 2 px."""
    if polys.shape[0] == 0:
        return polys, np.zeros(0, bool)
    rb = poly_to_rbox(polys, "le90")
    return rbox_to_poly(rb, "le90"), (rb[:, 2] >= 2) & (rb[:, 3] >= 2)


def class_rows(proto: DotaProtocol, names, ap: np.ndarray, npos: np.ndarray, n_gt: np.ndarray,
               n_dets: np.ndarray) -> Tuple[float, List[dict]]:
    """The mAP and one row per class (AP 0 and ``no_gt`` where the class has no counted ground truth)."""
    rows = []
    for k, name in enumerate(names):
        no_gt = bool(npos[k] == 0)
        value = 0.0 if no_gt or not np.isfinite(ap[k]) else float(ap[k])
        rows.append({"id": k + 1, "name": name, "AP": value, "n_gt": int(npos[k]),
                     "n_ignored": int(n_gt[k] - npos[k]), "n_dets": int(n_dets[k]), "no_gt": no_gt})
    if proto.mean_over_all:
        values = [r["AP"] for r in rows]
        m = 0.0
        for v in values:  # the devkit's running sum, then / count
            m = m + v
        return (m / len(values) if values else 0.0), rows
    values = np.asarray([r["AP"] for r in rows if not r["no_gt"]], np.float32)
    return (float(values.mean()) if values.size else 0.0), rows


def summary_lines(proto: DotaProtocol, eval_mode: str, iou_thr: float, mean_ap: float, rows: List[dict]) -> List[str]:
    """The printed report: rules, one line per class, the mAP and what was flagged."""
    lines = [proto.describe(eval_mode, iou_thr, len(rows))]
    width = max([len(r["name"]) for r in rows] + [5])
    for r in rows:
        flag = "  (no ground truth: counts as 0)" if r["no_gt"] and proto.mean_over_all else \
               ("  (no ground truth: not in the mean)" if r["no_gt"] else "")
        lines.append(f"  {r['name']:<{width}}  AP {r['AP']:.4f}  gt {r['n_gt']:>6}  dets {r['n_dets']:>7}{flag}")
    lines.append(f"  {'mAP':<{width}}  {mean_ap:.4f}")
    return lines
