"""Seeded synthetic DOTA-v1.0-val-scale data for the rotated (Task1) evaluation and merge benchmarks.

Writes into ``--out`` (default ``benchmarks/_data/dota/seed{S}-images{N}-dets{D}``):

* ``labelTxt/<image>.txt``   ground truth as DOTA writes it: ``imagesource:``/``gsd:`` headers, then
  ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult`` with integer coordinates (about 10 % difficult)
* ``task1/Task1_<class>.txt``  whole-image detections, ``image score x1 y1 ... y4`` (15 files)
* ``task1_tiles/Task1_<class>.txt``  the same detections cut into mmrotate's 1024 windows with gap
  200 (``P0003__1024__824___0``): a detection is written, in tile coordinates, once for every window
  that contains its centre, so overlapping windows repeat it (the input of a merge)
* ``imageset.txt``           the image names, one per line (the devkit's ``imagesetfile``)
* ``meta.json``              the parameters, counts and per-class statistics

The scene: 458 images (DOTA-v1.0 val) of 800-4000 px per side. The 15 classes appear with DOTA-v1.0
val's instance counts (ship, small-vehicle and large-vehicle are most of them; helicopter, basketball-court,
ground-track-field, soccer-ball-field and roundabout a few hundred or fewer), about 28k objects in total.
Objects are rotated rectangles of realistic sizes (small vehicles 10-35 px long, large vehicles 25-70,
planes 40-120, bridges and harbors long and thin, ...) laid out in clusters on rotated grids (parking lots,
harbors, airports), then rounded to integer pixels as real labels are.

Detections, ``--dets-per-image`` (2,000) per image in total: true positives jittered from the GT (small
and difficult objects are found less often; a few carry a confusable class), duplicates, low-scoring false
positives near objects and anywhere in the image. Coordinates have 2 decimals. Scores have 6 decimals
and are unique within each class file, so the ranking has no ties (tied scores make the devkit's
unstable sort order-dependent).

Every image draws from its own random streams, seeded by ``(seed, image index, stream)``. Only the final
pass that makes scores unique within a class looks at all images, so a small ``--images`` set is not
exactly a prefix of a larger one (its images and objects are; scores may differ in the 6th decimal).
Output is byte-identical for a given seed, image count and numpy version.

Example::

    python benchmarks/generate_dota.py --images 458 --seed 0
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

HERE = Path(__file__).resolve().parent
FORMAT_VERSION = 1
STREAM_GT, STREAM_DETS = 0, 1
IMAGES = 458  # DOTA-v1.0 val
DETS_PER_IMAGE = 2000
TILE_SIZE, TILE_GAP = 1024, 200  # mmrotate's ss_{trainval,val,test}.json
IMG_RATE_THR = 0.6  # mmrotate img_split --img-rate-thr
MAX_SCORE_UNITS = 999_999  # scores are integers / 1e6 in (0, 1)

CLASSES: Tuple[str, ...] = (
    "plane", "baseball-diamond", "bridge", "ground-track-field", "small-vehicle", "large-vehicle", "ship",
    "tennis-court", "basketball-court", "storage-tank", "soccer-ball-field", "roundabout", "harbor",
    "swimming-pool", "helicopter",
)
# DOTA-v1.0 val instances per class (28,853 in total over 458 images)
VAL_COUNTS = np.array([2531, 214, 464, 144, 5438, 4387, 8960, 760, 132, 2888, 153, 179, 2090, 440, 73], np.float64)
# Per class: long side (px, log-uniform), aspect long/short, mean objects per image where present,
# mean objects per cluster, whether a cluster shares one orientation (parking rows, moored ships).
#                 long_lo long_hi asp_lo asp_hi per_img per_cluster aligned
CLASS_SHAPES = {
    "plane":              (40, 120, 1.0, 1.3, 25.0, 8.0, False),
    "baseball-diamond":   (80, 250, 1.0, 1.15, 3.0, 2.0, False),
    "bridge":             (80, 450, 2.5, 8.0, 4.0, 1.5, False),
    "ground-track-field": (200, 600, 1.6, 2.2, 1.5, 1.0, False),
    "small-vehicle":      (10, 35, 1.7, 2.6, 60.0, 14.0, True),
    "large-vehicle":      (25, 70, 2.2, 4.0, 50.0, 14.0, True),
    "ship":               (15, 150, 2.5, 5.0, 80.0, 12.0, True),
    "tennis-court":       (50, 90, 1.8, 2.3, 8.0, 4.0, True),
    "basketball-court":   (50, 110, 1.6, 2.0, 3.0, 2.0, True),
    "storage-tank":       (15, 130, 1.0, 1.1, 30.0, 8.0, False),
    "soccer-ball-field":  (150, 400, 1.4, 1.7, 2.0, 1.0, False),
    "roundabout":         (70, 300, 1.0, 1.1, 1.5, 1.0, False),
    "harbor":             (50, 400, 3.0, 8.0, 15.0, 5.0, True),
    "swimming-pool":      (20, 90, 1.3, 2.5, 10.0, 4.0, False),
    "helicopter":         (30, 80, 1.0, 1.4, 6.0, 4.0, False),
}
CONFUSED_WITH = {  # the class a wrong-label detection gets
    "small-vehicle": "large-vehicle", "large-vehicle": "small-vehicle", "ship": "large-vehicle",
    "tennis-court": "basketball-court", "basketball-court": "tennis-court",
    "ground-track-field": "soccer-ball-field", "soccer-ball-field": "ground-track-field",
    "plane": "helicopter", "helicopter": "plane", "harbor": "bridge", "bridge": "harbor",
    "storage-tank": "roundabout", "roundabout": "storage-tank", "baseball-diamond": "ground-track-field",
    "swimming-pool": "tennis-court",
}
SHAPES = np.array([CLASS_SHAPES[c][:6] for c in CLASSES], np.float64)
ALIGNED = np.array([CLASS_SHAPES[c][6] for c in CLASSES])
CONFUSED = np.array([CLASSES.index(CONFUSED_WITH[c]) for c in CLASSES])
PRESENCE = VAL_COUNTS / (IMAGES * SHAPES[:, 4])  # P(class in an image); times per_img gives VAL_COUNTS/IMAGES
FP_CLASS_WEIGHTS = np.sqrt(VAL_COUNTS) / np.sqrt(VAL_COUNTS).sum()  # background FPs: flatter than the GT mix
MIN_SHORT = 5.0  # px; integer rounding keeps such a rectangle a simple quadrilateral


def rng_for(seed: int, index: int, stream: int) -> np.random.Generator:
    """The random generator of one image and one stream."""
    return np.random.default_rng([seed, index, stream])


def image_name(seed: int, index: int) -> str:
    """Sparse increasing DOTA-like names (``P0003``, ``P0007``, ...), independent of the image count."""
    return f"P{1 + index * 6 + int(rng_for(seed, index, 99).integers(0, 6)):04d}"


# --------------------------------------------------------------------------- geometry


def rbox_polys(cx: np.ndarray, cy: np.ndarray, long: np.ndarray, short: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """(n, 8) corners of rotated rectangles, clockwise on screen (y down)."""
    ux, uy = np.cos(theta) * long / 2, np.sin(theta) * long / 2  # half the long side
    vx, vy = -np.sin(theta) * short / 2, np.cos(theta) * short / 2  # half the short side
    xs = np.stack([cx - ux - vx, cx + ux - vx, cx + ux + vx, cx - ux + vx], axis=1)
    ys = np.stack([cy - uy - vy, cy + uy - vy, cy + uy + vy, cy - uy + vy], axis=1)
    out = np.empty((len(cx), 8))
    out[:, 0::2], out[:, 1::2] = xs, ys
    return out


def sample_sizes(rng: np.random.Generator, cls: np.ndarray, limit: float) -> Tuple[np.ndarray, np.ndarray]:
    """(long, short) side lengths of objects of classes ``cls`` (long at most ``limit``)."""
    lo, hi, alo, ahi = SHAPES[cls, 0], SHAPES[cls, 1], SHAPES[cls, 2], SHAPES[cls, 3]
    long = np.minimum(np.exp(rng.uniform(np.log(lo), np.log(hi))), limit)
    short = np.maximum(long / rng.uniform(alo, ahi), MIN_SHORT)
    return np.maximum(long, short), short


def sliding_windows(width: int, height: int, size: int = TILE_SIZE, gap: int = TILE_GAP,
                    rate_thr: float = IMG_RATE_THR) -> np.ndarray:
    """(k, 2) window origins (x, y), as mmrotate's ``img_split.get_sliding_window`` (single scale)."""
    step = size - gap

    def starts(extent: int) -> List[int]:
        n = 1 if extent <= size else math.ceil((extent - size) / step + 1)
        s = [step * i for i in range(n)]
        if len(s) > 1 and s[-1] + size > extent:
            s[-1] = extent - size
        return s

    origins = np.array([(x, y) for x in starts(width) for y in starts(height)], np.int64)
    inside_w = np.minimum(origins[:, 0] + size, width) - origins[:, 0]
    inside_h = np.minimum(origins[:, 1] + size, height) - origins[:, 1]
    inside = inside_w * inside_h
    rates = inside / float(size * size)
    if not (rates > rate_thr).any():
        rates[np.abs(rates - rates.max()) < 0.01] = 1.0
    return origins[rates > rate_thr]


