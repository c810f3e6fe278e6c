"""Independent plain-Python reference of the DOTA_devkit Task1 evaluation and result merge.

Written from the behaviour of CAPTAIN-WHU/DOTA_devkit @ 99388551 (``polyiou.cpp``,
``dota_evaluation_task1.py``, ``dota-v1.5_evaluation_task1.py``,
``ResultMerge_multi_process.py``) as described in ``shared/docs/dota.md`` sections 2-3;
no devkit code is reused.  Used by the differential tests only (numpy, no torch, no shapely).

* ``polyiou_ref``  - the devkit polygon IoU, same float64 operation order, so the result is
  bit-identical to the C++ extension (checked in ``test_dotaref.py`` when a build exists).
  It is not symmetric in rounding: a true IoU of 0.5 may come out as 0.5, or a few ulps
  above (a match under ``> 0.5``) or below, depending on position and argument order.
  ``polyiou_undefined`` flags the rare near-degenerate pairs where the C++ reads
  uninitialised memory (no defined reference value exists there).
* ``voc_eval_ref`` - ``voc_eval`` for one class, with a stable sort (ties in file order),
  ``ap == 0.0`` for an empty detection list (the devkit crashes) and the devkit's result when
  the class has no positive GT (11-point: 0.0, area: nan).
* ``merge_ref``    - ``mergesingle`` + ``py_cpu_nms_poly_fast`` on the lines of one Task1 file,
  with a stable NMS order (descending score, ties in input order).

``read_label_file`` / ``read_gt_folder`` / ``read_task1_file`` parse files with the devkit rules.

Data layout shared with ``dotagen``:
  gt   = {image_name: [(poly8, classname, difficulty), ...]}
  dets = [(image_name, score, poly8), ...]   (one class, file order)
"""
from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

Poly = Sequence[float]
GT = Dict[str, List[Tuple[List[float], str, int]]]
Dets = List[Tuple[str, float, List[float]]]

_EPS = 1e-8          # tolerance of the C++ sign function
_BUF_LEN = 51        # size of the C++ scratch buffer of cut points
_UNSET = (math.nan, math.nan)   # a scratch slot never written during this IoU call
_FLAG = _BUF_LEN     # extra slot of the scratch list: True once an unset slot was used


# ----------------------------------------------------------------------------------------
# polygon IoU (port of the algorithm of polyiou.cpp)
# ----------------------------------------------------------------------------------------

def _sgn(v: float) -> int:
    """Three-way sign with the +-1e-8 dead band (NaN -> 0)."""
    return (v > _EPS) - (v < -_EPS)


def _same_pt(u, v) -> bool:
    """Point equality within the sign dead band."""
    return _sgn(u[0] - v[0]) == 0 and _sgn(u[1] - v[1]) == 0


def _shoelace(pts) -> float:
    """Signed area: running sum of x_i*y_(i+1) - y_i*x_(i+1), halved at the end."""
    total = 0.0
    n = len(pts)
    for k in range(n):
        u, v = pts[k], pts[(k + 1) % n]
        total += u[0] * v[1] - u[1] * v[0]
    return total / 2.0


def _clip_left(poly: list, a, b, buf: list) -> list:
    """Keep the part of ``poly`` left of a->b; ``buf`` plays the C++ scratch array.

    A vertex is emitted when strictly left; a crossing point whenever the signs of two
    consecutive vertices differ (0 included).  When the crossing cannot be computed
    (|s2 - s1| within the dead band; both-zero cannot occur as the signs differ) the slot
    keeps whatever an earlier cut of the same IoU call left there, as in the C++; if it was
    never written the C++ reads uninitialised stack memory, recorded in ``buf[_FLAG]``.
    Cross products are written out in the C++ operation order.
    """
    n = len(poly)
    if n == 0:
        return []
    ax, ay = a
    ex, ey = b[0] - ax, b[1] - ay
    crs = [ex * (y - ay) - (x - ax) * ey for x, y in poly]
    sgs = [(v > _EPS) - (v < -_EPS) for v in crs]
    crs.append(crs[0])
    sgs.append(sgs[0])
    m = 0
    for k in range(n):
        if sgs[k] > 0:
            buf[m] = poly[k]
            m += 1
        if sgs[k] != sgs[k + 1]:
            s1, s2 = crs[k], crs[k + 1]
            den = s2 - s1
            if den > _EPS or den < -_EPS:
                c, d = poly[k], poly[(k + 1) % n]
                buf[m] = ((c[0] * s2 - d[0] * s1) / den, (c[1] * s2 - d[1] * s1) / den)
            elif buf[m] is _UNSET:
                buf[_FLAG] = True
            m += 1
    out = [buf[0]] if m else []
    for k in range(1, m):
        if not _same_pt(buf[k], buf[k - 1]):
            out.append(buf[k])
    while len(out) > 1 and _same_pt(out[-1], out[0]):
        out.pop()
    return out


