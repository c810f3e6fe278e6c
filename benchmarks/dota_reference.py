"""A DOTA_devkit-style reference for the rotated benchmarks, written the way users run the devkit.

``python benchmarks/dota_reference.py eval LABELTXT TASK1 [IMAGESET]``
    DOTA-v1.0 Task1 evaluation in the manner of the devkit's ``dota_evaluation_task1.py``: one class at
    a time, the whole ``Task1_<class>.txt`` read, detections visited one by one in descending score order
    (a *stable* sort, so ties keep file order; the devkit's default sort is unstable), an HBB pre-filter
    with the +1 pixel convention, then the polygon IoU of every candidate pair from shapely
    (``Polygon(gt).intersection(Polygon(det)).area``; the devkit uses its polyiou C++ extension, which
    gives the same areas for simple polygons), a match when the best IoU is > 0.5 (strict), difficult
    GT neither TP nor FP, 11-point VOC07 AP with the float64 thresholds ``np.arange(0., 1.1, 0.1)``,
    and the mAP as the mean over the 15 DOTA-v1.0 classes. Images are the label files, or the names in
    IMAGESET; as in the devkit, a detection on an image outside them is an error (KeyError). Prints the AP
    table; the last stdout line is ``{"mAP": ..., "AP": {class: AP}}`` as JSON.

``python benchmarks/dota_reference.py merge TILE_TASK1 OUT``
    Merging in the manner of the devkit's ``ResultMerge_multi_process.mergebase`` with
    ``py_cpu_nms_poly_fast`` (serial): every ``Task1_<class>.txt`` on its own, the detections grouped by
    original image (``name.split('__')[0]``), shifted by the window offset (``__x___y``; the tiles are
    not resized, so no rate division), and a greedy NMS per image: descending score (stable sort), HBB
    pre-filter, shapely polygon IoU for the pairs whose HBBs overlap, suppression when IoU > 0.1.
    Writes ``OUT/Task1_<class>.txt`` like the devkit (``repr`` of floats); the last stdout line is
    ``{"detections_in": ..., "detections_out": ..., "per_class": {class: kept}}``.

This is written for the benchmark (no devkit code copied): plain Python loops and per-pair shapely
calls, deliberately not vectorised, because that is what the reference costs as people run it.
"""
from __future__ import annotations

import json
import os
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from shapely.geometry import Polygon

CLASSES: Tuple[str, ...] = (
    "plane", "baseball-diamond", "bridge", "ground-track-field", "small-vehicle", "large-vehicle", "ship",
    "tennis-court", "basketball-court", "storage-tank", "soccer-ball-field", "roundabout", "harbor",
    "swimming-pool", "helicopter",
)
OVTHRESH = 0.5
NMS_THRESH = 0.1
_OFFSET = re.compile(r"__(\d+)___(\d+)")


# --------------------------------------------------------------------------- evaluation


def parse_gt(path: str) -> List[dict]:
    """Objects of one labelTxt file: lines with fewer than 9 tokens (headers) are skipped."""
    objects = []
    with open(path) as fh:
        for line in fh:
            tokens = line.strip().split(" ")  # headers (imagesource:, gsd:) have fewer than 9 tokens
            if len(tokens) < 9:
                continue
            difficult = int(tokens[9]) if len(tokens) == 10 else 0
            objects.append({"name": tokens[8], "difficult": difficult, "bbox": [float(t) for t in tokens[:8]]})
    return objects


