"""Seeded generators of synthetic DOTA Task1 scenes and polygon pairs for differential tests.

Nothing here touches global random state; a case is reproduced from its seed alone::

    gt, dets = make_scene(7)                     # gt: {image: [(poly8, cls, diff)]}
    write_label_folder(gt, tmp / "labelTxt")     # + write_imageset(gt, tmp / "imageset.txt")
    write_task1_folder(dets, tmp / "det", CLASSES)
    p, q = make_poly_pairs(0, 1000)              # (n, 8) float64 arrays for IoU kernels

``dets`` maps class -> [(image, score, poly8)] in file order.  A class present in ``dets``
with an empty list is written as an empty ``Task1_<cls>.txt``; a class absent from ``dets``
gets no file at all.  Structures match ``dotaref`` (``voc_eval_ref(gt, dets[c], c)``).

What a scene contains (``scene_features`` finds it back from the data):
rotated rectangles, general convex and non-convex quads, a few bow-ties, axis-aligned
integer boxes with detections at a true IoU of 0.5 (half box inside, shift by a third; polyiou
rounds those to exactly 0.5 or a few ulps above / below, depending on position and order),
difficult GT (1 and 2), classes with detections but no GT, classes with GT but no detections
(missing and empty file), images without objects, tied or unique scores, duplicate
detections of one GT (already-detected -> FP), 1-8 images, <= 40 GT and <= 100 dets per image.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

CLASSES = ("plane", "ship", "storage-tank", "harbor", "small-vehicle", "large-vehicle",
           "bridge", "helicopter")

GT = Dict[str, List[Tuple[List[float], str, int]]]
Dets = Dict[str, List[Tuple[str, float, List[float]]]]


# ----------------------------------------------------------------------------------------
# single polygons
# ----------------------------------------------------------------------------------------

def _pick(rng: np.random.Generator, items: Sequence, weights: Sequence[float]):
    """One of ``items`` with the given (summing to 1) weights; cheaper than Generator.choice."""
    u, acc = rng.random(), 0.0
    for item, w in zip(items, weights):
        acc += w
        if u < acc:
            return item
    return items[-1]


def _reorder(poly: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random start vertex and random orientation (clockwise / counter-clockwise)."""
    start = 2 * int(rng.integers(4))
    idx = [(start + k) % 8 for k in range(8)]
    if rng.random() < 0.5:
        idx = [idx[(2 * (4 - v)) % 8 + o] for v in range(4) for o in (0, 1)]
    return poly[idx]


def rect_poly(cx: float, cy: float, w: float, h: float, theta: float) -> np.ndarray:
    """Corners of a w x h rectangle centred at (cx, cy), rotated by theta (radians)."""
    c, s = math.cos(theta), math.sin(theta)
    v1 = np.array([w / 2 * c, w / 2 * s])
    v2 = np.array([-h / 2 * s, h / 2 * c])
    ctr = np.array([cx, cy])
    return np.concatenate([ctr - v1 - v2, ctr + v1 - v2, ctr + v1 + v2, ctr - v1 + v2])


def int_box(x0: int, y0: int, w: int, h: int) -> np.ndarray:
    """Axis-aligned box with integer corners, as float64."""
    return np.array([x0, y0, x0 + w, y0, x0 + w, y0 + h, x0, y0 + h], dtype=np.float64)


def _star_quad(rng, cx, cy, size, concave: bool) -> np.ndarray:
    """Four vertices at sorted angles on a rotated ellipse (convex), or with one vertex pulled in."""
    t = np.sort(rng.uniform(0, 2 * np.pi, 4))
    a, b, rot = size / 2.0, size / 2.0 * rng.uniform(0.3, 1.0), rng.uniform(0, np.pi)
    ex, ey = a * np.cos(t), b * np.sin(t)
    pts = np.stack([ex * math.cos(rot) - ey * math.sin(rot), ex * math.sin(rot) + ey * math.cos(rot)], axis=1)
    if concave:
        pts[int(rng.integers(4))] *= rng.uniform(0.02, 0.3)
    return (pts + np.array([cx, cy])).reshape(8)


def _bowtie(rng, cx, cy, size) -> np.ndarray:
    """A self-intersecting quad: a convex one with two neighbouring vertices swapped."""
    pts = _star_quad(rng, cx, cy, size, False).reshape(4, 2)
    pts[[1, 2]] = pts[[2, 1]]
    return pts.reshape(8)


