"""Seeded synthetic LVIS-v1-val-like data for the LVIS evaluation benchmark.

Writes into ``--out``:

* ``gt_lvis.json``   LVIS-format ground truth: 1,203 categories with ``frequency`` r/c/f in LVIS v1's
  proportions (337/461/405), images with federated labels (``neg_category_ids``,
  ``not_exhaustive_category_ids``), polygon annotations with ``area`` and ``bbox`` (no ``iscrowd``)
* ``dets_lvis.json`` ``--dets-per-image`` (300) detections per image (results format: image_id,
  category_id, bbox, score; scores rounded to 3 decimals)
* ``meta.json``      the parameters and counts

The geometry (image sizes, COCO-like box sizes, polygons and their rasterised ``area``, box jitter)
comes from ``generate.py``. Like there, every image draws from its own random streams, seeded by
``(seed, image index, stream)``: the output does not depend on the worker count, and an
``--images N`` dataset is exactly the first ``N`` images of a larger one. Output is byte-identical
for a given seed and numpy version (``meta.json`` records both; only its ``seconds`` field varies).
The category table does not depend on the seed.

Example::

    python benchmarks/generate_lvis.py --seed 0 --images 5000 --out benchmarks/_data/lvis-seed0-images5000
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from generate import (  # same folder: the shared geometry and writers
    sample_gt_count,
    ArrayWriter,
    Detections,
    ImageGT,
    array_body,
    detection_records,
    finalize,
    image_id_for,
    jitter_boxes,
    polygon_annotations,
    random_boxes,
    random_polygon,
    read_meta,
    rng_for,
    run_chunks,
    sample_box_sizes,
    write_json,
)

FORMAT_VERSION = 1
GT_FILE, DETS_FILE = "gt_lvis.json", "dets_lvis.json"

# Random streams of this generator (generate.py uses 0-3 and 99).
STREAM_GT, STREAM_DETS = 10, 11

DETS_PER_IMAGE = 300  # LVIS' per-image cap
FREQUENCIES = ("r", "c", "f")
GROUP_SIZES = (337, 461, 405)  # LVIS v1: rare, common, frequent
N_CATS = sum(GROUP_SIZES)  # 1,203
# Share of the per-image category draws that go to each group. In LVIS v1 val the frequent
# categories carry the bulk of the instances and rare ones about 1-2 %; rare gets a little more
# here so that a 2,000-image dataset still has ~100 rare categories with GT (APr is defined).
GROUP_SHARES = (0.02, 0.13, 0.85)
# Training-image counts that define the groups (r < 10 <= c < 100 <= f); categories are drawn
# in proportion to them within their group, so a few frequent categories dominate.
IMAGE_COUNT_RANGES = ((1, 9), (10, 99), (100, 20000))

MEAN_GT_PER_IMAGE = 12.35  # LVIS v1 val: 244,707 instances on 19,809 images
EMPTY_IMAGE_FRACTION = 0.01  # images with federated (negative) labels only
GT_DISPERSION = 1.0  # negative binomial shape: LVIS' per-image counts are very heavy-tailed
MAX_GT_PER_IMAGE = 250
MEAN_EXTRA_POSITIVE_CATS = 2.3  # categories present per image: 1 + Poisson(2.3), at most the instance count
MEAN_NEGATIVE_CATS = 6.0  # neg_category_ids per image: Poisson(6) categories verified absent
NOT_EXHAUSTIVE_PROB = 0.12  # share of the present categories flagged not exhaustively annotated


# --------------------------------------------------------------------------- categories


@dataclass(frozen=True)
class CategoryTable:
    """The fixed 1,203-category table (seed-independent)."""

    ids: np.ndarray  # 1..1203
    group: np.ndarray  # 0 r, 1 c, 2 f
    image_count: np.ndarray
    instance_count: np.ndarray
    weights: np.ndarray  # probability of a category draw for an image's positive set
    neg_weights: np.ndarray  # flatter: negative sets also name uncommon categories


def _category_table() -> CategoryTable:
    """Frequency groups in LVIS v1's proportions, interleaved over the ids like LVIS' alphabetical ids."""
    rng = np.random.default_rng(20190814)  # fixed: the table is the same for every seed
    group = rng.permutation(np.repeat(np.arange(3), GROUP_SIZES))
    image_count = np.zeros(N_CATS, dtype=np.int64)
    for g, (lo, hi) in enumerate(IMAGE_COUNT_RANGES):
        rows = np.flatnonzero(group == g)
        image_count[rows] = np.round(np.exp(rng.uniform(np.log(lo), np.log(hi + 1), rows.size))).clip(lo, hi)
    instance_count = np.round(image_count * np.exp(rng.uniform(0.0, 1.5, N_CATS))).astype(np.int64)
    weights = np.zeros(N_CATS)
    for g, share in enumerate(GROUP_SHARES):
        rows = group == g
        weights[rows] = share * image_count[rows] / image_count[rows].sum()
    neg_weights = np.sqrt(weights) / np.sqrt(weights).sum()
    return CategoryTable(np.arange(1, N_CATS + 1, dtype=np.int64), group, image_count, instance_count,
                         weights / weights.sum(), neg_weights)


CATS = _category_table()


def category_records() -> List[dict]:
    """LVIS v1's category fields, with synthetic names."""
    return [
        {
            "id": int(cid), "name": f"synthetic_{cid:04d}", "synset": f"synthetic_{cid:04d}.n.01",
            "synonyms": [f"synthetic_{cid:04d}"], "def": "a synthetic benchmark category",
            "frequency": FREQUENCIES[int(g)], "image_count": int(ic), "instance_count": int(nc),
        }
        for cid, g, ic, nc in zip(CATS.ids.tolist(), CATS.group, CATS.image_count, CATS.instance_count)
    ]


