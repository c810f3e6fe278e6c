"""Seeded synthetic COCO-val2017-scale data for the evaluation benchmarks.

Writes into ``--out``:

* ``gt_bbox.json``       ground truth for bbox *and* segm: polygons, a few crowd RLEs
* ``dets_bbox.json``     100 detections per image (COCO results format)
* ``dets_segm.json``     the same detections plus a compressed-RLE ``segmentation``
* ``dets_proposal.json`` 1,000 class-agnostic boxes per image (``category_id`` 1)
* ``gt_proposal.json``   the ground truth of the proposal images (the first ``--proposal-images``)
* ``meta.json``          the parameters and counts

Every image draws from its own random streams, seeded by ``(seed, image index,
stream)``, so the output does not depend on the worker count, and the first
``N`` images of a larger run are exactly the images of an ``--images N`` run.
Output is byte-identical for a given seed and numpy version (``meta.json``
records both; only its ``seconds`` field varies).

Example::

    python benchmarks/generate.py --seed 0 --images 5000 --out benchmarks/_data/full
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

import numpy as np
import orjson
from pycocotools import mask as mask_utils

T = TypeVar("T")

FORMAT_VERSION = 1
ALL_PARTS = ("gt", "bbox", "segm", "proposal")

# Random streams: one generator per (seed, image index, stream).
STREAM_GT, STREAM_DETS, STREAM_DET_MASKS, STREAM_PROPOSALS = 0, 1, 2, 3

DETS_PER_IMAGE = 100
PROPOSALS_PER_IMAGE = 1000
MEAN_GT_PER_IMAGE = 7.36
EMPTY_IMAGE_FRACTION = 0.01  # val2017: 48 of 5,000 images have no annotation
GT_DISPERSION = 2.0  # negative-binomial shape: smaller is more heavy-tailed
MAX_GT_PER_IMAGE = 80
CROWD_MIN_AREA = 40 * 40  # crowd regions are not tiny ...
CROWD_PROB = 0.017  # ... so this share of the larger boxes gives about 1% crowd overall
# Sampling probabilities of small/medium/large targets; the realised split (by mask area)
# comes out near val2017's 41/34/24 %, as some targets land in the class below.
SIZE_CLASS_PROBS = (0.39, 0.355, 0.255)
POLY_FILL = 0.62  # mean polygon area / box area of our polygons, for area targeting

# COCO 2017 detection categories: (id, name, supercategory). Ids skip the 10 unused ones.
COCO_CATEGORIES: Tuple[Tuple[int, str, str], ...] = (
    (1, "person", "person"), (2, "bicycle", "vehicle"), (3, "car", "vehicle"),
    (4, "motorcycle", "vehicle"), (5, "airplane", "vehicle"), (6, "bus", "vehicle"),
    (7, "train", "vehicle"), (8, "truck", "vehicle"), (9, "boat", "vehicle"),
    (10, "traffic light", "outdoor"), (11, "fire hydrant", "outdoor"), (13, "stop sign", "outdoor"),
    (14, "parking meter", "outdoor"), (15, "bench", "outdoor"), (16, "bird", "animal"),
    (17, "cat", "animal"), (18, "dog", "animal"), (19, "horse", "animal"), (20, "sheep", "animal"),
    (21, "cow", "animal"), (22, "elephant", "animal"), (23, "bear", "animal"), (24, "zebra", "animal"),
    (25, "giraffe", "animal"), (27, "backpack", "accessory"), (28, "umbrella", "accessory"),
    (31, "handbag", "accessory"), (32, "tie", "accessory"), (33, "suitcase", "accessory"),
    (34, "frisbee", "sports"), (35, "skis", "sports"), (36, "snowboard", "sports"),
    (37, "sports ball", "sports"), (38, "kite", "sports"), (39, "baseball bat", "sports"),
    (40, "baseball glove", "sports"), (41, "skateboard", "sports"), (42, "surfboard", "sports"),
    (43, "tennis racket", "sports"), (44, "bottle", "kitchen"), (46, "wine glass", "kitchen"),
    (47, "cup", "kitchen"), (48, "fork", "kitchen"), (49, "knife", "kitchen"), (50, "spoon", "kitchen"),
    (51, "bowl", "kitchen"), (52, "banana", "food"), (53, "apple", "food"), (54, "sandwich", "food"),
    (55, "orange", "food"), (56, "broccoli", "food"), (57, "carrot", "food"), (58, "hot dog", "food"),
    (59, "pizza", "food"), (60, "donut", "food"), (61, "cake", "food"), (62, "chair", "furniture"),
    (63, "couch", "furniture"), (64, "potted plant", "furniture"), (65, "bed", "furniture"),
    (67, "dining table", "furniture"), (70, "toilet", "furniture"), (72, "tv", "electronic"),
    (73, "laptop", "electronic"), (74, "mouse", "electronic"), (75, "remote", "electronic"),
    (76, "keyboard", "electronic"), (77, "cell phone", "electronic"), (78, "microwave", "appliance"),
    (79, "oven", "appliance"), (80, "toaster", "appliance"), (81, "sink", "appliance"),
    (82, "refrigerator", "appliance"), (84, "book", "indoor"), (85, "clock", "indoor"),
    (86, "vase", "indoor"), (87, "scissors", "indoor"), (88, "teddy bear", "indoor"),
    (89, "hair drier", "indoor"), (90, "toothbrush", "indoor"),
)
CAT_IDS = np.array([c[0] for c in COCO_CATEGORIES], dtype=np.int64)


def _category_weights() -> np.ndarray:
    """Long-tailed class frequencies: person about a quarter of all instances."""
    ranks = np.arange(1, len(CAT_IDS) + 1, dtype=np.float64)
    order = np.random.default_rng(12345).permutation(len(CAT_IDS) - 1) + 1  # fixed, seed-independent
    weights = np.empty(len(CAT_IDS))
    weights[0] = 7.5  # person
    weights[order] = 1.0 / ranks[: len(order)] ** 0.7
    return weights / weights.sum()


CAT_WEIGHTS = _category_weights()


# --------------------------------------------------------------------------- data records


@dataclass
class ImageGT:
    """One synthetic image and its ground truth (annotation ids are assigned later)."""

    image_id: int
    width: int
    height: int
    boxes: np.ndarray  # (n, 4) xywh, float
    cats: np.ndarray  # (n,) category ids
    crowd: np.ndarray  # (n,) bool
    polygons: List[Optional[np.ndarray]] = field(default_factory=list)  # (k, 2) or None for crowd
    anns: List[dict] = field(default_factory=list)  # COCO annotation dicts without "id"


@dataclass
class Detections:
    """The detections of one image, with the GT each was derived from (-1: none)."""

    boxes: np.ndarray  # (m, 4) xywh, rounded
    cats: np.ndarray
    scores: np.ndarray  # rounded to 3 decimals
    source: np.ndarray  # index into the image's GT, or -1


# --------------------------------------------------------------------------- geometry


def rng_for(seed: int, index: int, stream: int) -> np.random.Generator:
    """The random generator of one image and one stream."""
    return np.random.default_rng([seed, index, stream])


def image_id_for(seed: int, index: int) -> int:
    """Sparse, increasing image ids (like COCO's), independent of the image count."""
    return 1 + index * 97 + int(rng_for(seed, index, 99).integers(0, 97))


def random_polygon(rng: np.random.Generator, box: Sequence[float]) -> np.ndarray:
    """A convex-ish polygon of 6-12 vertices inscribed in ``box`` (xywh), as (k, 2)."""
    x, y, w, h = box
    k = int(rng.integers(6, 13))
    angles = np.sort((np.arange(k) + rng.uniform(-0.35, 0.35, k)) * (2 * np.pi / k))
    radii = rng.uniform(0.72, 1.0, k)
    px = x + w / 2 + np.cos(angles) * radii * w / 2
    py = y + h / 2 + np.sin(angles) * radii * h / 2
    return np.stack([np.clip(px, x, x + w), np.clip(py, y, y + h)], axis=1)


def box_polygon(box: Sequence[float]) -> np.ndarray:
    """The four corners of ``box`` (xywh) as a polygon."""
    x, y, w, h = box
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)