def poly_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two quadrilaterals ``x1 y1 ... x4 y4`` with shapely."""
    pa = Polygon([(a[0], a[1]), (a[2], a[3]), (a[4], a[5]), (a[6], a[7])])
    pb = Polygon([(b[0], b[1]), (b[2], b[3]), (b[4], b[5]), (b[6], b[7])])
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return inter / union if union > 0 else 0.0


def voc_ap_11(rec: np.ndarray, prec: np.ndarray) -> float:
    """VOC2007 11-point AP, thresholds as float64 ``np.arange(0., 1.1, 0.1)`` (0.30000000000000004, ...)."""
    total = 0.0
    for t in np.arange(0.0, 1.1, 0.1):
        reached = rec >= t  # NaN recall (no counted GT) reaches nothing
        total += (np.max(prec[reached]) if reached.any() else 0.0) / 11.0
    return total


def class_ap(task1_file: str, labels: Dict[str, List[dict]], images: List[str], classname: str) -> float:
    """AP of one class: every detection of the class file, visited one at a time by descending score."""
    gt_of: Dict[str, dict] = {}
    n_pos = 0
    for image in images:
        objs = [o for o in labels[image] if o["name"] == classname]
        hard = np.array([o["difficult"] != 0 for o in objs], dtype=bool)
        gt_of[image] = {"poly": np.array([o["bbox"] for o in objs], dtype=np.float64).reshape(-1, 8),
                        "hard": hard, "taken": [False] * len(objs)}
        n_pos += int((~hard).sum())

    rows = []
    with open(task1_file) as fh:
        for line in fh:
            if line.strip():
                rows.append(line.strip().split(" "))
    det_image = [r[0] for r in rows]
    det_score = np.array([float(r[1]) for r in rows], dtype=np.float64)
    det_poly = np.array([[float(v) for v in r[2:10]] for r in rows], dtype=np.float64).reshape(-1, 8)
    ranked = np.argsort(-det_score, kind="stable")  # ties keep file order

    is_tp = np.zeros(len(ranked))
    is_fp = np.zeros(len(ranked))
    for k, d in enumerate(ranked):
        g = gt_of[det_image[d]]
        poly = det_poly[d]
        best, best_j = -np.inf, -1
        if len(g["poly"]):
            gx, gy = g["poly"][:, 0::2], g["poly"][:, 1::2]
            dx, dy = poly[0::2], poly[1::2]
            # horizontal boxes, +1 pixel convention: only GT whose box overlaps get a polygon IoU
            w = np.maximum(np.minimum(gx.max(axis=1), dx.max()) - np.maximum(gx.min(axis=1), dx.min()) + 1.0, 0.0)
            h = np.maximum(np.minimum(gy.max(axis=1), dy.max()) - np.maximum(gy.min(axis=1), dy.min()) + 1.0, 0.0)
            inter = w * h
            union = ((dx.max() - dx.min() + 1.0) * (dy.max() - dy.min() + 1.0)
                     + (gx.max(axis=1) - gx.min(axis=1) + 1.0) * (gy.max(axis=1) - gy.min(axis=1) + 1.0) - inter)
            candidates = np.flatnonzero(inter / union > 0)
            if len(candidates):
                ious = [poly_iou(g["poly"][j], poly) for j in candidates]
                best = max(ious)
                best_j = int(candidates[ious.index(best)])  # first of equal maxima
        if best > OVTHRESH:
            if g["hard"][best_j]:
                continue  # matched a difficult object: neither TP nor FP
            if g["taken"][best_j]:
                is_fp[k] = 1.0
            else:
                g["taken"][best_j] = True
                is_tp[k] = 1.0
        else:
            is_fp[k] = 1.0

    tp = np.cumsum(is_tp)
    fp = np.cumsum(is_fp)
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = tp / float(n_pos)  # no counted GT: NaN recall, AP 0 (as the devkit)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap_11(rec, prec)


def evaluate(labeltxt: str, task1: str, imageset: Optional[str] = None) -> Tuple[float, Dict[str, float]]:
    """The mAP and per-class APs over the 15 DOTA-v1.0 classes."""
    if imageset:
        with open(imageset) as fh:
            imagenames = [x.strip() for x in fh if x.strip()]
    else:
        imagenames = sorted(p[:-4] for p in os.listdir(labeltxt) if p.endswith(".txt"))
    recs = {name: parse_gt(os.path.join(labeltxt, name + ".txt")) for name in imagenames}
    aps = {}
    for classname in CLASSES:
        ap = class_ap(os.path.join(task1, f"Task1_{classname}.txt"), recs, imagenames, classname)
        print(f"{classname:20s} AP {ap:.6f}", flush=True)
        aps[classname] = float(ap)
    mean_ap = sum(aps.values()) / len(aps)
    print(f"mAP {mean_ap:.6f}")
    return mean_ap, aps


# --------------------------------------------------------------------------- merge


def nms_poly(dets: np.ndarray, thresh: float) -> List[int]:
    """Greedy polygon NMS over rows ``x1 y1 ... y4 score``: suppress IoU > ``thresh``; kept rows by rank."""
    xs, ys = dets[:, 0:8:2], dets[:, 1:8:2]
    left, top, right, bottom = xs.min(axis=1), ys.min(axis=1), xs.max(axis=1), ys.max(axis=1)
    box_area = (right - left + 1) * (bottom - top + 1)
    shapes = [Polygon(list(zip(xs[i], ys[i]))) for i in range(len(dets))]
    remaining = np.argsort(-dets[:, 8], kind="stable")  # ties keep input order
    kept = []
    while remaining.size:
        best, rest = remaining[0], remaining[1:]
        kept.append(int(best))
        w = np.maximum(0.0, np.minimum(right[best], right[rest]) - np.maximum(left[best], left[rest]))
        h = np.maximum(0.0, np.minimum(bottom[best], bottom[rest]) - np.maximum(top[best], top[rest]))
        overlap = w * h / (box_area[best] + box_area[rest] - w * h)
        for k in np.flatnonzero(overlap > 0):  # boxes overlap: the polygon IoU decides
            inter = shapes[best].intersection(shapes[rest[k]]).area
            union = shapes[best].area + shapes[rest[k]].area - inter
            overlap[k] = inter / union if union > 0 else 0.0
        remaining = rest[overlap <= thresh]
    return kept


def merge_file(src: str, dst: str) -> Tuple[int, int]:
    """Merge one class file; returns (tile detections in, whole-image detections out)."""
    per_image: Dict[str, list] = {}  # original image -> rows, in order of first appearance
    n_in = 0
    with open(src) as fh:
        for line in fh:
            tokens = line.strip().split(" ")
            if len(tokens) < 10:
                continue
            n_in += 1
            tile = tokens[0]
            dx, dy = (int(v) for v in _OFFSET.search(tile).groups())
            coords = [float(v) for v in tokens[2:10]]
            shifted = [v + (dx if k % 2 == 0 else dy) for k, v in enumerate(coords)]
            per_image.setdefault(tile.split("__")[0], []).append(shifted + [float(tokens[1])])
    n_out = 0
    with open(dst, "w") as out:
        for image, rows in per_image.items():
            dets = np.array(rows)
            for i in nms_poly(dets, NMS_THRESH):
                out.write(" ".join([image, str(float(dets[i, 8]))] + [str(float(v)) for v in dets[i, :8]]) + "\n")
                n_out += 1
    return n_in, n_out


def merge(src: str, dst: str) -> dict:
    """Merge every ``Task1_*.txt`` of ``src`` into ``dst``."""
    os.makedirs(dst, exist_ok=True)
    summary = {"detections_in": 0, "detections_out": 0, "per_class": {}}
    for name in sorted(os.listdir(src)):
        if not (name.startswith("Task1_") and name.endswith(".txt")):
            continue
        n_in, n_out = merge_file(os.path.join(src, name), os.path.join(dst, name))
        print(f"{name[6:-4]:20s} {n_in} -> {n_out}", flush=True)
        summary["detections_in"] += n_in
        summary["detections_out"] += n_out
        summary["per_class"][name[6:-4]] = n_out
    return summary


def main(argv: List[str]) -> int:
    """``eval LABELTXT TASK1 [IMAGESET]`` or ``merge TILE_TASK1 OUT``; the result is the last stdout line."""
    if len(argv) in (3, 4) and argv[0] == "eval":
        mean_ap, aps = evaluate(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
        result = {"mAP": mean_ap, "AP": aps}
    elif len(argv) == 3 and argv[0] == "merge":
        result = merge(argv[1], argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