def _tri_overlap(a, b, c, d, buf: list) -> float:
    """Signed area of triangle(O,a,b) & triangle(O,c,d), O the origin; sign = product of orientations."""
    s1 = _sgn(a[0] * b[1] - b[0] * a[1])
    s2 = _sgn(c[0] * d[1] - d[0] * c[1])
    if s1 == 0 or s2 == 0:
        return 0.0
    if s1 == -1:
        a, b = b, a
    if s2 == -1:
        c, d = d, c
    o = (0.0, 0.0)
    piece = _clip_left([o, a, b], o, c, buf)
    piece = _clip_left(piece, c, d, buf)
    piece = _clip_left(piece, d, o, buf)
    val = abs(_shoelace(piece))
    return -val if s1 * s2 == -1 else val


def _c_div(num: float, den: float) -> float:
    """IEEE float64 division (inf / nan on a zero denominator, as in C)."""
    try:
        return num / den
    except ZeroDivisionError:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(num) / np.float64(den))


def _as_points(poly: Poly) -> list:
    """First 8 numbers -> 4 (x, y) float tuples, re-ordered to a non-negative shoelace area."""
    pts = [(float(poly[2 * k]), float(poly[2 * k + 1])) for k in range(4)]
    if _shoelace(pts) < 0:
        pts.reverse()
    return pts


def _polyiou_run(p: Poly, q: Poly):
    """(IoU, touched_uninitialised) - the devkit algorithm plus the undefined-read flag."""
    pp, qq = _as_points(p), _as_points(q)
    buf = [_UNSET] * _BUF_LEN + [False]
    inter = 0.0
    for i in range(4):
        for j in range(4):
            inter += _tri_overlap(pp[i], pp[(i + 1) % 4], qq[j], qq[(j + 1) % 4], buf)
    union = abs(_shoelace(pp)) + abs(_shoelace(qq)) - inter
    return _c_div(inter, union), buf[_FLAG]


def polyiou_ref(p: Poly, q: Poly) -> float:
    """Polygon IoU of two quadrilaterals (8 numbers each), bit-identical to devkit ``iou_poly(p, q)``.

    The intersection is the sum over edge pairs of signed triangle overlaps against the
    origin; the union uses the net shoelace areas, so bow-ties follow the C++ semantics.
    Where ``polyiou_undefined(p, q)`` is True the C++ result depends on uninitialised
    memory; this function then returns a deterministic value (the unset point is NaN).
    """
    return _polyiou_run(p, q)[0]


def polyiou_undefined(p: Poly, q: Poly) -> bool:
    """True when the C++ ``iou_poly(p, q)`` reads an uninitialised cut point (near-degenerate cuts).

    Happens only when a crossing lies within ~1e-8 of a clipping line with both cross
    products inside the dead band (sub-pixel-scale geometry); such pairs cannot be compared.
    """
    return _polyiou_run(p, q)[1]


@functools.lru_cache(maxsize=1 << 18)
def _iou_cached(p: tuple, q: tuple) -> float:
    """``polyiou_ref`` memoised on exact float tuples (the result depends on the values only)."""
    return polyiou_ref(p, q)