def random_object(rng: np.random.Generator, width: int, height: int) -> Tuple[str, np.ndarray]:
    """One GT polygon of a random kind inside a width x height image -> (kind, poly8)."""
    kind = _pick(rng, ("intbox", "rect", "convex", "concave", "bowtie"), (0.3, 0.35, 0.2, 0.1, 0.05))
    size = float(rng.uniform(8, 160))
    cx, cy = size + (width - 2 * size) * rng.random(), size + (height - 2 * size) * rng.random()
    if kind == "intbox":
        w, h = 3 * int(rng.integers(2, 40)), 2 * int(rng.integers(2, 40))
        poly = int_box(int(cx - w / 2), int(cy - h / 2), w, h)
    elif kind == "rect":
        poly = rect_poly(cx, cy, size, size * rng.uniform(0.2, 1.0), rng.uniform(-np.pi, np.pi))
        if rng.random() < 0.4:
            poly = np.round(poly)
    elif kind == "bowtie":
        poly = _bowtie(rng, cx, cy, size)
    else:
        poly = _star_quad(rng, cx, cy, size, kind == "concave")
    return str(kind), _reorder(poly, rng)


# ----------------------------------------------------------------------------------------
# detections around a GT
# ----------------------------------------------------------------------------------------

def _jitter(rng, poly: np.ndarray, amount: float) -> np.ndarray:
    """Poly moved and each vertex perturbed by up to ``amount`` of its size."""
    span = max(float(np.ptp(poly[0::2])), float(np.ptp(poly[1::2])), 1.0)
    shift = rng.normal(0, amount * span, 2)
    out = poly + np.tile(shift, 4) + rng.normal(0, amount * span / 3, 8)
    return np.round(out, int(rng.integers(0, 4))) if rng.random() < 0.5 else out