# --------------------------------------------------------------------------- ground truth


@dataclass
class ImageGT:
    """One synthetic image and its objects."""

    name: str
    width: int
    height: int
    cls: np.ndarray  # (n,) class index
    cx: np.ndarray
    cy: np.ndarray
    long: np.ndarray
    short: np.ndarray
    theta: np.ndarray
    poly: np.ndarray  # (n, 8) integer coordinates (as float)
    difficult: np.ndarray  # (n,) bool


def class_counts(rng: np.random.Generator) -> np.ndarray:
    """Objects per class in one image: present with ``PRESENCE``, then 1 + a heavy-tailed count."""
    present = rng.uniform(size=len(CLASSES)) < PRESENCE
    if not present.any():
        present[rng.choice(len(CLASSES), p=VAL_COUNTS / VAL_COUNTS.sum())] = True
    mean_extra = np.maximum(SHAPES[:, 4] - 1.0, 1e-3)
    dispersion = 0.9
    extra = rng.negative_binomial(dispersion, dispersion / (dispersion + mean_extra))
    return np.where(present, np.minimum(1 + extra, 20 * SHAPES[:, 4]), 0).astype(np.int64)


def place_class(rng: np.random.Generator, c: int, n: int, width: int, height: int) -> Tuple[np.ndarray, ...]:
    """``n`` objects of class ``c`` in clusters on rotated grids; wrapped into the image."""
    limit = 0.45 * min(width, height)
    k = max(1, int(round(n / SHAPES[c, 5])))
    cluster = np.sort(rng.integers(0, k, n))
    cx, cy, long, short, theta = (np.empty(n) for _ in range(5))
    for j in range(k):
        idx = np.flatnonzero(cluster == j)
        m = len(idx)
        if m == 0:
            continue
        base_long, base_short = sample_sizes(rng, np.array([c]), limit)
        lo = np.clip(base_long * np.exp(rng.normal(0, 0.08, m)), MIN_SHORT, limit)
        sh = np.clip(base_short * np.exp(rng.normal(0, 0.08, m)), MIN_SHORT, lo)
        angle0 = rng.uniform(0, np.pi)
        if ALIGNED[c]:
            ang = angle0 + rng.normal(0, 0.04, m)
            step_u, step_v = lo.max() * rng.uniform(1.15, 1.5), sh.max() * rng.uniform(1.4, 2.2)
        else:
            ang = rng.uniform(0, np.pi, m)
            step_u = step_v = lo.max() * rng.uniform(1.5, 2.5)
        per_row = max(1, int(math.ceil(math.sqrt(m * 2.5))))
        col, row = np.arange(m) % per_row, np.arange(m) // per_row
        du = (row - (row.max()) / 2) * step_u + rng.normal(0, 0.05 * step_u, m)
        dv = (col - (min(m, per_row) - 1) / 2) * step_v + rng.normal(0, 0.05 * step_v, m)
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        px = x0 + du * np.cos(angle0) - dv * np.sin(angle0)
        py = y0 + du * np.sin(angle0) + dv * np.cos(angle0)
        margin = lo / 2 + 1
        cx[idx] = margin + np.mod(px - margin, width - 2 * margin)
        cy[idx] = margin + np.mod(py - margin, height - 2 * margin)
        long[idx], short[idx], theta[idx] = lo, sh, ang
    return cx, cy, long, short, theta