def _iou(p, q) -> float:
    """``polyiou_ref(p, q)`` through the cache."""
    return _iou_cached(tuple(float(v) for v in p[:8]), tuple(float(v) for v in q[:8]))


# ----------------------------------------------------------------------------------------
# Task1 evaluation (voc_eval)
# ----------------------------------------------------------------------------------------

def _hbb(boxes: np.ndarray):
    """(xmin, ymin, xmax, ymax) of (n, 8) polygons."""
    return (boxes[:, 0::2].min(axis=1), boxes[:, 1::2].min(axis=1),
            boxes[:, 0::2].max(axis=1), boxes[:, 1::2].max(axis=1))


def _gt_candidates(gt_boxes: np.ndarray, det: np.ndarray) -> np.ndarray:
    """Indices of GT whose +1-pixel HBB IoU with the detection is > 0 (the devkit prefilter)."""
    gx1, gy1, gx2, gy2 = _hbb(gt_boxes)
    dx1, dy1, dx2, dy2 = det[0::2].min(), det[1::2].min(), det[0::2].max(), det[1::2].max()
    iw = np.maximum(np.minimum(gx2, dx2) - np.maximum(gx1, dx1) + 1.0, 0.0)
    ih = np.maximum(np.minimum(gy2, dy2) - np.maximum(gy1, dy1) + 1.0, 0.0)
    inter = iw * ih
    union = (dx2 - dx1 + 1.0) * (dy2 - dy1 + 1.0) + (gx2 - gx1 + 1.0) * (gy2 - gy1 + 1.0) - inter
    return np.where(inter / union > 0)[0]


