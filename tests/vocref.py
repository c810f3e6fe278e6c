"""Independent plain-numpy reference of the PASCAL VOC devkit's Python ``voc_eval``.

Written for the tests from the behaviour of the numpy port that py-faster-rcnn introduced and detectron2
keeps (``detectron2/evaluation/pascal_voc_evaluation.py``: ``parse_rec``, ``voc_ap``, ``voc_eval``); no
code is copied. It deliberately stays a per-detection Python loop over numpy arrays, as the original:

* GT: per image, the objects of the class with their 1-based corners and ``difficult`` flags;
  ``npos`` counts the non-difficult ones over the image set.
* Detections of the class sorted by descending confidence. The original uses ``np.argsort(-conf)``, an
  unstable sort; here ties keep input order (``kind="stable"``), the order our evaluator declares.
* Each detection: IoU with every GT of its image and class, with the +1 pixel convention
  (``iw = max(min(x2) - max(x1) + 1, 0)``, areas ``(x2 - x1 + 1) * (y2 - y1 + 1)``), ``ovmax = max``,
  ``jmax = argmax``; ``ovmax > ovthresh``: difficult -> neither TP nor FP, unused -> TP, used -> FP;
  otherwise FP. A detection on an image outside the image set raises KeyError, as the original.
* ``rec = tp / npos``, ``prec = tp / max(tp + fp, eps)``; ``voc_ap`` with the 11 thresholds
  ``np.arange(0., 1.1, 0.1)`` (``use_07_metric``) or the envelope area with sentinels.
* ``npos == 0``: the original divides by zero; here the warning is silenced and the values are what
  numpy gives (11-point AP 0.0, area AP NaN).

Data layout (shared with ``vocgen``):
  recs = {image_name: [{"name", "difficult", "bbox": [xmin, ymin, xmax, ymax]}, ...]}  (image-set order)
  dets = [(image_name, score, [xmin, ymin, xmax, ymax]), ...]   (one class, input order)
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

Recs = Dict[str, List[dict]]
Dets = List[Tuple[str, float, Sequence[float]]]


def parse_rec(path) -> List[dict]:
    """Objects of one annotation XML: name, difficult (int) and integer corners (the original's ``int()``)."""
    tree = ET.parse(str(path))
    objects = []
    for obj in tree.findall("object"):
        box = obj.find("bndbox")
        objects.append({
            "name": obj.find("name").text,
            "difficult": int(obj.find("difficult").text),
            "bbox": [int(box.find(tag).text) for tag in ("xmin", "ymin", "xmax", "ymax")],
        })
    return objects


def read_imageset(path) -> List[str]:
    """Image names, one per line, stripped."""
    with open(path) as fh:
        return [line.strip() for line in fh.readlines()]


def read_recs(annopath: str, imagesetfile) -> Recs:
    """``{name: parse_rec(annopath.format(name))}`` for every name of the image set."""
    return {name: parse_rec(annopath.format(name)) for name in read_imageset(imagesetfile)}


def read_dets(path) -> Dets:
    """Lines ``image score xmin ymin xmax ymax`` of one detection file (a missing file: no detections)."""
    if not Path(path).exists():
        return []
    with open(path) as fh:
        rows = [line.strip().split(" ") for line in fh.readlines()]
    return [(r[0], float(r[1]), [float(v) for v in r[2:]]) for r in rows if r != [""]]


def voc_ap(rec: np.ndarray, prec: np.ndarray, use_07_metric: bool = False) -> float:
    """VOC07 11-point AP, or the VOC2010+ area under the monotone precision envelope."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            if np.sum(rec >= t) == 0:
                p = 0
            else:
                p = np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def voc_eval(recs: Recs, dets: Dets, classname: str, ovthresh: float = 0.5, use_07_metric: bool = False):
    """``voc_eval`` for one class -> (rec, prec, ap)."""
    class_recs = {}
    npos = 0
    for name, objects in recs.items():
        R = [o for o in objects if o["name"] == classname]
        bbox = np.array([o["bbox"] for o in R], dtype=np.float64).reshape(-1, 4)
        difficult = np.array([o["difficult"] for o in R]).astype(bool)
        npos = npos + sum(~difficult)
        class_recs[name] = {"bbox": bbox, "difficult": difficult, "det": [False] * len(R)}
    image_ids = [d[0] for d in dets]
    confidence = np.array([float(d[1]) for d in dets])
    BB = np.array([[float(v) for v in d[2]] for d in dets]).reshape(-1, 4)
    order = np.argsort(-confidence, kind="stable")
    BB = BB[order, :]
    image_ids = [image_ids[k] for k in order]
    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    with np.errstate(divide="ignore", invalid="ignore"):
        for d in range(nd):
            R = class_recs[image_ids[d]]
            bb = BB[d, :].astype(float)
            ovmax = -np.inf
            BBGT = R["bbox"].astype(float)
            if BBGT.size > 0:
                ixmin = np.maximum(BBGT[:, 0], bb[0])
                iymin = np.maximum(BBGT[:, 1], bb[1])
                ixmax = np.minimum(BBGT[:, 2], bb[2])
                iymax = np.minimum(BBGT[:, 3], bb[3])
                iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
                ih = np.maximum(iymax - iymin + 1.0, 0.0)
                inters = iw * ih
                uni = ((bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                       + (BBGT[:, 2] - BBGT[:, 0] + 1.0) * (BBGT[:, 3] - BBGT[:, 1] + 1.0) - inters)
                overlaps = inters / uni
                ovmax = np.max(overlaps)
                jmax = np.argmax(overlaps)
            if ovmax > ovthresh:
                if not R["difficult"][jmax]:
                    if not R["det"][jmax]:
                        tp[d] = 1.0
                        R["det"][jmax] = 1
                    else:
                        fp[d] = 1.0
            else:
                fp[d] = 1.0
        fp = np.cumsum(fp)
        tp = np.cumsum(tp)
        rec = tp / float(npos)
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        ap = voc_ap(rec, prec, use_07_metric)
    return rec, prec, float(ap)


def voc_eval_files(detpath: str, annopath: str, imagesetfile, classname: str, ovthresh: float = 0.5,
                   use_07_metric: bool = False, recs: Recs = None):
    """The original's signature: ``detpath.format(classname)``, ``annopath.format(imagename)``."""
    recs = read_recs(annopath, imagesetfile) if recs is None else recs
    return voc_eval(recs, read_dets(detpath.format(classname)), classname, ovthresh, use_07_metric)