def make_image_gt(seed: int, index: int) -> ImageGT:
    """One image: size, objects per class, their placement, integer polygons and difficult flags."""
    rng = rng_for(seed, index, STREAM_GT)
    width = int(np.exp(rng.uniform(np.log(800), np.log(4000))))
    height = int(np.clip(width * np.exp(rng.normal(0, 0.25)), 800, 4000))
    counts = class_counts(rng)
    parts = [place_class(rng, c, int(n), width, height) for c, n in enumerate(counts) if n]
    cls = np.repeat(np.arange(len(CLASSES)), counts)
    cx, cy, long, short, theta = (np.concatenate([p[i] for p in parts]) for i in range(5))
    poly = np.rint(rbox_polys(cx, cy, long, short, theta))
    poly[:, 0::2] = np.clip(poly[:, 0::2], 0, width - 1)
    poly[:, 1::2] = np.clip(poly[:, 1::2], 0, height - 1)
    difficult = rng.uniform(size=len(cls)) < np.where(long < 20, 0.16, 0.085)
    return ImageGT(image_name(seed, index), width, height, cls, cx, cy, long, short, theta, poly, difficult)


def label_text(gt: ImageGT, rng: np.random.Generator) -> str:
    """The labelTxt file of one image (headers as in DOTA-v1.0, integer coordinates)."""
    gsd = f"{rng.uniform(0.1, 0.9):.12f}" if rng.uniform() < 0.8 else "null"
    lines = ["imagesource:GoogleEarth", f"gsd:{gsd}"]
    coords = gt.poly.astype(np.int64).tolist()
    for p, c, d in zip(coords, gt.cls.tolist(), gt.difficult.tolist()):
        lines.append(f"{p[0]} {p[1]} {p[2]} {p[3]} {p[4]} {p[5]} {p[6]} {p[7]} {CLASSES[c]} {int(d)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- detections


@dataclass
class ImageDets:
    """The detections of one image (scores not yet made unique)."""

    cls: np.ndarray
    score: np.ndarray  # raw, in (0, 1)
    poly: np.ndarray  # (m, 8), 2 decimals
    centre: np.ndarray  # (m, 2)


def jittered(rng: np.random.Generator, gt: ImageGT, src: np.ndarray, sigma: np.ndarray):
    """Rotated rectangles near GT ``src``: shifted, rescaled and turned by relative noise ``sigma``."""
    th = gt.theta[src] + rng.normal(0, 1, len(src)) * sigma * 0.6
    du, dv = rng.normal(0, 1, (2, len(src))) * sigma * np.stack([gt.long[src], gt.short[src]])
    t0 = gt.theta[src]
    cx = gt.cx[src] + du * np.cos(t0) - dv * np.sin(t0)
    cy = gt.cy[src] + du * np.sin(t0) + dv * np.cos(t0)
    lo = gt.long[src] * np.exp(rng.normal(0, 1, len(src)) * sigma)
    sh = gt.short[src] * np.exp(rng.normal(0, 1, len(src)) * sigma)
    return cx, cy, lo, sh, th


def make_detections(seed: int, index: int, gt: ImageGT, per_image: int) -> ImageDets:
    """About ``per_image`` scored detections for one image."""
    rng = rng_for(seed, index, STREAM_DETS)
    n = len(gt.cls)
    parts = []  # (cls, score, cx, cy, long, short, theta)
    p_found = np.where(gt.difficult, 0.6, np.where(gt.long < 20, 0.85, 0.95))
    found = np.flatnonzero(rng.uniform(size=n) < p_found)
    sigma = rng.uniform(0.01, 0.15, len(found))
    label = np.where(rng.uniform(size=len(found)) < 0.05, CONFUSED[gt.cls[found]], gt.cls[found])
    parts.append((label, rng.beta(5, 2, len(found)) * (1 - sigma), *jittered(rng, gt, found, sigma)))
    dup = found[rng.uniform(size=len(found)) < 0.25]
    sigma = rng.uniform(0.1, 0.4, len(dup))
    parts.append((gt.cls[dup], rng.beta(2, 4, len(dup)), *jittered(rng, gt, dup, sigma)))
    n_fp = max(per_image - len(found) - len(dup), per_image // 10)
    n_near = int(0.4 * n_fp) if n else 0
    if n_near:  # near an object: offset by 0.3-2.5 object lengths, mostly its class
        src = rng.integers(0, n, n_near)
        dist = rng.uniform(0.3, 2.5, n_near) * gt.long[src]
        phi = rng.uniform(0, 2 * np.pi, n_near)
        r = rng.uniform(size=n_near)
        label = np.where(r < 0.6, gt.cls[src], np.where(r < 0.8, CONFUSED[gt.cls[src]],
                                                        rng.choice(len(CLASSES), n_near, p=FP_CLASS_WEIGHTS)))
        lo, sh = sample_sizes(rng, gt.cls[src], 0.45 * min(gt.width, gt.height))
        parts.append((label, rng.beta(1.2, 10, n_near), gt.cx[src] + dist * np.cos(phi),
                      gt.cy[src] + dist * np.sin(phi), lo, sh, gt.theta[src] + rng.normal(0, 0.3, n_near)))
    n_far = n_fp - n_near  # anywhere, any class
    label = rng.choice(len(CLASSES), n_far, p=FP_CLASS_WEIGHTS)
    lo, sh = sample_sizes(rng, label, 0.45 * min(gt.width, gt.height))
    parts.append((label, rng.beta(1, 12, n_far), rng.uniform(0, gt.width, n_far), rng.uniform(0, gt.height, n_far),
                  lo, sh, rng.uniform(0, np.pi, n_far)))
    cls, score, cx, cy, lo, sh, th = (np.concatenate([p[i] for p in parts]) for i in range(7))
    cx = np.clip(cx, 0, gt.width - 0.01)  # centres inside the image, so every detection lands in a window
    cy = np.clip(cy, 0, gt.height - 0.01)
    lo, sh = np.maximum(lo, 2.0), np.maximum(sh, 2.0)
    poly = np.round(rbox_polys(cx, cy, lo, sh, th), 2)
    order = rng.permutation(len(cls))  # detectors write an image's boxes in no particular order
    centre = np.stack([poly[:, 0::2].mean(axis=1), poly[:, 1::2].mean(axis=1)], axis=1)
    return ImageDets(cls[order].astype(np.int64), np.clip(score[order], 1e-6, 1 - 1e-6), poly[order], centre[order])


def unique_score_units(raw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer scores in [1, 999999], all distinct, in the order of ``raw`` (ties broken at random).

    The rounded scores are sorted; crowded runs are pushed up just enough to be distinct, and the top is
    pushed back below 1 again. At most 999,999 detections per class.
    """
    n = len(raw)
    if n > MAX_SCORE_UNITS:
        raise ValueError(f"{n} detections in one class: 6-decimal scores cannot all differ")
    units = np.clip(np.rint(raw * 1e6), 1, MAX_SCORE_UNITS).astype(np.int64)
    order = np.lexsort((rng.permutation(n), units))
    k = np.arange(n)
    up = np.maximum.accumulate(units[order] - k) + k
    fixed = np.minimum(up, MAX_SCORE_UNITS - (n - 1 - k))
    out = np.empty(n, np.int64)
    out[order] = fixed
    return out


# --------------------------------------------------------------------------- writing


def task1_lines(names: Sequence[str], units: np.ndarray, poly: np.ndarray) -> List[str]:
    """``image score x1 y1 ... y4`` lines: 6-decimal scores, 2-decimal coordinates."""
    fmt = "%s %.6f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f"
    scores = (units / 1e6).tolist()
    return [fmt % (n, s, *p) for n, s, p in zip(names, scores, poly.tolist())]


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    os.replace(tmp, path)


def generate(out: Path, seed: int, images: int, per_image: int) -> dict:
    """Generate everything into ``out``; returns the metadata written to ``meta.json``."""
    started = time.perf_counter()
    for sub in ("labelTxt", "task1", "task1_tiles"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    gts: List[ImageGT] = []
    dets: List[ImageDets] = []
    for index in range(images):
        gt = make_image_gt(seed, index)
        write_text(out / "labelTxt" / f"{gt.name}.txt", label_text(gt, rng_for(seed, index, 98)))
        gts.append(gt)
        dets.append(make_detections(seed, index, gt, per_image))
    write_text(out / "imageset.txt", "".join(g.name + "\n" for g in gts))
    cls = np.concatenate([d.cls for d in dets])
    img = np.repeat(np.arange(images), [len(d.cls) for d in dets])
    raw = np.concatenate([d.score for d in dets])
    poly = np.concatenate([d.poly for d in dets])
    centre = np.concatenate([d.centre for d in dets])
    units = np.empty(len(cls), np.int64)
    score_rng = rng_for(seed, 2**31, 2)  # the one stream over all images
    for c in range(len(CLASSES)):
        sel = np.flatnonzero(cls == c)
        units[sel] = unique_score_units(raw[sel], score_rng)
    # tiles: every window holding the detection's centre (half-open), in tile coordinates
    tile_det, tile_name, tile_off = [], [], []
    windows = {}
    for i, gt in enumerate(gts):
        wins = sliding_windows(gt.width, gt.height)
        windows[gt.name] = len(wins)
        rows = np.flatnonzero(img == i)
        cxy = centre[rows]
        for x0, y0 in wins.tolist():
            inside = (cxy[:, 0] >= x0) & (cxy[:, 0] < x0 + TILE_SIZE) & (cxy[:, 1] >= y0) & (cxy[:, 1] < y0 + TILE_SIZE)
            hit = rows[inside]
            tile_det.append(hit)
            tile_name.append(np.full(len(hit), len(tile_off)))
            tile_off.append((f"{gt.name}__{TILE_SIZE}__{x0}___{y0}", x0, y0))
    tile_det_a = np.concatenate(tile_det)
    tile_idx = np.concatenate(tile_name)
    tile_order = np.lexsort((tile_det_a, tile_idx))  # tile by tile
    tile_det_a, tile_idx = tile_det_a[tile_order], tile_idx[tile_order]
    offsets = np.array([[o[1], o[2]] for o in tile_off], np.float64)
    tile_poly = poly[tile_det_a].copy()
    tile_poly[:, 0::2] -= offsets[tile_idx, :1]
    tile_poly[:, 1::2] -= offsets[tile_idx, 1:]
    names = [g.name for g in gts]
    per_class = {}
    for c, name in enumerate(CLASSES):
        sel = np.flatnonzero(cls == c)  # image order, shuffled within each image
        lines = task1_lines([names[i] for i in img[sel].tolist()], units[sel], poly[sel])
        write_text(out / "task1" / f"Task1_{name}.txt", "".join(ln + "\n" for ln in lines))
        tsel = np.flatnonzero(cls[tile_det_a] == c)
        tile_names = [tile_off[t][0] for t in tile_idx[tsel].tolist()]
        tlines = task1_lines(tile_names, units[tile_det_a[tsel]], tile_poly[tsel])
        write_text(out / "task1_tiles" / f"Task1_{name}.txt", "".join(ln + "\n" for ln in tlines))
        gt_c = sum(int((g.cls == c).sum()) for g in gts)
        diff_c = sum(int(((g.cls == c) & g.difficult).sum()) for g in gts)
        per_class[name] = {"gt": gt_c, "difficult": diff_c, "detections": int(len(sel)),
                           "tile_detections": int(len(tsel))}
    n_gt = sum(len(g.cls) for g in gts)
    meta = {
        **base_meta(seed, images, per_image),
        "objects": n_gt,
        "difficult": round(sum(int(g.difficult.sum()) for g in gts) / max(n_gt, 1), 4),
        "objects_per_image_max": max(len(g.cls) for g in gts),
        "image_sides": [min(min(g.width, g.height) for g in gts), max(max(g.width, g.height) for g in gts)],
        "detections": int(len(cls)),
        "tiles": len(tile_off),
        "tile_detections": int(len(tile_det_a)),
        "per_class": per_class,
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_text(out / "meta.json", json.dumps(meta, indent=1) + "\n")
    return meta


def base_meta(seed: int, images: int, per_image: int) -> dict:
    """The fields that identify a dataset."""
    return {"format_version": FORMAT_VERSION, "seed": seed, "images": images, "dets_per_image": per_image,
            "tile_size": TILE_SIZE, "tile_gap": TILE_GAP, "numpy": np.__version__}


def default_dir(seed: int, images: int, per_image: int, root: Path = HERE / "_data" / "dota") -> Path:
    """Where one dataset lives by default."""
    return root / f"seed{seed}-images{images}-dets{per_image}"


def is_complete(out: Path, seed: int, images: int, per_image: int) -> bool:
    """Whether ``out`` holds a finished dataset of this configuration (and numpy version)."""
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return all(meta.get(k) == v for k, v in base_meta(seed, images, per_image).items())


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=IMAGES, help=f"number of images (default {IMAGES}, DOTA-v1.0 val)")
    ap.add_argument("--dets-per-image", type=int, default=DETS_PER_IMAGE,
                    help=f"detections per image over all classes (default {DETS_PER_IMAGE}; "
                         "more where an image has very many objects)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--out", type=Path, default=None,
                    help="output folder (default benchmarks/_data/dota/seed{S}-images{N}-dets{D})")
    args = ap.parse_args(argv)
    if args.images < 1 or args.dets_per_image < 1:
        ap.error("--images and --dets-per-image must be positive")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate, then print ``meta.json`` (without the per-class table) to stderr."""
    args = parse_args(argv)
    out = args.out or default_dir(args.seed, args.images, args.dets_per_image)
    meta = generate(out, args.seed, args.images, args.dets_per_image)
    print(json.dumps({k: v for k, v in meta.items() if k != "per_class"}, indent=1), file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