# --------------------------------------------------------------------------- ground truth


@dataclass
class LvisImage:
    """One image: its ground truth (category rows in ``rows``) and its federated labels."""

    gt: ImageGT  # cats hold category ids; crowd is all False
    rows: np.ndarray  # category row (id - 1) of each annotation
    positive: np.ndarray  # category rows present in the image
    negative: np.ndarray  # category rows verified absent
    not_exhaustive: np.ndarray  # subset of ``positive``

    def image_record(self) -> dict:
        """The LVIS image record."""
        g = self.gt
        return {
            "id": g.image_id, "width": g.width, "height": g.height,
            "coco_url": f"http://images.cocodataset.org/val2017/{g.image_id:012d}.jpg",
            "neg_category_ids": sorted(CATS.ids[self.negative].tolist()),
            "not_exhaustive_category_ids": sorted(CATS.ids[self.not_exhaustive].tolist()),
        }


def sample_positive(rng: np.random.Generator, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """The present categories and each instance's category row: every present category has at least one."""
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    k = int(min(n, 1 + rng.poisson(MEAN_EXTRA_POSITIVE_CATS)))
    positive = rng.choice(N_CATS, size=k, replace=False, p=CATS.weights)
    counts = 1 + rng.multinomial(n - k, rng.dirichlet(np.full(k, 0.8)))
    return positive, np.repeat(positive, counts)


def sample_negative(rng: np.random.Generator, positive: np.ndarray) -> np.ndarray:
    """Categories verified absent: never one of the present ones."""
    p = CATS.neg_weights.copy()
    p[positive] = 0.0
    n = int(min(rng.poisson(MEAN_NEGATIVE_CATS), np.count_nonzero(p)))
    return rng.choice(N_CATS, size=n, replace=False, p=p / p.sum())


def make_image(seed: int, index: int) -> LvisImage:
    """Generate one image, its annotations and its federated labels."""
    rng = rng_for(seed, index, STREAM_GT)
    width, height = int(rng.integers(480, 641)), int(rng.integers(360, 641))
    n = sample_gt_count(rng, MEAN_GT_PER_IMAGE, EMPTY_IMAGE_FRACTION, GT_DISPERSION, MAX_GT_PER_IMAGE)
    positive, rows = sample_positive(rng, n)
    negative = sample_negative(rng, positive)
    not_exhaustive = positive[rng.uniform(size=positive.size) < NOT_EXHAUSTIVE_PROB]
    sizes = sample_box_sizes(rng, n, width, height)
    xy = rng.uniform(0, 1, (n, 2)) * (np.array([width, height]) - sizes)
    polygons = [random_polygon(rng, b) for b in np.hstack([xy, sizes])]
    image_id = image_id_for(seed, index)
    anns = []
    for row, ann in zip(rows.tolist(), polygon_annotations(polygons, width, height)):
        ann.pop("iscrowd")  # LVIS annotations have no iscrowd
        anns.append({"image_id": image_id, "category_id": int(CATS.ids[row]), **ann})
    boxes = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4)
    gt = ImageGT(image_id, width, height, boxes, CATS.ids[rows], np.zeros(n, bool), list(polygons), anns)
    return LvisImage(gt, rows, positive, negative, not_exhaustive)


# --------------------------------------------------------------------------- detections