def _exact_half(poly: np.ndarray, rng) -> np.ndarray:
    """For an integer box of width 3k and even height: a box at true IoU 0.5 with it (see module doc)."""
    x0, y0 = poly[0::2].min(), poly[1::2].min()
    w, h = poly[0::2].max() - x0, poly[1::2].max() - y0
    if rng.random() < 0.5:  # shifted by a third of the width
        sx = w / 3 if rng.random() < 0.5 else -w / 3
        return _reorder(int_box(int(x0 + sx), int(y0), int(w), int(h)), rng)
    return _reorder(int_box(int(x0), int(y0), int(w), int(h // 2)), rng)  # lower half inside


def _dets_for_object(rng, kind: str, poly: np.ndarray) -> List[np.ndarray]:
    """0-3 detections of one GT: misses, good hits, exact-0.5 boxes, duplicates, poor hits."""
    if rng.random() < 0.15:
        return []
    if kind == "intbox" and rng.random() < 0.35:
        first = _exact_half(poly, rng)
    else:
        first = _jitter(rng, poly, float(rng.choice([0.01, 0.05, 0.15, 0.3])))
    out = [first]
    while len(out) < 3 and rng.random() < 0.3:  # duplicates -> already-detected FP
        out.append(_jitter(rng, poly, 0.02) if rng.random() < 0.7 else poly.copy())
    return out


def _scores(rng, n: int, mode: str) -> List[float]:
    """n scores: 'tied' (few values), 'rounded' (2 decimals) or 'unique'."""
    if mode == "tied":
        vals = rng.choice(np.array([0.3, 0.5, 0.7, 0.9, 1.0])[: int(rng.integers(1, 6))], n)
    elif mode == "rounded":
        vals = np.round(rng.uniform(0.05, 1.0, n), 2)
    else:
        vals = rng.permutation(np.linspace(0.05, 0.999, max(n, 1)))[:n] + rng.uniform(0, 1e-4)
    return [float(v) for v in vals]


# ----------------------------------------------------------------------------------------
# scenes
# ----------------------------------------------------------------------------------------

def _class_roles(rng, classes: Sequence[str]) -> Dict[str, str]:
    """Role per class: normal / det_only / gt_missing_file / gt_empty_file (>= 1 normal)."""
    roles = rng.choice(["normal", "normal", "normal", "det_only", "gt_missing_file", "gt_empty_file"],
                       len(classes))
    roles[int(rng.integers(len(classes)))] = "normal"
    return {c: str(r) for c, r in zip(classes, roles)}


def _image_objects(rng, name: str, roles: Dict[str, str], raw: Dict[str, list], max_gt: int,
                   max_dets: int) -> list:
    """GT of one image; its detections (hits, duplicates, false positives) go to ``raw``."""
    gt_classes = [c for c, r in roles.items() if r != "det_only"]
    width, height = int(rng.integers(400, 4000)), int(rng.integers(400, 4000))
    n_gt = 0 if rng.random() < 0.15 else int(rng.integers(1, max_gt + 1))
    objs, img_dets = [], []
    for _ in range(n_gt):
        cls = gt_classes[int(rng.integers(len(gt_classes)))]
        kind, poly = random_object(rng, width, height)
        diff = _pick(rng, (0, 1, 2), (0.8, 0.12, 0.08))
        objs.append(([float(v) for v in poly], cls, diff))
        if cls in raw:
            img_dets += [(cls, d) for d in _dets_for_object(rng, kind, poly)]
    for cls in raw:  # false positives, and all detections of det-only classes
        for _ in range(int(rng.integers(0, 6 if roles[cls] == "normal" else 12))):
            img_dets.append((cls, random_object(rng, width, height)[1]))
    for j in rng.permutation(len(img_dets))[:max_dets]:
        raw[img_dets[j][0]].append((name, [float(v) for v in img_dets[j][1]]))
    return objs


def make_scene(seed: int, n_images: Optional[int] = None, classes: Sequence[str] = CLASSES[:5],
               max_gt: int = 40, max_dets: int = 100, score_mode: Optional[str] = None):
    """Seeded synthetic scene -> (gt, dets); see the module docstring for what it covers.

    score_mode: 'tied' | 'rounded' | 'unique' (None: drawn from the seed).
    """
    rng = np.random.default_rng([seed, 0xD07A])
    n_images = int(rng.integers(1, 9)) if n_images is None else n_images
    score_mode = score_mode or str(rng.choice(["tied", "rounded", "unique"]))
    roles = _class_roles(rng, classes)
    raw: Dict[str, list] = {c: [] for c, r in roles.items() if r in ("normal", "det_only")}
    gt: GT = {}
    for k in range(n_images):
        name = f"P{seed % 10000:04d}_{k}"
        gt[name] = _image_objects(rng, name, roles, raw, max_gt, max_dets)
    dets: Dets = {c: [] for c, r in roles.items() if r in ("normal", "det_only", "gt_empty_file")}
    for cls, rows in raw.items():
        perm = rng.permutation(len(rows))
        scores = _scores(rng, len(rows), score_mode)
        dets[cls] = [(rows[j][0], scores[i], rows[j][1]) for i, j in enumerate(perm)]
    return gt, dets


def scene_features(gt: GT, dets: Dets, classes: Sequence[str] = CLASSES[:5]) -> Dict[str, bool]:
    """Which of the interesting situations a scene contains (derived from the data only)."""
    gt_classes = {o[1] for objs in gt.values() for o in objs}
    all_scores = [d[1] for rows in dets.values() for d in rows]
    return {
        "difficult": any(o[2] > 0 for objs in gt.values() for o in objs),
        "det_only_class": any(c not in gt_classes and dets.get(c) for c in classes),
        "gt_missing_file": any(c in gt_classes and c not in dets for c in classes),
        "gt_empty_file": any(c in gt_classes and c in dets and not dets[c] for c in classes),
        "empty_image": any(len(objs) == 0 for objs in gt.values()),
        "tied_scores": len(set(all_scores)) < len(all_scores),
    }


# ----------------------------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------------------------

def _num(v: float) -> str:
    """Integral values as integers (like real DOTA labels), others as repr."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def write_label_folder(gt: GT, folder, seed: int = 0) -> None:
    """DOTA labelTxt files, one per image; header lines, CRLF and 9-token lines drawn from ``seed``.

    Difficulty 0 may be written with 9 tokens (no difficulty); 1 and 2 always with 10.
    """
    rng = np.random.default_rng([seed, 0x1AB])
    os.makedirs(folder, exist_ok=True)
    for name, objs in gt.items():
        eol = "\r\n" if rng.random() < 0.3 else "\n"
        lines = []
        if rng.random() < 0.5:
            lines += ["imagesource:GoogleEarth", "gsd:" + ("null" if rng.random() < 0.3 else "0.146343")]
        short = rng.random() < 0.5
        for poly, cls, diff in objs:
            toks = [_num(v) for v in poly] + [cls]
            if diff != 0 or not short:
                toks.append(str(diff))
            lines.append(" ".join(toks))
        with open(Path(folder) / f"{name}.txt", "w", encoding="utf-8", newline="") as fh:
            fh.write("".join(ln + eol for ln in lines))


def write_imageset(gt: GT, path) -> None:
    """Image-set file: one image name per line, in ``gt`` order."""
    Path(path).write_text("".join(n + "\n" for n in gt), encoding="utf-8")


def write_task1_folder(dets: Dets, folder, classes: Sequence[str]) -> None:
    """``Task1_<cls>.txt`` for each of ``classes`` present in ``dets`` (absent -> no file; [] -> empty)."""
    os.makedirs(folder, exist_ok=True)
    for cls in classes:
        if cls not in dets:
            continue
        with open(Path(folder) / f"Task1_{cls}.txt", "w", encoding="utf-8", newline="\n") as fh:
            for name, score, poly in dets[cls]:
                fh.write(name + " " + repr(float(score)) + " " + " ".join(repr(float(v)) for v in poly) + "\n")


# ----------------------------------------------------------------------------------------
# polygon pairs for IoU kernels
# ----------------------------------------------------------------------------------------

PAIR_KINDS = ("intbox_half", "intbox_random", "rect", "convex", "concave", "bowtie", "identical",
              "touching", "tiny", "huge", "degenerate", "mixed")


def _pair_int(rng, kind: str) -> Tuple[np.ndarray, np.ndarray]:
    """Integer axis-aligned boxes: true IoU 0.5, touching (edge / corner), or random overlap."""
    w, h = 3 * int(rng.integers(1, 60)), 2 * int(rng.integers(1, 60))
    p = int_box(int(rng.integers(0, 2000)), int(rng.integers(0, 2000)), w, h)
    if kind == "intbox_half":
        return p, _exact_half(p, rng)
    if kind == "touching":
        dx, dy = [(w, 0), (0, h), (w, h), (-w, int(rng.integers(-h, h + 1)))][int(rng.integers(4))]
        return p, int_box(int(p[0] + dx), int(p[1] + dy), int(rng.integers(1, 90)), int(rng.integers(1, 90)))
    return p, int_box(int(p[0] + rng.integers(-w, w + 1)), int(p[1] + rng.integers(-h, h + 1)),
                      int(rng.integers(1, 90)), int(rng.integers(1, 90)))


def _pair_degenerate(rng) -> Tuple[np.ndarray, np.ndarray]:
    """A zero-area quad (collinear or a single point) against a real one, or against itself."""
    p = random_object(rng, 2000, 2000)[1]
    a, b = p[:2], p[2:4]
    t = np.sort(rng.uniform(0, 1, 4))
    q = np.concatenate([a + ti * (b - a) for ti in t]) if rng.random() < 0.5 else np.tile(a, 4)
    if rng.random() < 0.2:
        return q, q.copy()  # both without area: 0 / 0
    return (q, p) if rng.random() < 0.5 else (p, q)


def _pair(rng, kind: str) -> Tuple[np.ndarray, np.ndarray]:
    """One (p, q) pair of the given kind, before re-ordering."""
    if kind in ("intbox_half", "intbox_random", "touching"):
        return _pair_int(rng, kind)
    scale = 20000.0 if kind == "huge" else (float(rng.choice([1e-3, 0.05, 1.0, 4.0])) if kind == "tiny" else 1000.0)
    size = scale * (rng.uniform(0.2, 0.9) if kind in ("huge", "tiny") else rng.uniform(0.005, 0.2))
    cx, cy = rng.uniform(size, scale - size, 2) if scale > 2 * size else (scale / 2, scale / 2)
    if kind in ("rect", "huge", "tiny"):
        p = rect_poly(cx, cy, size, size * rng.uniform(0.1, 1), rng.uniform(-np.pi, np.pi))
        q = rect_poly(cx + rng.normal(0, size / 3), cy + rng.normal(0, size / 3),
                      size * rng.uniform(0.3, 1.5), size * rng.uniform(0.1, 1), rng.uniform(-np.pi, np.pi))
        return (np.round(p), np.round(q)) if kind == "huge" and rng.random() < 0.5 else (p, q)
    if kind in ("convex", "concave"):
        p = _star_quad(rng, cx, cy, size, kind == "concave")
        return p, _star_quad(rng, cx + rng.normal(0, size / 4), cy + rng.normal(0, size / 4), size,
                             kind == "concave" and rng.random() < 0.5)
    if kind == "bowtie":
        p = _bowtie(rng, cx, cy, size)
        return p, (_bowtie(rng, cx, cy, size) if rng.random() < 0.5 else _star_quad(rng, cx, cy, size, False))
    if kind == "identical":
        p = random_object(rng, 2000, 2000)[1]
        return p, p.copy()
    if kind == "degenerate":
        return _pair_degenerate(rng)
    return random_object(rng, 3000, 3000)[1], random_object(rng, 3000, 3000)[1]  # mixed, mostly disjoint


def make_poly_pairs(seed: int, n: int, kinds: Sequence[str] = PAIR_KINDS) -> Tuple[np.ndarray, np.ndarray]:
    """n seeded polygon pairs cycling through ``kinds`` -> two (n, 8) float64 arrays."""
    rng = np.random.default_rng([seed, 0x9A1])
    ps, qs = np.empty((n, 8)), np.empty((n, 8))
    for i in range(n):
        kind = kinds[i % len(kinds)]
        p, q = _pair(rng, kind)
        ps[i], qs[i] = _reorder(np.asarray(p, float), rng), _reorder(np.asarray(q, float), rng)
        if kind == "identical" and rng.random() < 0.5:
            qs[i] = ps[i]  # same vertex order too
    return ps, qs