def voc_ap_ref(rec: np.ndarray, prec: np.ndarray, use_07_metric: bool = True) -> float:
    """VOC07 11-point AP (float64 np.arange thresholds) or the VOC2010+ area under the envelope."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            reach = rec >= t
            p = np.max(prec[reach]) if reach.any() else 0
            ap = ap + p / 11.0
        return float(ap)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.maximum.accumulate(np.concatenate(([0.0], prec, [0.0]))[::-1])[::-1]
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def _class_gt(gt: GT, classname: str, count_difficult: bool):
    """Per image [boxes (n,8), difficult mask, matched flags] for one class, and npos."""
    table, npos = {}, 0
    for name, objs in gt.items():
        sel = [o for o in objs if o[1] == classname]
        boxes = np.array([[float(v) for v in o[0][:8]] for o in sel], dtype=np.float64).reshape(-1, 8)
        hard = np.array([0 if count_difficult else int(o[2]) for o in sel], dtype=np.int64).astype(bool)
        npos += int(np.sum(~hard))
        table[name] = [boxes, hard, [False] * len(sel)]
    return table, npos


def voc_eval_ref(gt: GT, dets: Dets, classname: str, ovthresh: float = 0.5,
                 use_07_metric: bool = True, count_difficult: bool = False):
    """Devkit ``voc_eval`` for one class -> (rec, prec, ap); count_difficult=True is the v1.5 script.

    Stable descending sort (ties in file order); HBB +1 prefilter, argmax over candidates,
    match when IoU > ovthresh; difficult -> ignored, already matched -> FP; empty dets -> ap 0.0.
    """
    table, npos = _class_gt(gt, classname, count_difficult)
    if len(dets) == 0:
        return np.zeros(0), np.zeros(0), 0.0
    conf = np.array([float(d[1]) for d in dets], dtype=np.float64)
    order = np.argsort(-conf, kind="stable")
    tp, fp = np.zeros(len(dets)), np.zeros(len(dets))
    for rank, k in enumerate(order):
        name, _, poly = dets[k]
        boxes, hard, used = table[name]
        det = np.array([float(v) for v in poly[:8]], dtype=np.float64)
        best, jbest = -np.inf, -1
        if boxes.size > 0:
            cand = _gt_candidates(boxes, det)
            if len(cand) > 0:
                ious = [_iou(boxes[j], det) for j in cand]
                best, jbest = np.max(ious), cand[int(np.argmax(ious))]
        if best > ovthresh:
            if not hard[jbest]:
                if used[jbest]:
                    fp[rank] = 1.0
                else:
                    tp[rank], used[jbest] = 1.0, True
        else:
            fp[rank] = 1.0
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    with np.errstate(divide="ignore", invalid="ignore"):
        rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return rec, prec, voc_ap_ref(rec, prec, use_07_metric)


# ----------------------------------------------------------------------------------------
# tile merge (mergesingle + py_cpu_nms_poly_fast, stable order)
# ----------------------------------------------------------------------------------------

_OFFSET_RE = re.compile(r"__\d+___\d+")
_RATE_RE = re.compile(r"__([\d+\.]+)__\d+___")


def _tile_to_image(tokens: List[str]):
    """One split Task1 line -> (original name, 8 coords in image space, score)."""
    sub = tokens[0]
    xs, ys = re.findall(r"\d+", _OFFSET_RE.search(sub).group(0))[:2]
    dx, dy = int(xs), int(ys)
    rate = float(_RATE_RE.findall(sub)[0])
    vals = [float(t) for t in tokens[2:]]
    coords = [(v + (dx if k % 2 == 0 else dy)) / rate for k, v in enumerate(vals)]
    return sub.split("__")[0], coords, float(tokens[1])


def nms_poly_ref(polys: np.ndarray, scores: np.ndarray, thresh: float) -> List[int]:
    """Greedy polygon NMS as py_cpu_nms_poly_fast (HBB prefilter, suppress IoU > thresh), stable order."""
    x1, y1, x2, y2 = _hbb(polys)
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size > 0:
        i, rest = order[0], order[1:]
        keep.append(int(i))
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        ovr = inter / (areas[i] + areas[rest] - inter)
        for k in np.where(ovr > 0)[0]:
            ovr[k] = _iou(polys[i], polys[rest[k]])
        order = rest[np.where(ovr <= thresh)[0]]
    return keep


def merge_ref(lines: Sequence[str], nms_thresh: float = 0.1) -> List[str]:
    """Devkit merge of one class file's tile lines -> whole-image lines (no trailing newline).

    Images in order of first appearance, detections in NMS keep order; numbers written as repr.
    """
    groups: Dict[str, list] = {}
    for line in lines:
        name, coords, score = _tile_to_image(line.strip().split(" "))
        groups.setdefault(name, []).append(coords + [score])
    out = []
    for name, rows in groups.items():
        arr = np.array(rows, dtype=np.float64)
        for k in nms_poly_ref(arr[:, :8], arr[:, -1], nms_thresh):
            row = rows[k]
            out.append(name + " " + repr(row[-1]) + " " + " ".join(repr(v) for v in row[:-1]))
    return out


# ----------------------------------------------------------------------------------------
# file readers (devkit parsing rules)
# ----------------------------------------------------------------------------------------

def read_label_file(path) -> List[Tuple[List[float], str, int]]:
    """DOTA labelTxt -> [(poly8, class, difficulty)]; < 9 tokens skipped, difficulty only with 10 tokens."""
    objs = []
    with open(path, "r", encoding="utf-8") as fh:
        for line in fh:
            tok = line.strip().split(" ")
            if len(tok) < 9:
                continue
            diff = int(tok[9]) if len(tok) == 10 else 0
            objs.append(([float(t) for t in tok[:8]], tok[8], diff))
    return objs


def read_gt_folder(label_dir, imageset_file) -> GT:
    """GT of the images named (one per line, stripped) in ``imageset_file``, from ``label_dir/<name>.txt``."""
    with open(imageset_file, "r", encoding="utf-8") as fh:
        names = [ln.strip() for ln in fh.readlines()]
    return {n: read_label_file(Path(label_dir) / f"{n}.txt") for n in names}


def read_task1_file(path) -> Dets:
    """Task1 file -> [(image, score, poly8)] in file order (blank lines skipped; the devkit crashes on them)."""
    dets = []
    with open(path, "r", encoding="utf-8") as fh:
        for line in fh:
            tok = line.strip().split(" ")
            if tok == [""]:
                continue
            dets.append((tok[0], float(tok[1]), [float(t) for t in tok[2:]]))
    return dets