FOUND_BY_GROUP = np.array([0.45, 0.7, 1.0])  # detectors find rare categories less often ...
SCORE_BY_GROUP = np.array([0.6, 0.8, 1.0])  # ... and score them lower


def _pick(rng: np.random.Generator, rows: np.ndarray, n: int) -> np.ndarray:
    """``n`` categories from ``rows`` (uniform), or from the category prior when ``rows`` is empty."""
    if rows.size == 0:
        return rng.choice(N_CATS, size=n, p=CATS.weights)
    return rng.choice(rows, size=n)


def make_detections(seed: int, index: int, img: LvisImage, dets_per_image: int) -> Detections:
    """Exactly ``dets_per_image`` detections: hits on the GT, duplicates, confusions and background."""
    rng = rng_for(seed, index, STREAM_DETS)
    gt = img.gt
    n = len(gt.boxes)
    idx = np.arange(n)
    group = CATS.group[img.rows]
    area = gt.boxes[:, 2] * gt.boxes[:, 3]
    p_found = np.where(area < 32**2, 0.5, np.where(area < 96**2, 0.75, 0.9)) * FOUND_BY_GROUP[group]
    found = idx[rng.uniform(size=n) < p_found]
    sigma_found = rng.uniform(0.01, 0.3, found.size)
    score_found = rng.beta(5, 2, found.size) * (1 - sigma_found) * SCORE_BY_GROUP[group[found]]
    dup = found[rng.uniform(size=found.size) < 0.3]
    sigma_dup = rng.uniform(0.05, 0.45, dup.size)
    score_dup = rng.beta(2, 4, dup.size)
    # Confusions: a GT box with another label, half of them a category verified absent (a counted FP),
    # the rest a category from the prior (mostly unlabelled in the image, so filtered out).
    wrong = idx[rng.uniform(size=n) < 0.2]
    wrong_rows = np.where(rng.uniform(size=wrong.size) < 0.5, _pick(rng, img.negative, wrong.size),
                          rng.choice(N_CATS, size=wrong.size, p=CATS.weights))
    sigma_wrong = rng.uniform(0.02, 0.3, wrong.size)
    score_wrong = rng.beta(2, 3, wrong.size) * 0.8
    src = np.concatenate([found, dup, wrong]).astype(np.int64)
    sigma = np.concatenate([sigma_found, sigma_dup, sigma_wrong])
    near = jitter_boxes(rng, gt.boxes[src].reshape(-1, 4), sigma)
    near_rows = np.concatenate([img.rows[found], img.rows[dup], wrong_rows]).astype(np.int64)
    near_scores = np.concatenate([score_found, score_dup, score_wrong])
    # Background: low scores over present (25 %), absent (15 %) and any other categories.
    n_bg = dets_per_image
    u = rng.uniform(size=n_bg)
    bg_rows = np.where(u < 0.25, _pick(rng, img.positive, n_bg),
                       np.where(u < 0.4, _pick(rng, img.negative, n_bg), rng.choice(N_CATS, size=n_bg, p=CATS.weights)))
    merged = Detections(
        np.vstack([near, random_boxes(rng, n_bg, gt.width, gt.height)]),
        CATS.ids[np.concatenate([near_rows, bg_rows])],
        np.concatenate([near_scores, rng.beta(1, 8, n_bg)]),
        np.concatenate([src, np.full(n_bg, -1)]),
    )
    return finalize(rng, merged, dets_per_image, gt.width, gt.height)


# --------------------------------------------------------------------------- driver


@dataclass
class ChunkResult:
    """What one worker returns for a range of images."""

    images: List[dict]
    anns: List[List[dict]]
    dets: bytes
    counts: Dict[str, list]  # per-image statistics for meta.json


def generate_chunk(task: Tuple[int, int, int, int]) -> ChunkResult:
    """Images ``[start, stop)``: image records, annotations and the detections' JSON."""
    seed, start, stop, dets_per_image = task
    images, anns, dets = [], [], []
    counts: Dict[str, list] = {"rows": [], "neg": [], "not_exhaustive": []}
    for index in range(start, stop):
        img = make_image(seed, index)
        images.append(img.image_record())
        anns.append(img.gt.anns)
        dets.extend(detection_records(img.gt, make_detections(seed, index, img, dets_per_image)))
        counts["rows"].append(img.rows)
        counts["neg"].append(img.negative.size)
        counts["not_exhaustive"].append(img.not_exhaustive.size)
    return ChunkResult(images, anns, array_body(dets), counts)