def flat_polygon(poly: np.ndarray) -> List[float]:
    """A (k, 2) polygon as COCO's flat ``[x1, y1, x2, y2, ...]`` list, rounded to 2 decimals."""
    return np.round(poly, 2).reshape(-1).tolist()


def clip_boxes(boxes: np.ndarray, width: int, height: int, min_size: float = 1.0) -> np.ndarray:
    """Clip xywh boxes into the image, keep at least ``min_size`` px per side, round to 2 decimals."""
    x1 = np.clip(boxes[:, 0], 0, width - min_size)
    y1 = np.clip(boxes[:, 1], 0, height - min_size)
    x2 = np.clip(boxes[:, 0] + boxes[:, 2], x1 + min_size, width)
    y2 = np.clip(boxes[:, 1] + boxes[:, 3], y1 + min_size, height)
    out = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
    out = np.round(out, 2)
    out[:, 2:] = np.maximum(out[:, 2:], min_size)
    return out


def jitter_boxes(rng: np.random.Generator, boxes: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Shift and rescale xywh boxes by relative noise of scale ``sigma`` (one per box)."""
    n = len(boxes)
    s = sigma[:, None]
    w, h = boxes[:, 2:3], boxes[:, 3:4]
    centre = boxes[:, :2] + boxes[:, 2:] / 2 + rng.normal(0, 1, (n, 2)) * s * np.hstack([w, h])
    size = boxes[:, 2:] * np.exp(rng.normal(0, 1, (n, 2)) * s)
    return np.hstack([centre - size / 2, size])


def sample_box_sizes(rng: np.random.Generator, n: int, width: int, height: int) -> np.ndarray:
    """Box (w, h) whose inscribed polygons follow COCO's small/medium/large split."""
    size_class = rng.choice(3, size=n, p=SIZE_CLASS_PROBS)
    lo = np.array([3.0, 32.0, 96.0])[size_class]  # sqrt(mask area) bounds
    hi = np.array([32.0, 96.0, 0.8 * np.sqrt(width * height)])[size_class]
    side = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    box_area = side**2 / POLY_FILL
    aspect = np.exp(rng.normal(0.0, 0.45, n))
    w = np.sqrt(box_area * aspect)
    h = np.sqrt(box_area / aspect)
    shrink = np.minimum(1.0, np.minimum((width - 1) / w, (height - 1) / h))
    return np.stack([np.maximum(w * shrink, 2.0), np.maximum(h * shrink, 2.0)], axis=1)


# --------------------------------------------------------------------------- ground truth


def sample_gt_count(rng: np.random.Generator, mean: float = MEAN_GT_PER_IMAGE, empty: float = EMPTY_IMAGE_FRACTION,
                    dispersion: float = GT_DISPERSION, cap: int = MAX_GT_PER_IMAGE) -> int:
    """Instances per image: a few empty images, else 1 + negative binomial (COCO's mean, heavy tail by default)."""
    if rng.uniform() < empty:
        return 0
    mean_extra = mean / (1 - empty) - 1
    p = dispersion / (dispersion + mean_extra)
    return int(min(1 + rng.negative_binomial(dispersion, p), cap))


def sample_gt_categories(rng: np.random.Generator, n: int) -> np.ndarray:
    """Category ids for ``n`` instances drawn from a handful of classes per image."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    k = int(min(n, 1 + rng.poisson(1.6), len(CAT_IDS)))
    classes = rng.choice(len(CAT_IDS), size=k, replace=False, p=CAT_WEIGHTS)
    share = rng.dirichlet(np.ones(k))
    return CAT_IDS[classes[rng.choice(k, size=n, p=share)]]


def crowd_annotation(rng: np.random.Generator, box: np.ndarray, width: int, height: int) -> dict:
    """A crowd region: a compressed RLE of a rasterised ellipse inside ``box``."""
    x, y, w, h = box
    yy, xx = np.mgrid[0:height, 0:width]
    inside = ((xx + 0.5 - (x + w / 2)) / (w / 2)) ** 2 + ((yy + 0.5 - (y + h / 2)) / (h / 2)) ** 2 <= 1.0
    if rng.uniform() < 0.3:  # some crowds are plain rectangles
        inside = (xx >= int(x)) & (xx < int(x + w)) & (yy >= int(y)) & (yy < int(y + h))
    rle = mask_utils.encode(np.asfortranarray(inside.astype(np.uint8)))
    return {
        "segmentation": {"size": [height, width], "counts": rle["counts"].decode("ascii")},
        "area": float(mask_utils.area(rle)),
        "bbox": np.round(mask_utils.toBbox(rle), 2).tolist(),
        "iscrowd": 1,
    }


def polygon_annotations(polys: List[np.ndarray], width: int, height: int) -> List[dict]:
    """Non-crowd annotations whose ``area`` is the polygon area as pycocotools rasterises it."""
    if not polys:
        return []
    flats = [flat_polygon(p) for p in polys]
    areas = mask_utils.area(mask_utils.frPyObjects(flats, height, width))
    anns = []
    for flat, area in zip(flats, areas):
        xs, ys = flat[0::2], flat[1::2]
        x0, y0 = min(xs), min(ys)
        bbox = [x0, y0, round(max(xs) - x0, 2), round(max(ys) - y0, 2)]
        anns.append({"segmentation": [flat], "area": float(area), "bbox": bbox, "iscrowd": 0})
    return anns


def make_image_gt(seed: int, index: int) -> ImageGT:
    """Generate one image and its annotations."""
    rng = rng_for(seed, index, STREAM_GT)
    width, height = int(rng.integers(480, 641)), int(rng.integers(360, 641))
    n = sample_gt_count(rng)
    sizes = sample_box_sizes(rng, n, width, height)
    xy = rng.uniform(0, 1, (n, 2)) * (np.array([width, height]) - sizes)
    boxes = np.hstack([xy, sizes])
    crowd = (rng.uniform(size=n) < CROWD_PROB) & (sizes.prod(axis=1) > CROWD_MIN_AREA)
    cats = sample_gt_categories(rng, n)
    polygons = [None if c else random_polygon(rng, b) for b, c in zip(boxes, crowd)]
    poly_anns = iter(polygon_annotations([p for p in polygons if p is not None], width, height))
    anns = []
    for i in range(n):
        ann = crowd_annotation(rng, boxes[i], width, height) if crowd[i] else next(poly_anns)
        anns.append({"image_id": image_id_for(seed, index), "category_id": int(cats[i]), **ann})
    final_boxes = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4)
    return ImageGT(image_id_for(seed, index), width, height, final_boxes, cats, crowd, polygons, anns)


# --------------------------------------------------------------------------- detections


def _beta_scores(rng: np.random.Generator, a: float, b: float, n: int, scale: float = 1.0) -> np.ndarray:
    """``n`` Beta(a, b) scores times ``scale``."""
    return rng.beta(a, b, n) * scale


def candidate_detections(rng: np.random.Generator, gt: ImageGT) -> Detections:
    """True positives, duplicates, wrong-class copies and crowd hits derived from the GT."""
    parts: List[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    n = len(gt.boxes)
    idx = np.arange(n)
    area = gt.boxes[:, 2] * gt.boxes[:, 3]
    p_found = np.where(area < 32**2, 0.55, np.where(area < 96**2, 0.8, 0.92))
    found = idx[(rng.uniform(size=n) < p_found) & ~gt.crowd]
    sigma = rng.uniform(0.01, 0.3, len(found))
    parts.append((found, gt.cats[found], sigma, _beta_scores(rng, 5, 2, len(found)) * (1 - sigma)))
    dup = found[rng.uniform(size=len(found)) < 0.3]
    sigma = rng.uniform(0.05, 0.45, len(dup))
    parts.append((dup, gt.cats[dup], sigma, _beta_scores(rng, 2, 4, len(dup))))
    wrong = idx[(rng.uniform(size=n) < 0.15) & ~gt.crowd]
    other = CAT_IDS[rng.choice(len(CAT_IDS), size=len(wrong), p=CAT_WEIGHTS)]
    sigma = rng.uniform(0.02, 0.3, len(wrong))
    parts.append((wrong, other, sigma, _beta_scores(rng, 2, 3, len(wrong), 0.8)))
    crowd = np.repeat(idx[gt.crowd], 3)  # detections inside crowd regions (ignored, not FP)
    sigma = rng.uniform(0.2, 0.6, len(crowd))
    parts.append((crowd, gt.cats[crowd], sigma, _beta_scores(rng, 3, 3, len(crowd))))
    src = np.concatenate([p[0] for p in parts]).astype(np.int64)
    sigma = np.concatenate([p[2] for p in parts])
    boxes = jitter_boxes(rng, gt.boxes[src].reshape(-1, 4), sigma)
    cats = np.concatenate([p[1] for p in parts]).astype(np.int64)
    scores = np.concatenate([p[3] for p in parts])
    return Detections(boxes, cats, scores, src)


def random_boxes(rng: np.random.Generator, n: int, width: int, height: int) -> np.ndarray:
    """Background boxes of COCO-like sizes anywhere in the image."""
    sizes = sample_box_sizes(rng, n, width, height) * np.sqrt(POLY_FILL)
    xy = rng.uniform(0, 1, (n, 2)) * (np.array([width, height]) - sizes)
    return np.hstack([xy, sizes])


def finalize(rng: np.random.Generator, dets: Detections, keep: int, width: int, height: int) -> Detections:
    """Round, keep the ``keep`` best-scoring (stable) and shuffle, so ties keep an arbitrary order."""
    scores = np.clip(np.round(dets.scores, 3), 0.001, 1.0)
    order = np.argsort(-scores, kind="stable")[:keep]
    order = order[rng.permutation(len(order))]
    boxes = clip_boxes(dets.boxes[order], width, height)
    return Detections(boxes, dets.cats[order], scores[order], dets.source[order])


def make_detections(seed: int, index: int, gt: ImageGT) -> Detections:
    """Exactly ``DETS_PER_IMAGE`` scored detections for one image."""
    rng = rng_for(seed, index, STREAM_DETS)
    cand = candidate_detections(rng, gt)
    n_bg = DETS_PER_IMAGE
    present = np.unique(gt.cats) if len(gt.cats) else CAT_IDS[:1]
    bg_cats = np.where(
        rng.uniform(size=n_bg) < 0.5,
        rng.choice(present, size=n_bg),
        CAT_IDS[rng.choice(len(CAT_IDS), size=n_bg, p=CAT_WEIGHTS)],
    )
    bg = Detections(
        random_boxes(rng, n_bg, gt.width, gt.height), bg_cats, _beta_scores(rng, 1, 8, n_bg), np.full(n_bg, -1)
    )
    merged = Detections(
        np.vstack([cand.boxes, bg.boxes]),
        np.concatenate([cand.cats, bg.cats]),
        np.concatenate([cand.scores, bg.scores]),
        np.concatenate([cand.source, bg.source]),
    )
    return finalize(rng, merged, DETS_PER_IMAGE, gt.width, gt.height)


def make_proposals(seed: int, index: int, gt: ImageGT) -> Detections:
    """Exactly ``PROPOSALS_PER_IMAGE`` class-agnostic boxes for one image."""
    rng = rng_for(seed, index, STREAM_PROPOSALS)
    per_gt = rng.integers(10, 40, len(gt.boxes))
    src = np.repeat(np.arange(len(gt.boxes)), per_gt)
    sigma = rng.uniform(0.02, 0.5, len(src))
    near = jitter_boxes(rng, gt.boxes[src].reshape(-1, 4), sigma)
    near_scores = rng.beta(3, 2, len(src)) * (1 - sigma)
    n_bg = PROPOSALS_PER_IMAGE
    boxes = np.vstack([near, random_boxes(rng, n_bg, gt.width, gt.height)])
    scores = np.concatenate([near_scores, rng.beta(1, 5, n_bg)])
    dets = Detections(boxes, np.ones(len(boxes), dtype=np.int64), scores, np.concatenate([src, np.full(n_bg, -1)]))
    return finalize(rng, dets, PROPOSALS_PER_IMAGE, gt.width, gt.height)


def detection_masks(seed: int, index: int, gt: ImageGT, dets: Detections) -> List[dict]:
    """Compressed RLEs for the detections: the source GT polygon mapped into the box, else random."""
    rng = rng_for(seed, index, STREAM_DET_MASKS)
    polys = []
    for box, src in zip(dets.boxes, dets.source):
        gt_poly = gt.polygons[src] if src >= 0 else None
        if gt_poly is not None and rng.uniform() < 0.9:
            gx, gy, gw, gh = gt.boxes[src]
            unit = (gt_poly - [gx, gy]) / [max(gw, 1e-6), max(gh, 1e-6)]
            unit += rng.normal(0, 0.03, unit.shape)
            poly = box[:2] + np.clip(unit, 0, 1) * box[2:]
        elif rng.uniform() < 0.15:
            poly = box_polygon(box)
        else:
            poly = random_polygon(rng, box)
        polys.append(flat_polygon(poly))
    rles = mask_utils.frPyObjects(polys, gt.height, gt.width)
    return [{"size": r["size"], "counts": r["counts"].decode("ascii")} for r in rles]


# --------------------------------------------------------------------------- serialisation


def detection_records(gt: ImageGT, dets: Detections, masks: Optional[List[dict]] = None) -> List[dict]:
    """COCO results records (detectron2's key order)."""
    boxes, cats, scores = dets.boxes.tolist(), dets.cats.tolist(), dets.scores.tolist()
    records = []
    for i in range(len(boxes)):
        rec = {"image_id": gt.image_id, "category_id": cats[i], "bbox": boxes[i], "score": scores[i]}
        if masks is not None:
            rec["segmentation"] = masks[i]
        records.append(rec)
    return records


def array_body(records: List[dict]) -> bytes:
    """The records as the inside of a JSON array (no brackets), for streaming writes."""
    return orjson.dumps(records)[1:-1] if records else b""


@dataclass
class ChunkResult:
    """What one worker returns for a range of images."""

    images: List[dict]
    anns: List[List[dict]]
    bodies: Dict[str, bytes]


def generate_chunk(task: Tuple[int, int, int, Tuple[str, ...], int]) -> ChunkResult:
    """Generate images ``[start, stop)``: GT records and the requested detection files' JSON."""
    seed, start, stop, parts, proposal_images = task
    images, anns = [], []
    bodies: Dict[str, List[dict]] = {p: [] for p in parts if p != "gt"}
    for index in range(start, stop):
        gt = make_image_gt(seed, index)
        images.append(
            {"id": gt.image_id, "file_name": f"{gt.image_id:012d}.jpg", "width": gt.width, "height": gt.height}
        )
        anns.append(gt.anns)
        if "bbox" in bodies or "segm" in bodies:
            dets = make_detections(seed, index, gt)
            if "bbox" in bodies:
                bodies["bbox"].extend(detection_records(gt, dets))
            if "segm" in bodies:
                bodies["segm"].extend(detection_records(gt, dets, detection_masks(seed, index, gt, dets)))
        if "proposal" in bodies and index < proposal_images:
            bodies["proposal"].extend(detection_records(gt, make_proposals(seed, index, gt)))
    return ChunkResult(images, anns, {k: array_body(v) for k, v in bodies.items()})


class ArrayWriter:
    """Streams JSON array fragments into a file."""

    def __init__(self, path: Path) -> None:
        """Open ``path``'s temporary twin and start the array."""
        self.path = path
        self.tmp = path.with_suffix(".json.part")
        self.fh = open(self.tmp, "wb")
        self.fh.write(b"[")
        self.count_bodies = 0

    def add(self, body: bytes) -> None:
        """Append one fragment (comma-separated records)."""
        if not body:
            return
        if self.count_bodies:
            self.fh.write(b",")
        self.fh.write(body)
        self.count_bodies += 1

    def close(self) -> None:
        """End the array and move the file into place."""
        self.fh.write(b"]")
        self.fh.close()
        os.replace(self.tmp, self.path)


def gt_document(images: List[dict], anns: List[List[dict]]) -> dict:
    """The COCO ground-truth document; annotation ids run from 1 in image order."""
    flat = []
    for per_image in anns:
        for ann in per_image:
            flat.append({"id": len(flat) + 1, **ann})
    return {
        "info": {"description": "dataprep-det synthetic COCO-val2017-scale benchmark data", "version": "1"},
        "licenses": [],
        "images": images,
        "annotations": flat,
        "categories": [{"id": i, "name": n, "supercategory": s} for i, n, s in COCO_CATEGORIES],
    }


def write_json(path: Path, doc: object) -> None:
    """Write ``doc`` atomically."""
    tmp = path.with_suffix(".json.part")
    tmp.write_bytes(orjson.dumps(doc))
    os.replace(tmp, path)


# --------------------------------------------------------------------------- driver


def chunk_tasks(seed: int, images: int, parts: Tuple[str, ...], proposal_images: int, size: int) -> Iterator[tuple]:
    """Worker tasks of ``size`` consecutive images each."""
    for start in range(0, images, size):
        yield (seed, start, min(start + size, images), parts, proposal_images)


def run_chunks(work: Callable[[tuple], T], tasks: List[tuple], workers: int) -> Iterator[T]:
    """``work`` over the tasks, results in task order, from a process pool (or inline for one worker)."""
    if workers <= 1:
        yield from map(work, tasks)
        return
    with mp.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(work, tasks)


def size_stats(anns: List[dict]) -> Dict[str, float]:
    """Counts and the small/medium/large split (by ``area``) of the ground truth."""
    area = np.array([a["area"] for a in anns]) if anns else np.zeros(0)
    n = max(len(area), 1)
    return {
        "annotations": len(anns),
        "crowd": int(sum(a["iscrowd"] for a in anns)),
        "small": round(float((area < 32**2).sum()) / n, 4),
        "medium": round(float(((area >= 32**2) & (area < 96**2)).sum()) / n, 4),
        "large": round(float((area >= 96**2).sum()) / n, 4),
    }


def generate(out: Path, seed: int, images: int, proposal_images: int, parts: Tuple[str, ...], workers: int) -> dict:
    """Generate the requested parts into ``out``; returns the metadata written to ``meta.json``.

    Parts already in ``out`` for the same seed and image count are kept and stay listed in
    ``meta.json``, so the proposals can be regenerated for another image count on their own.
    """
    out.mkdir(parents=True, exist_ok=True)
    proposal_images = min(proposal_images, images)
    previous = read_meta(out) if same_dataset(out, seed, images) else {}
    started = time.perf_counter()
    stop = images if set(parts) - {"proposal"} else proposal_images  # proposals alone need only their images
    names = {"bbox": "dets_bbox.json", "segm": "dets_segm.json", "proposal": "dets_proposal.json"}
    writers = {p: ArrayWriter(out / names[p]) for p in parts if p in names}
    all_images: List[dict] = []
    all_anns: List[List[dict]] = []
    for result in run_chunks(generate_chunk, list(chunk_tasks(seed, stop, parts, proposal_images, size=25)), workers):
        all_images.extend(result.images)
        all_anns.extend(result.anns)
        for part, body in result.bodies.items():
            writers[part].add(body)
    for writer in writers.values():
        writer.close()
    meta = {**previous, **base_meta(seed, images), "parts": sorted(set(parts) | set(previous.get("parts", [])))}
    if "gt" in parts:
        write_json(out / "gt_bbox.json", gt_document(all_images, all_anns))
        meta["gt"] = size_stats([a for per in all_anns for a in per])
    if "proposal" in parts:
        write_json(out / "gt_proposal.json", gt_document(all_images[:proposal_images], all_anns[:proposal_images]))
        meta["proposal_images"] = proposal_images
    meta["seconds"] = round(time.perf_counter() - started, 1)
    write_json(out / "meta.json", meta)
    return meta


def base_meta(seed: int, images: int) -> dict:
    """The fields that identify a dataset."""
    return {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "images": images,
        "dets_per_image": DETS_PER_IMAGE,
        "proposals_per_image": PROPOSALS_PER_IMAGE,
        "numpy": np.__version__,  # Generator distributions may change between numpy versions
    }


def read_meta(out: Path) -> dict:
    """``meta.json`` of ``out``, or ``{}``."""
    try:
        return json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        return {}


def same_dataset(out: Path, seed: int, images: int) -> bool:
    """Whether ``out`` holds data of this seed, image count, format and numpy version."""
    meta = read_meta(out)
    return all(meta.get(k) == v for k, v in base_meta(seed, images).items())


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--images", type=int, default=5000, help="number of images (default 5000)")
    ap.add_argument("--proposal-images", type=int, default=5000, help="images with proposals (default 5000)")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument(
        "--parts", default=",".join(ALL_PARTS), help=f"comma list of {','.join(ALL_PARTS)} (default: all)"
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPU count)")
    args = ap.parse_args(argv)
    args.parts = tuple(p for p in args.parts.split(",") if p)
    unknown = set(args.parts) - set(ALL_PARTS)
    if unknown:
        ap.error(f"unknown parts {sorted(unknown)}; choose from {ALL_PARTS}")
    if args.images < 1 or args.proposal_images < 1:
        ap.error("--images and --proposal-images must be positive")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate, then print ``meta.json`` to stderr."""
    args = parse_args(argv)
    meta = generate(args.out, args.seed, args.images, args.proposal_images, args.parts, args.workers)
    print(json.dumps(meta, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