def gt_document(images: List[dict], anns: List[List[dict]]) -> dict:
    """The LVIS ground-truth document; annotation ids run from 1 in image order."""
    flat = [{"id": i + 1, **a} for i, a in enumerate(a for per in anns for a in per)]
    return {
        "info": {"description": "dataprep-det synthetic LVIS-v1-val-like benchmark data", "version": "1"},
        "licenses": [],
        "images": images,
        "annotations": flat,
        "categories": category_records(),
    }


def gt_stats(anns: List[List[dict]], rows: np.ndarray, neg: List[int], not_exhaustive: List[int]) -> dict:
    """Counts, size split, frequency-group split and federated-label sizes of the ground truth."""
    per_image = np.array([len(a) for a in anns])
    area = np.array([a["area"] for per in anns for a in per]) if rows.size else np.zeros(0)
    total = max(rows.size, 1)
    group = CATS.group[rows]
    present = np.unique(rows)
    return {
        "annotations": int(rows.size),
        "per_image": round(float(per_image.mean()), 2),
        "max_per_image": int(per_image.max()),
        "empty_images": int((per_image == 0).sum()),
        "zero_area": int((area <= 0).sum()),
        "small": round(float((area < 32**2).sum()) / total, 4),
        "medium": round(float(((area >= 32**2) & (area < 96**2)).sum()) / total, 4),
        "large": round(float((area >= 96**2).sum()) / total, 4),
        "instance_share": {f: round(float((group == g).sum()) / total, 4) for g, f in enumerate(FREQUENCIES)},
        "categories_with_gt": {f: int((CATS.group[present] == g).sum()) for g, f in enumerate(FREQUENCIES)},
        "neg_per_image": round(float(np.mean(neg)), 2),
        "not_exhaustive_per_image": round(float(np.mean(not_exhaustive)), 2),
    }


def base_meta(seed: int, images: int, dets_per_image: int) -> dict:
    """The fields that identify a dataset."""
    return {
        "kind": "lvis",
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "images": images,
        "dets_per_image": dets_per_image,
        "numpy": np.__version__,  # Generator distributions may change between numpy versions
    }


def is_complete(out: Path, seed: int, images: int, dets_per_image: int = DETS_PER_IMAGE) -> bool:
    """Whether ``out`` holds both files of this seed, image count, detection count, format and numpy version."""
    meta = read_meta(out)
    return (all(meta.get(k) == v for k, v in base_meta(seed, images, dets_per_image).items())
            and (out / GT_FILE).exists() and (out / DETS_FILE).exists())


def generate(out: Path, seed: int, images: int, dets_per_image: int, workers: int) -> dict:
    """Write both files and ``meta.json`` into ``out``; returns the metadata."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").unlink(missing_ok=True)  # an interrupted run must not look complete
    started = time.perf_counter()
    tasks = [(seed, s, min(s + 25, images), dets_per_image) for s in range(0, images, 25)]
    writer = ArrayWriter(out / DETS_FILE)
    all_images: List[dict] = []
    all_anns: List[List[dict]] = []
    rows: List[np.ndarray] = []
    neg: List[int] = []
    not_exhaustive: List[int] = []
    for result in run_chunks(generate_chunk, tasks, workers):
        all_images.extend(result.images)
        all_anns.extend(result.anns)
        writer.add(result.dets)
        rows.extend(result.counts["rows"])
        neg.extend(result.counts["neg"])
        not_exhaustive.extend(result.counts["not_exhaustive"])
    writer.close()
    write_json(out / GT_FILE, gt_document(all_images, all_anns))
    meta = {
        **base_meta(seed, images, dets_per_image),
        "categories": dict(zip(FREQUENCIES, GROUP_SIZES)),
        "gt": gt_stats(all_anns, np.concatenate(rows) if rows else np.zeros(0, np.int64), neg, not_exhaustive),
        "detections": images * dets_per_image,
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json(out / "meta.json", meta)
    return meta


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--images", type=int, default=5000, help="number of images (default 5000)")
    ap.add_argument("--dets-per-image", type=int, default=DETS_PER_IMAGE,
                    help=f"detections per image (default {DETS_PER_IMAGE}, LVIS' cap)")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPU count)")
    args = ap.parse_args(argv)
    if args.images < 1 or args.dets_per_image < 1:
        ap.error("--images and --dets-per-image must be positive")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate, then print ``meta.json`` to stderr."""
    args = parse_args(argv)
    meta = generate(args.out, args.seed, args.images, args.dets_per_image, args.workers)
    print(json.dumps(meta, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
