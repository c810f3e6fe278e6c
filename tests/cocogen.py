"""Seeded generators of small, deliberately awkward COCO evaluation cases.

Every generator takes an explicit seed (or a ``numpy.random.Generator``) and
never touches global random state, so a failing case is reproduced by its seed
alone::

    gt, preds = make_case(17, "bbox")
    gt, preds = make_case(3, "segm")
    gt, preds = make_case(5, "proposal")
    gt, preds = scenario("gt_id_zero")

The outputs are plain JSON-compatible Python objects (dicts, lists, ints,
floats, str), so they can be written to disk and fed to any evaluator.

Tricky rules the cases are built to exercise (see ``case_features`` which
detects them in a generated case, independently of the generator):

* crowd GTs (IoU against a crowd region is intersection / detection area and a
  crowd region can absorb any number of detections);
* an ``ignore`` field on GTs that disagrees with ``iscrowd`` (pycocotools
  replaces ``ignore`` by ``iscrowd``);
* a GT ``area`` that differs from the box / mask area, and values exactly on
  the 32**2 / 96**2 borders (ranges are closed at both ends) or beyond 1e5**2;
* exact score ties within and across images;
* more detections per image/category than the largest maxDets;
* IoUs exactly equal to thresholds (k/20, k = 10..19), including 0.9 whose
  pycocotools threshold is 0.8999999999999999;
* images without GT, images without detections, listed categories without GT,
  detections of such categories;
* a GT with annotation id 0 (a detection matched to it counts as unmatched);
* zero-area and tiny boxes, touching boxes, duplicated GTs and detections,
  fractional coordinates, boxes partly outside the image;
* segm: polygon GTs (multi-part, degenerate, partly outside the image),
  uncompressed-RLE and compressed-RLE GTs, empty / full-image detection masks,
  detections with and without a ``bbox`` key (with one on the first result,
  pycocotools uses bbox w*h as the detection area).
"""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Tuple

import numpy as np
from pycocotools import mask as mask_utils

KINDS = ("bbox", "segm", "proposal")
TIE_SCORES = (0.5, 0.7, 0.9)
AREA_BORDERS = (float(32 ** 2), float(96 ** 2))
AREA_ALL_MAX = float(1e5 ** 2)

Case = Tuple[dict, list]


# --------------------------------------------------------------------------
# small utilities
# --------------------------------------------------------------------------
def _rng(seed_or_rng) -> np.random.Generator:
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    return np.random.default_rng(seed_or_rng)


def _f(x) -> float:
    return float(x)


def _quant(v: float, mode: str) -> float:
    if mode == "int":
        return float(round(v))
    if mode == "quarter":
        return float(round(v * 4.0) / 4.0)
    if mode == "coco2":
        return float(round(v, 2))
    return float(v)


def _box_area(b) -> float:
    return float(b[2]) * float(b[3])


def uncompressed_rle(mask: np.ndarray) -> dict:
    """Uncompressed RLE (``counts`` is a list of ints) of a binary HxW mask.

    Runs are taken in column-major order and always start with a run of zeros
    (possibly of length 0), as in the COCO format.
    """
    m = np.asarray(mask, dtype=np.uint8)
    h, w = m.shape
    flat = m.ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(edges).astype(int).tolist()
    if flat.size and flat[0] == 1:
        runs = [0] + runs
    return {"size": [int(h), int(w)], "counts": [int(r) for r in runs]}


def compressed_rle(mask: np.ndarray) -> dict:
    """Compressed RLE with ``counts`` as str (JSON form) of a binary HxW mask."""
    m = np.asfortranarray(np.asarray(mask, dtype=np.uint8))
    rle = mask_utils.encode(m)
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": counts}


def _to_c_rle(segm, h: int, w: int) -> dict:
    """pycocotools RLE (bytes counts) of any COCO segmentation form."""
    if isinstance(segm, list):
        return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
    if isinstance(segm.get("counts"), list):
        return mask_utils.frPyObjects(segm, h, w)
    s = dict(segm)
    if isinstance(s["counts"], str):
        s["counts"] = s["counts"].encode("ascii")
    return s


def segm_to_mask(segm, h: int, w: int) -> np.ndarray:
    return np.asarray(mask_utils.decode(_to_c_rle(segm, h, w)), dtype=np.uint8)


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------
_SCORE_MODES = ("ties", "coco3", "float", "mixed")
_COORD_MODES = ("int", "coco2", "quarter", "float")


def _config(seed: int, kind: str, rng: np.random.Generator, overrides: dict) -> dict:
    # A few features are cycled by seed so that any run of consecutive seeds
    # covers all of them; the rest are drawn at random.
    cfg = dict(
        kind=kind,
        score_mode=_SCORE_MODES[seed % 4],
        coord_mode=_COORD_MODES[(seed // 4) % 4] if kind != "segm" else "int",
        n_images=int(rng.integers(1, 7)),
        n_cats=int(rng.integers(1, 5)),
        p_img_no_gt=0.2,
        p_img_no_det=0.15,
        p_crowd=float(rng.choice([0.0, 0.1, 0.25])),
        p_ignore_field=float(rng.choice([0.0, 0.3, 0.6])),
        p_gt_id_zero=0.5,
        max_gt_per_group=int(rng.integers(1, 6)),
        overflow=(seed % 5 == 0) if kind == "bbox" else (seed % 8 == 0 if kind == "segm" else False),
        overflow_1000=(kind == "proposal" and seed % 6 == 0),
        unknown_cat_dets=False,
        det_ids=bool(rng.random() < 0.2),
        bbox_key_mode=("none", "all", "mixed")[seed % 3],
        img_min=30 if kind == "segm" else 40,
        img_max=120 if kind == "segm" else 200,
    )
    cfg.update(overrides)
    return cfg


def _score(rng: np.random.Generator, mode: str) -> float:
    if mode == "ties" or (mode == "mixed" and rng.random() < 0.5):
        return float(rng.choice(TIE_SCORES))
    if mode == "coco3" or mode == "mixed":
        return float(round(float(rng.uniform(0.001, 1.0)), 3))
    return float(rng.uniform(0.0, 1.0))


def _images(rng: np.random.Generator, cfg: dict) -> List[dict]:
    n = cfg["n_images"]
    ids = rng.choice(np.arange(1, 5000), size=n, replace=False)  # unsorted, sparse
    out = []
    for i in ids:
        w = int(rng.integers(cfg["img_min"], cfg["img_max"] + 1))
        h = int(rng.integers(cfg["img_min"], cfg["img_max"] + 1))
        out.append({"id": int(i), "width": w, "height": h, "file_name": f"{int(i):012d}.jpg"})
    return out


def _categories(rng: np.random.Generator, cfg: dict) -> List[dict]:
    ids = rng.choice(np.arange(1, 91), size=cfg["n_cats"], replace=False)  # unsorted
    return [{"id": int(c), "name": f"cat{int(c)}", "supercategory": "thing"} for c in ids]


def _gt_ids(rng: np.random.Generator, n: int, want_zero: bool) -> List[int]:
    if n == 0:
        return []
    ids = rng.choice(np.arange(1, 20 * n + 50), size=n, replace=False).astype(int).tolist()
    if want_zero:
        ids[int(rng.integers(n))] = 0
    return ids


# --------------------------------------------------------------------------
# boxes
# --------------------------------------------------------------------------
def _rand_box(rng: np.random.Generator, W: int, H: int, mode: str) -> List[float]:
    r = rng.random()
    if r < 0.08:
        w, h = (float(v) for v in rng.integers(0, 4, size=2))  # tiny, maybe zero
    elif r < 0.45:
        w, h = (float(v) for v in rng.uniform(2, 40, size=2))
    elif r < 0.85:
        w, h = (float(v) for v in rng.uniform(20, 100, size=2))
    else:
        w, h = float(rng.uniform(60, max(W, 61))), float(rng.uniform(60, max(H, 61)))
    w, h = min(w, float(W)), min(h, float(H))
    if mode == "int" and rng.random() < 0.5:
        # heights divisible by 20 / 4 make exact-threshold IoUs constructible
        step = 20.0 if rng.random() < 0.5 else 4.0
        h = max(step, round(h / step) * step)
        h = min(h, float(H // int(step) * int(step))) if H >= step else h
    x = float(rng.uniform(0, max(W - w, 0.0)))
    y = float(rng.uniform(0, max(H - h, 0.0)))
    b = [_quant(x, mode), _quant(y, mode), _quant(w, mode), _quant(h, mode)]
    b[2], b[3] = max(b[2], 0.0), max(b[3], 0.0)
    return b


def _exact_iou_box(rng: np.random.Generator, g: List[float]) -> Optional[List[float]]:
    """A box whose IoU with g is exactly k/20 (or 1/2, 3/4) when g is integral."""
    x, y, w, h = g
    if w <= 0 or h <= 0:
        return None
    hi = int(h)
    opts = []
    if hi == h:
        if hi % 20 == 0:
            opts += [[x, y, w, float(hi * k // 20)] for k in range(10, 20)]
        if hi % 4 == 0:
            opts.append([x, y, w, float(3 * hi // 4)])
        if hi % 2 == 0:
            opts.append([x, y, w, float(hi // 2)])
            opts.append([x, y + hi // 2, w, float(hi // 2)])
        if hi % 3 == 0:
            opts.append([x, y, w, float(4 * hi // 3)])  # larger box, IoU 3/4
        opts.append([x, y, w, float(2 * hi)])  # larger box, IoU 1/2
    if not opts:
        return [x, y, w, h * 0.5]
    return [float(v) for v in opts[int(rng.integers(len(opts)))]]


def _det_boxes_for_gt(rng: np.random.Generator, g: List[float], mode: str, crowd: bool) -> List[List[float]]:
    x, y, w, h = g
    out = []
    n = int(rng.choice([0, 1, 1, 1, 2, 2, 3]))
    if crowd:
        n += int(rng.integers(0, 4))
    for _ in range(n):
        r = rng.random()
        if r < 0.15:
            b = [x, y, w, h]
        elif r < 0.40:
            b = _exact_iou_box(rng, g) or [x, y, w, h]
        elif r < 0.70:
            s = max(w, h, 1.0) * float(rng.choice([0.03, 0.1, 0.25]))
            nx, ny = x + rng.normal(0, s), y + rng.normal(0, s)
            nw, nh = max(w + rng.normal(0, s), 0.0), max(h + rng.normal(0, s), 0.0)
            b = [_quant(nx, mode), _quant(ny, mode), _quant(nw, mode), _quant(nh, mode)]
        elif r < 0.78:
            b = [x + w, y, w, h]  # touching on the right edge -> IoU 0
        elif r < 0.84:
            b = [x, y, 0.0, h] if rng.random() < 0.5 else [x, y, w, 0.0]  # zero area
        elif r < 0.92 and crowd:
            # inside the crowd region: IoU (= inter / det area) is 1
            fw, fh = float(rng.uniform(0.2, 1.0)), float(rng.uniform(0.2, 1.0))
            b = [_quant(x + (1 - fw) * w / 2, mode), _quant(y + (1 - fh) * h / 2, mode),
                 _quant(fw * w, mode), _quant(fh * h, mode)]
        else:
            b = [x + w / 2.0, y + h / 2.0, w, h]  # quarter overlap
        out.append([float(v) for v in b])
    return out


# --------------------------------------------------------------------------
# GT annotations (bbox / proposal)
# --------------------------------------------------------------------------
def _gt_area(rng: np.random.Generator, natural: float) -> float:
    r = rng.random()
    if r < 0.6:
        return float(natural)
    if r < 0.75:
        return float(AREA_BORDERS[int(rng.integers(2))])
    if r < 0.8:
        # one ulp off a border: equal to it once rounded to float32
        b = AREA_BORDERS[int(rng.integers(2))]
        return float(np.nextafter(b, np.inf if rng.random() < 0.5 else -np.inf))
    if r < 0.9:
        return float(natural * rng.uniform(0.3, 1.5))
    if r < 0.95:
        return 0.0
    return float(rng.choice([AREA_ALL_MAX, AREA_ALL_MAX + 1.0]))


def _gt_common(rng, cfg, ann: dict, natural_area: float) -> dict:
    crowd = ann["iscrowd"]
    ann["area"] = _gt_area(rng, natural_area)
    if rng.random() < cfg["p_ignore_field"]:
        # usually disagreeing with iscrowd: pycocotools overwrites it
        ann["ignore"] = int(1 - crowd) if rng.random() < 0.7 else int(crowd)
    return ann


def _bbox_gts(rng, cfg, images, gt_cats) -> List[dict]:
    anns = []
    mode = cfg["coord_mode"]
    for img in images:
        if rng.random() < cfg["p_img_no_gt"]:
            continue
        W, H = img["width"], img["height"]
        for c in gt_cats:
            k = int(rng.integers(0, cfg["max_gt_per_group"] + 1))
            prev = None
            for _ in range(k):
                r = rng.random()
                if prev is not None and r < 0.08:
                    b = list(prev)  # duplicated GT
                elif prev is not None and r < 0.16:
                    b = [prev[0] + prev[2], prev[1], float(rng.integers(1, 30)), prev[3]]  # touching
                else:
                    b = _rand_box(rng, W, H, mode)
                crowd = int(rng.random() < cfg["p_crowd"])
                ann = {"image_id": img["id"], "category_id": c, "bbox": [float(v) for v in b],
                       "iscrowd": crowd}
                anns.append(_gt_common(rng, cfg, ann, _box_area(b)))
                prev = b
    rng.shuffle(anns)
    ids = _gt_ids(rng, len(anns), rng.random() < cfg["p_gt_id_zero"])
    for a, i in zip(anns, ids):
        a["id"] = int(i)
    return anns


# --------------------------------------------------------------------------
# detections (bbox / proposal)
# --------------------------------------------------------------------------
def _bbox_dets(rng, cfg, images, cats, gts) -> List[dict]:
    mode = cfg["coord_mode"]
    smode = cfg["score_mode"]
    cat_ids = [c["id"] for c in cats]
    by_img: Dict[int, List[dict]] = {}
    for g in gts:
        by_img.setdefault(g["image_id"], []).append(g)
    dets = []
    for img in images:
        if rng.random() < cfg["p_img_no_det"]:
            continue
        W, H = img["width"], img["height"]
        for g in by_img.get(img["id"], []):
            for b in _det_boxes_for_gt(rng, g["bbox"], mode, bool(g["iscrowd"])):
                dets.append({"image_id": img["id"], "category_id": g["category_id"], "bbox": b})
        # background / wrong-class detections, some for categories without GT
        for _ in range(int(rng.integers(0, 5))):
            dets.append({"image_id": img["id"], "category_id": int(rng.choice(cat_ids)),
                         "bbox": _rand_box(rng, W, H, mode)})
        if cfg["unknown_cat_dets"] and rng.random() < 0.5:
            dets.append({"image_id": img["id"], "category_id": 999,
                         "bbox": _rand_box(rng, W, H, mode)})
    if cfg["unknown_cat_dets"] and not any(d["category_id"] == 999 for d in dets):
        img = images[0]
        dets.append({"image_id": img["id"], "category_id": 999,
                     "bbox": _rand_box(rng, img["width"], img["height"], mode)})
    # duplicates of existing detections
    for d in list(dets):
        if rng.random() < 0.08:
            dets.append(copy.deepcopy(d))
    for d in dets:
        d["score"] = _score(rng, smode)
    # a duplicate with a different score
    if dets and rng.random() < 0.5:
        d = copy.deepcopy(dets[int(rng.integers(len(dets)))])
        d["score"] = _score(rng, smode)
        dets.append(d)
    if cfg["overflow"] and images:
        dets += _overflow_group(rng, cfg, images, gts, cat_ids, n=int(rng.integers(105, 131)))
    order = rng.permutation(len(dets))
    dets = [dets[i] for i in order]
    if cfg["det_ids"]:
        for i, d in enumerate(dets):
            d["id"] = int(1000 + 7 * i)  # pycocotools replaces these
    return dets


def _overflow_group(rng, cfg, images, gts, cat_ids, n) -> List[dict]:
    """More than 100 detections for one (image, category)."""
    mode = cfg["coord_mode"]
    if gts:
        g0 = gts[int(rng.integers(len(gts)))]
        img_id, cat = g0["image_id"], g0["category_id"]
    else:
        img_id, cat = images[0]["id"], cat_ids[0]
    img = next(i for i in images if i["id"] == img_id)
    group_gts = [g for g in gts if g["image_id"] == img_id and g["category_id"] == cat]
    out = []
    for j in range(n):
        if group_gts and rng.random() < 0.5:
            g = group_gts[int(rng.integers(len(group_gts)))]["bbox"]
            s = max(g[2], g[3], 1.0) * 0.1
            b = [_quant(g[0] + rng.normal(0, s), mode), _quant(g[1] + rng.normal(0, s), mode),
                 _quant(max(g[2] + rng.normal(0, s), 0), mode), _quant(max(g[3] + rng.normal(0, s), 0), mode)]
        else:
            b = _rand_box(rng, img["width"], img["height"], mode)
        # low-ish scores early and a few high ones late so truncation matters
        sc = _score(rng, cfg["score_mode"])
        out.append({"image_id": img_id, "category_id": cat, "bbox": [float(v) for v in b], "score": sc})
    return out


def _proposal_dets(rng, cfg, images, cats, gts) -> List[dict]:
    mode = cfg["coord_mode"]
    smode = cfg["score_mode"]
    cat_ids = sorted(c["id"] for c in cats)
    cat_mode = ("single", "gt", "random")[int(rng.integers(3))]
    by_img: Dict[int, List[dict]] = {}
    for g in gts:
        by_img.setdefault(g["image_id"], []).append(g)
    dets = []
    big_img = images[int(rng.integers(len(images)))]["id"] if cfg["overflow_1000"] else None
    for img in images:
        if rng.random() < cfg["p_img_no_det"] and img["id"] != big_img:
            continue
        W, H = img["width"], img["height"]
        igts = by_img.get(img["id"], [])
        n = int(rng.integers(1010, 1100)) if img["id"] == big_img else int(rng.integers(5, 160))
        for _ in range(n):
            if igts and rng.random() < 0.5:
                g = igts[int(rng.integers(len(igts)))]
                if rng.random() < 0.3:
                    b = _exact_iou_box(rng, g["bbox"]) or list(g["bbox"])
                else:
                    gb = g["bbox"]
                    s = max(gb[2], gb[3], 1.0) * float(rng.choice([0.05, 0.15, 0.3]))
                    b = [_quant(gb[0] + rng.normal(0, s), mode), _quant(gb[1] + rng.normal(0, s), mode),
                         _quant(max(gb[2] + rng.normal(0, s), 0), mode),
                         _quant(max(gb[3] + rng.normal(0, s), 0), mode)]
                gcat = g["category_id"]
            else:
                b = _rand_box(rng, W, H, mode)
                gcat = int(rng.choice(cat_ids))
            if cat_mode == "single":
                c = cat_ids[0]
            elif cat_mode == "gt":
                c = gcat
            else:
                c = int(rng.choice(cat_ids))
            dets.append({"image_id": img["id"], "category_id": int(c), "bbox": [float(v) for v in b],
                         "score": _score(rng, smode)})
    for d in list(dets):
        if rng.random() < 0.03:
            dets.append(copy.deepcopy(d))
    order = rng.permutation(len(dets))
    return [dets[i] for i in order]


# --------------------------------------------------------------------------
# segm
# --------------------------------------------------------------------------
def _polygon(rng, W, H, cx=None, cy=None, R=None, mode="coco2") -> List[float]:
    cx = float(rng.uniform(0, W)) if cx is None else cx
    cy = float(rng.uniform(0, H)) if cy is None else cy
    R = float(rng.uniform(2, max(W, H) / 2.5)) if R is None else R
    n = int(rng.integers(3, 10))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.35, 1.0, n) * R
    xs = cx + rad * np.cos(ang) * float(rng.uniform(0.5, 1.5))
    ys = cy + rad * np.sin(ang)
    pts = []
    for px, py in zip(xs, ys):
        pts += [_quant(px, mode), _quant(py, mode)]
    return pts


def _rect_mask(rng, W, H) -> np.ndarray:
    m = np.zeros((H, W), dtype=np.uint8)
    w = int(rng.integers(1, W + 1))
    h = int(rng.integers(1, H + 1))
    x = int(rng.integers(0, W - w + 1))
    y = int(rng.integers(0, H - h + 1))
    m[y:y + h, x:x + w] = 1
    return m


def _gt_segmentation(rng, W, H, crowd: bool):
    """Returns (segmentation in COCO form, kind-string)."""
    if crowd:
        m = _rect_mask(rng, W, H)
        if rng.random() < 0.5:
            m |= _rect_mask(rng, W, H)
        if rng.random() < 0.65:
            return uncompressed_rle(m), "rle_uncompressed"
        return compressed_rle(m), "rle_compressed"
    r = rng.random()
    if r < 0.65:
        polys = [_polygon(rng, W, H, mode=str(rng.choice(["coco2", "int", "float"])))]
        if rng.random() < 0.25:
            polys.append(_polygon(rng, W, H))  # multi-part
        if rng.random() < 0.05:
            x0, y0 = float(rng.uniform(0, W)), float(rng.uniform(0, H))
            polys.append([x0, y0, x0 + 5.0, y0 + 5.0, x0 + 10.0, y0 + 10.0])  # degenerate part
        return polys, "polygon"
    if r < 0.85:
        m = _rect_mask(rng, W, H)
        if rng.random() < 0.5:
            m &= segm_to_mask([_polygon(rng, W, H)], H, W) | (rng.random((H, W)) < 0.1)
        return uncompressed_rle(m), "rle_uncompressed"
    m = segm_to_mask([_polygon(rng, W, H)], H, W)
    return compressed_rle(m), "rle_compressed"


def _shift(m: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(m)
    H, W = m.shape
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[yd, xd] = m[ys, xs]
    return out


def _dilate(m: np.ndarray) -> np.ndarray:
    out = m.copy()
    out[1:, :] |= m[:-1, :]
    out[:-1, :] |= m[1:, :]
    out[:, 1:] |= m[:, :-1]
    out[:, :-1] |= m[:, 1:]
    return out


def _erode(m: np.ndarray) -> np.ndarray:
    return 1 - _dilate(1 - m)


def _exact_iou_mask(rng, g: np.ndarray) -> Optional[np.ndarray]:
    """Mask with IoU exactly k/20, 1/2 or 3/4 with g (subset or superset)."""
    flat = g.ravel(order="F")
    on = np.flatnonzero(flat)
    n = on.size
    if n == 0:
        return None
    fracs = []
    if n % 20 == 0:
        fracs += [(k, 20) for k in range(10, 20)]
    if n % 4 == 0:
        fracs.append((3, 4))
    if n % 2 == 0:
        fracs.append((1, 2))
    if fracs and rng.random() < 0.75:
        k, d = fracs[int(rng.integers(len(fracs)))]
        keep = on[: n * k // d]
        out = np.zeros_like(flat)
        out[keep] = 1
        return out.reshape(g.shape, order="F")
    # superset: add n/3 (IoU 3/4) or n (IoU 1/2) pixels outside g
    off = np.flatnonzero(flat == 0)
    add = n // 3 if (n % 3 == 0 and rng.random() < 0.5) else n
    if add > off.size:
        return None
    out = flat.copy()
    out[off[:add]] = 1
    return out.reshape(g.shape, order="F")


def _det_masks_for_gt(rng, gm: np.ndarray, crowd: bool) -> List[np.ndarray]:
    H, W = gm.shape
    n = int(rng.choice([0, 1, 1, 1, 2, 2, 3])) + (int(rng.integers(0, 3)) if crowd else 0)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.15:
            m = gm.copy()
        elif r < 0.45:
            m = _exact_iou_mask(rng, gm)
            if m is None:
                m = gm.copy()
        elif r < 0.65:
            m = _shift(gm, int(rng.integers(-4, 5)), int(rng.integers(-4, 5)))
        elif r < 0.75:
            m = _dilate(gm) if rng.random() < 0.5 else _erode(gm)
        elif r < 0.82 and crowd:
            m = gm & _rect_mask(rng, W, H)  # inside crowd region
        elif r < 0.88:
            m = np.zeros_like(gm)  # empty mask
        elif r < 0.92:
            m = np.ones_like(gm)  # full image
        else:
            m = _rect_mask(rng, W, H)
        out.append(np.asarray(m, dtype=np.uint8))
    return out


def _segm_case(seed: int, rng, cfg) -> Case:
    images = _images(rng, cfg)
    cats = _categories(rng, cfg)
    n_gt_cats = max(1, len(cats) - int(rng.integers(0, 2)))
    gt_cats = [c["id"] for c in cats[:n_gt_cats]]
    smode = cfg["score_mode"]
    anns, dets, gmasks = [], [], []
    for img in images:
        W, H = img["width"], img["height"]
        if rng.random() < cfg["p_img_no_gt"]:
            continue
        for c in gt_cats:
            for _ in range(int(rng.integers(0, min(cfg["max_gt_per_group"], 4) + 1))):
                crowd = int(rng.random() < cfg["p_crowd"])
                segm, _kind = _gt_segmentation(rng, W, H, bool(crowd))
                rle = _to_c_rle(segm, H, W)
                marea = float(mask_utils.area(rle))
                bb = [float(v) for v in mask_utils.toBbox(rle)]
                ann = {"image_id": img["id"], "category_id": c, "segmentation": segm,
                       "bbox": bb, "iscrowd": crowd}
                r = rng.random()
                nat = marea if r < 0.85 else _box_area(bb)
                anns.append(_gt_common(rng, cfg, ann, nat))
                gmasks.append(np.asarray(mask_utils.decode(rle), dtype=np.uint8))
    order = rng.permutation(len(anns))
    anns = [anns[i] for i in order]
    gmasks = [gmasks[i] for i in order]
    ids = _gt_ids(rng, len(anns), rng.random() < cfg["p_gt_id_zero"])
    for a, i in zip(anns, ids):
        a["id"] = int(i)

    no_det = {img["id"] for img in images if rng.random() < cfg["p_img_no_det"]}
    img_by_id = {img["id"]: img for img in images}
    for a, gm in zip(anns, gmasks):
        if a["image_id"] in no_det:
            continue
        for m in _det_masks_for_gt(rng, gm, bool(a["iscrowd"])):
            dets.append({"image_id": a["image_id"], "category_id": a["category_id"], "_mask": m})
    cat_ids = [c["id"] for c in cats]
    for img in images:
        if img["id"] in no_det:
            continue
        for _ in range(int(rng.integers(0, 3))):
            W, H = img["width"], img["height"]
            m = _rect_mask(rng, W, H) if rng.random() < 0.5 else segm_to_mask([_polygon(rng, W, H)], H, W)
            dets.append({"image_id": img["id"], "category_id": int(rng.choice(cat_ids)), "_mask": m})
    if cfg["overflow"] and anns:
        a = anns[int(rng.integers(len(anns)))]
        gm = gmasks[anns.index(a)]
        for _ in range(int(rng.integers(102, 115))):
            m = _shift(gm, int(rng.integers(-3, 4)), int(rng.integers(-3, 4)))
            dets.append({"image_id": a["image_id"], "category_id": a["category_id"], "_mask": m})
    for d in list(dets):
        if rng.random() < 0.06:
            dets.append({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in d.items()})
    order = rng.permutation(len(dets))
    dets = [dets[i] for i in order]

    bbox_mode = cfg["bbox_key_mode"]
    out = []
    for j, d in enumerate(dets):
        m = d.pop("_mask")
        rle = compressed_rle(m)
        d["segmentation"] = rle
        d["score"] = _score(rng, smode)
        with_bbox = bbox_mode == "all" or (bbox_mode == "mixed" and j > 0 and rng.random() < 0.5)
        if with_bbox:
            img = img_by_id[d["image_id"]]
            if rng.random() < 0.3:
                d["bbox"] = _rand_box(rng, img["width"], img["height"], "coco2")  # unrelated box
            else:
                c = dict(rle)
                c["counts"] = c["counts"].encode("ascii")
                d["bbox"] = [float(v) for v in mask_utils.toBbox(c)]
        out.append(d)
    gt = {"info": {"description": f"cocogen segm seed={seed}"}, "images": images,
          "annotations": anns, "categories": cats}
    return gt, out


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------
def make_case(seed: int, kind: str = "bbox", **overrides) -> Case:
    """Deterministic (gt_dict, preds_list) for ``kind`` in {'bbox','segm','proposal'}.

    ``overrides`` replace entries of the internal configuration (e.g.
    ``n_images=2``, ``score_mode='ties'``, ``overflow=True``,
    ``unknown_cat_dets=True``).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    rng = np.random.default_rng([int(seed), KINDS.index(kind)])
    cfg = _config(int(seed), kind, rng, overrides)
    if kind == "segm":
        return _segm_case(int(seed), rng, cfg)
    images = _images(rng, cfg)
    cats = _categories(rng, cfg)
    # some listed categories get no GT at all
    n_gt_cats = max(1, len(cats) - int(rng.integers(0, 2)))
    gt_cats = [c["id"] for c in cats[:n_gt_cats]]
    if kind == "proposal":
        cfg = dict(cfg, max_gt_per_group=max(cfg["max_gt_per_group"], 3))
    gts = _bbox_gts(rng, cfg, images, gt_cats)
    if kind == "bbox":
        dets = _bbox_dets(rng, cfg, images, cats, gts)
    else:
        dets = _proposal_dets(rng, cfg, images, cats, gts)
    gt = {"info": {"description": f"cocogen {kind} seed={seed}"}, "images": images,
          "annotations": gts, "categories": cats}
    return gt, dets


def float32_area_border_case() -> Tuple[dict, np.ndarray]:
    """An (N,7) float32 result array whose first box has w*h == 1024 in float32
    arithmetic (what loadRes computes from float32 rows) but > 1024 in float64."""
    w, h = np.float32(39.108852), np.float32(26.18333)
    gt = {"images": [_img(1, 200, 200)], "categories": [_cat(1)],
          "annotations": [_gt(1, 1, 1, [0, 0, 30, 30], area=900.0)]}
    arr = np.array([[1, 100, 100, w, h, 0.9, 1], [1, 0, 0, 30, 30, 0.8, 1]], dtype=np.float32)
    return gt, arr


def preds_to_array(preds: List[dict]) -> np.ndarray:
    """(N,7) array [image_id, x, y, w, h, score, category_id] as loadRes accepts."""
    rows = [[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in preds]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 7)


def subset_ids(seed: int, gt: dict, which: str) -> List[int]:
    """A deterministic, non-empty, unsorted subset of image or category ids."""
    rng = np.random.default_rng([int(seed), 99, 0 if which == "img" else 1])
    ids = [i["id"] for i in gt["images"]] if which == "img" else [c["id"] for c in gt["categories"]]
    k = max(1, int(rng.integers(1, len(ids) + 1)) if len(ids) > 1 else 1)
    if len(ids) > 1:
        k = min(k, len(ids) - 1) if rng.random() < 0.8 else k
    pick = rng.choice(np.asarray(ids), size=k, replace=False)
    return [int(v) for v in pick]


# --------------------------------------------------------------------------
# hand-made minimal scenarios
# --------------------------------------------------------------------------
def _img(i, w=100, h=100):
    return {"id": i, "width": w, "height": h, "file_name": f"{i}.jpg"}


def _cat(i):
    return {"id": i, "name": f"cat{i}", "supercategory": "thing"}


def _gt(i, img, cat, bbox, crowd=0, area=None, **extra):
    a = {"id": i, "image_id": img, "category_id": cat, "bbox": [float(v) for v in bbox],
         "iscrowd": crowd, "area": float(area if area is not None else bbox[2] * bbox[3])}
    a.update(extra)
    return a


def _dt(img, cat, bbox, score):
    return {"image_id": img, "category_id": cat, "bbox": [float(v) for v in bbox], "score": float(score)}


def _scenarios() -> Dict[str, Case]:
    S: Dict[str, Case] = {}
    base = {"images": [_img(1), _img(2)], "categories": [_cat(1), _cat(2)]}

    def mk(anns, dets, **kw):
        g = copy.deepcopy(base)
        g.update(kw)
        g["annotations"] = anns
        return g, dets

    S["iou_050_exact"] = mk([_gt(1, 1, 1, [0, 0, 10, 10])], [_dt(1, 1, [0, 0, 10, 5], 0.9)])
    S["iou_075_exact"] = mk([_gt(1, 1, 1, [0, 0, 20, 20])], [_dt(1, 1, [0, 0, 20, 15], 0.9)])
    S["iou_090_exact"] = mk([_gt(1, 1, 1, [0, 0, 20, 20])], [_dt(1, 1, [0, 0, 20, 18], 0.9)])
    S["iou_k20_ladder"] = mk(
        [_gt(10 + k, 1, 1, [30 * (k - 10), 0, 10, 20]) for k in range(10, 20)],
        [_dt(1, 1, [30 * (k - 10), 0, 10, k], 0.5 + k / 100) for k in range(10, 20)])
    S["iou_just_below_050"] = mk([_gt(1, 1, 1, [0, 0, 10, 10])], [_dt(1, 1, [0, 0, 10, 5 - 1e-11], 0.9)])
    S["near_tie_scores"] = mk(
        [_gt(1, 1, 1, [0, 0, 20, 20]), _gt(2, 2, 1, [0, 0, 20, 20])],
        [_dt(1, 1, [50, 50, 20, 20], 0.5 + 1e-12), _dt(2, 1, [0, 0, 20, 20], 0.5),
         _dt(1, 1, [0, 0, 20, 20], 0.5 + 2e-12), _dt(2, 1, [60, 60, 20, 20], 0.5 + 1e-12)])
    S["area_one_ulp_off_border"] = mk(
        [_gt(1, 1, 1, [0, 0, 32, 32], area=float(np.nextafter(1024.0, np.inf))),
         _gt(2, 1, 1, [40, 0, 32, 32], area=float(np.nextafter(9216.0, np.inf))),
         _gt(3, 2, 1, [0, 0, 96, 96], area=float(np.nextafter(9216.0, -np.inf)))],
        [_dt(1, 1, [0, 0, 32, 32], 0.9), _dt(1, 1, [40, 0, 32, 32], 0.8), _dt(2, 1, [0, 0, 96, 96], 0.7),
         _dt(2, 1, [0, 0, 32, 32.00000000001], 0.95)])
    # class-agnostic pooling follows the order of the category list (see test_agnostic_cat_ids_order)
    S["agnostic_tie_across_categories"] = mk(
        [_gt(1, 1, 1, [0, 0, 20, 20])],
        [_dt(1, 2, [50, 50, 20, 20], 0.5), _dt(1, 1, [0, 0, 20, 20], 0.5)])
    S["agnostic_equal_iou_across_categories"] = mk(
        [_gt(0, 1, 1, [0, 0, 20, 20]), _gt(5, 1, 2, [0, 0, 20, 20])],
        [_dt(1, 1, [0, 0, 20, 20], 0.9)])
    # class-agnostic: the higher-scored detection (other category) must take the GT
    S["agnostic_score_order_across_categories"] = mk(
        [_gt(1, 1, 1, [0, 0, 10, 10])],
        [_dt(1, 1, [0, 0, 10, 10], 0.5), _dt(1, 2, [0, 0, 10, 10], 0.9), _dt(1, 1, [50, 50, 10, 10], 0.7)])
    S["crowd_gt_id_zero"] = mk(
        [_gt(1, 1, 1, [0, 0, 10, 10]), _gt(0, 1, 1, [50, 50, 40, 40], crowd=1)],
        [_dt(1, 1, [60, 60, 10, 10], 0.9), _dt(1, 1, [0, 0, 10, 10], 0.8)])
    S["gt_id_zero"] = mk([_gt(0, 1, 1, [10, 10, 30, 30]), _gt(5, 2, 1, [10, 10, 30, 30])],
                         [_dt(1, 1, [10, 10, 30, 30], 0.9), _dt(2, 1, [10, 10, 30, 30], 0.8)])
    S["crowd_multi_match"] = mk(
        [_gt(1, 1, 1, [0, 0, 60, 60], crowd=1), _gt(2, 1, 1, [70, 70, 20, 20])],
        [_dt(1, 1, [5, 5, 10, 10], 0.9), _dt(1, 1, [20, 20, 30, 30], 0.8),
         _dt(1, 1, [0, 0, 60, 120], 0.7), _dt(1, 1, [70, 70, 20, 20], 0.6)])
    S["ignore_field_disagrees"] = mk(
        [_gt(1, 1, 1, [0, 0, 20, 20], ignore=1), _gt(2, 1, 1, [40, 40, 20, 20], crowd=1, ignore=0)],
        [_dt(1, 1, [0, 0, 20, 20], 0.9), _dt(1, 1, [40, 40, 20, 20], 0.8), _dt(1, 1, [45, 45, 5, 5], 0.7)])
    S["area_borders"] = mk(
        [_gt(1, 1, 1, [0, 0, 32, 32]), _gt(2, 1, 1, [0, 40, 96, 40], area=96 ** 2),
         _gt(3, 2, 1, [0, 0, 10, 10], area=1024.0), _gt(4, 2, 1, [50, 50, 10, 10], area=AREA_ALL_MAX + 1)],
        [_dt(1, 1, [0, 0, 32, 32], 0.9), _dt(1, 1, [0, 40, 96, 40], 0.8), _dt(2, 1, [0, 0, 10, 10], 0.7),
         _dt(2, 1, [50, 50, 10, 10], 0.6), _dt(2, 1, [0, 60, 32, 32], 0.95), _dt(2, 1, [0, 60, 96, 96], 0.5)])
    S["score_ties_across_images"] = mk(
        [_gt(1, 1, 1, [0, 0, 20, 20]), _gt(2, 2, 1, [0, 0, 20, 20])],
        [_dt(1, 1, [50, 50, 20, 20], 0.7), _dt(2, 1, [0, 0, 20, 20], 0.7),
         _dt(1, 1, [0, 0, 20, 20], 0.7), _dt(2, 1, [60, 60, 20, 20], 0.7)])
    S["over_max_dets"] = mk(
        [_gt(1, 1, 1, [0, 0, 20, 20]), _gt(2, 1, 1, [50, 50, 20, 20])],
        [_dt(1, 1, [80, 80, 5, 5], 0.9) for _ in range(100)] +
        [_dt(1, 1, [0, 0, 20, 20], 0.9), _dt(1, 1, [50, 50, 20, 20], 0.95)] +
        [_dt(1, 1, [80, 80, 5, 5], 0.5) for _ in range(20)])
    S["zero_area"] = mk(
        [_gt(1, 1, 1, [10, 10, 0, 10]), _gt(2, 1, 1, [30, 30, 10, 10]), _gt(3, 1, 1, [50, 50, 10, 10], crowd=1)],
        [_dt(1, 1, [10, 10, 0, 10], 0.9), _dt(1, 1, [30, 30, 10, 0], 0.8), _dt(1, 1, [52, 52, 0, 0], 0.7),
         _dt(1, 1, [30, 30, 10, 10], 0.6)])
    S["duplicate_gt_equal_iou"] = mk(
        [_gt(3, 1, 1, [0, 0, 20, 20]), _gt(0, 1, 1, [0, 0, 20, 20]), _gt(7, 1, 1, [0, 0, 20, 20], crowd=1)],
        [_dt(1, 1, [0, 0, 20, 20], 0.9), _dt(1, 1, [0, 0, 20, 20], 0.8), _dt(1, 1, [0, 0, 20, 20], 0.7)])
    S["cat_without_gt"] = mk([_gt(1, 1, 1, [0, 0, 20, 20])],
                             [_dt(1, 1, [0, 0, 20, 20], 0.9), _dt(1, 2, [0, 0, 20, 20], 0.95),
                              _dt(2, 2, [0, 0, 20, 20], 0.3)])
    S["touching_boxes"] = mk([_gt(1, 1, 1, [0, 0, 20, 20]), _gt(2, 1, 1, [20, 0, 20, 20])],
                             [_dt(1, 1, [40, 0, 20, 20], 0.9), _dt(1, 1, [0, 20, 20, 20], 0.8),
                              _dt(1, 1, [10, 0, 20, 20], 0.7)])
    S["float_coords"] = mk([_gt(1, 1, 1, [0.1, 0.2, 10.3, 9.7]), _gt(2, 1, 1, [33.33, 12.5, 40.01, 0.5])],
                           [_dt(1, 1, [0.1, 0.2, 10.3, 4.85], 0.9), _dt(1, 1, [33.33, 12.5, 40.01, 0.375], 0.8),
                            _dt(1, 1, [0.15, 0.2, 10.3, 9.7], 0.7)])
    S["images_without_gt_or_dets"] = (
        {"images": [_img(1), _img(2), _img(3)], "categories": [_cat(1)],
         "annotations": [_gt(1, 1, 1, [0, 0, 20, 20])]},
        [_dt(1, 1, [0, 0, 20, 20], 0.5), _dt(2, 1, [0, 0, 20, 20], 0.9)])
    S["unsorted_ids"] = (
        {"images": [_img(30), _img(4), _img(17)], "categories": [_cat(9), _cat(2), _cat(5)],
         "annotations": [_gt(40, 30, 9, [0, 0, 20, 20]), _gt(3, 4, 2, [5, 5, 20, 20]),
                         _gt(12, 17, 5, [10, 10, 30, 30]), _gt(8, 4, 9, [0, 0, 50, 50])]},
        [_dt(30, 9, [0, 0, 20, 20], 0.5), _dt(4, 2, [5, 5, 20, 10], 0.7), _dt(17, 5, [10, 10, 30, 30], 0.7),
         _dt(4, 9, [0, 0, 50, 40], 0.7), _dt(4, 9, [0, 0, 50, 50], 0.6)])
    return S


SCENARIOS = tuple(_scenarios().keys())


def _segm_scenarios() -> Dict[str, Case]:
    S: Dict[str, Case] = {}
    H = W = 60
    img = [_img(1, W, H), _img(2, W, H)]
    cats = [_cat(1), _cat(3)]

    def rect(x, y, w, h):
        m = np.zeros((H, W), dtype=np.uint8)
        m[y:y + h, x:x + w] = 1
        return m

    def box_of(m):
        c = compressed_rle(m)
        c["counts"] = c["counts"].encode("ascii")
        return [float(v) for v in mask_utils.toBbox(c)]

    def gt_poly(i, im, cat, pts, crowd=0, area=None):
        rle = _to_c_rle([pts], H, W)
        a = float(mask_utils.area(rle)) if area is None else float(area)
        return {"id": i, "image_id": im, "category_id": cat, "segmentation": [[float(v) for v in pts]],
                "bbox": [float(v) for v in mask_utils.toBbox(rle)], "iscrowd": crowd, "area": a}

    def gt_mask(i, im, cat, m, crowd=0, compressed=False):
        seg = compressed_rle(m) if compressed else uncompressed_rle(m)
        return {"id": i, "image_id": im, "category_id": cat, "segmentation": seg,
                "bbox": box_of(m), "iscrowd": crowd, "area": float(m.sum())}

    def dt(im, cat, m, score, bbox=None):
        d = {"image_id": im, "category_id": cat, "segmentation": compressed_rle(m), "score": float(score)}
        if bbox is not None:
            d["bbox"] = [float(v) for v in bbox]
        return d

    sq = [10, 10, 30, 10, 30, 30, 10, 30]
    gsq = segm_to_mask([sq], H, W)
    # All results carry 'bbox' -> pycocotools takes bbox w*h as the detection area:
    # the small false positive below has a 2000 px^2 bbox, so it is ignored for 'small'.
    S["segm_bbox_area_quirk"] = (
        {"images": img, "categories": cats, "annotations": [gt_poly(1, 1, 1, sq)]},
        [dt(1, 1, gsq, 0.8, box_of(gsq)), dt(1, 1, rect(45, 45, 5, 5), 0.9, [0, 0, 50, 40])])
    # First result has no 'bbox' -> areas come from the masks even where a bbox is given.
    S["segm_first_without_bbox"] = (
        {"images": img, "categories": cats, "annotations": [gt_poly(1, 1, 1, sq)]},
        [dt(1, 1, gsq, 0.8), dt(1, 1, rect(45, 45, 5, 5), 0.9, [0, 0, 50, 40])])
    crowd = rect(0, 30, 60, 30)
    S["segm_crowd_uncompressed"] = (
        {"images": img, "categories": cats,
         "annotations": [gt_mask(4, 1, 1, crowd, crowd=1), gt_poly(5, 1, 1, sq),
                         gt_mask(9, 2, 3, rect(5, 5, 20, 20), crowd=1, compressed=True)]},
        [dt(1, 1, rect(0, 30, 10, 10), 0.9), dt(1, 1, rect(20, 40, 30, 10), 0.9), dt(1, 1, gsq, 0.7),
         dt(1, 1, rect(0, 20, 10, 20), 0.95), dt(2, 3, rect(5, 5, 10, 10), 0.5), dt(2, 3, rect(0, 0, 60, 60), 0.6)])
    half = gsq.copy()
    on = np.flatnonzero(half.ravel(order="F"))
    flat = np.zeros(H * W, dtype=np.uint8)
    flat[on[: on.size // 2]] = 1
    S["segm_exact_half_and_empty"] = (
        {"images": img, "categories": cats,
         "annotations": [gt_poly(1, 1, 1, sq), gt_mask(2, 2, 1, rect(0, 0, 8, 8))]},
        [dt(1, 1, flat.reshape((H, W), order="F"), 0.9), dt(1, 1, np.zeros((H, W), np.uint8), 0.95),
         dt(2, 1, np.ones((H, W), np.uint8), 0.9), dt(2, 1, rect(0, 0, 8, 4), 0.7)])
    return S


SEGM_SCENARIOS = tuple(_segm_scenarios().keys())


def segm_scenario(name: str) -> Case:
    """A small hand-made segm case (see ``SEGM_SCENARIOS``)."""
    return copy.deepcopy(_segm_scenarios()[name])


def scenario(name: str) -> Case:
    """A small hand-made case isolating one rule (see ``SCENARIOS``)."""
    return copy.deepcopy(_scenarios()[name])


# --------------------------------------------------------------------------
# feature detection (for the coverage test)
# --------------------------------------------------------------------------
def case_features(gt: dict, preds: list, kind: str = "bbox") -> set:
    """Names of the tricky features present in a case (computed from the data)."""
    f = set()
    anns = gt["annotations"]
    imgs = {i["id"]: i for i in gt["images"]}
    cat_ids = {c["id"] for c in gt["categories"]}
    gt_cat_ids = {a["category_id"] for a in anns}
    if any(a["iscrowd"] for a in anns):
        f.add("crowd")
    if any("ignore" in a and bool(a["ignore"]) != bool(a["iscrowd"]) for a in anns):
        f.add("ignore_disagrees")
    if any(a["area"] in AREA_BORDERS for a in anns):
        f.add("area_border")
    if any(a["area"] != b and np.float32(a["area"]) == np.float32(b) for a in anns for b in AREA_BORDERS):
        f.add("area_ulp_off_border")
    if any(a["area"] > AREA_ALL_MAX for a in anns):
        f.add("area_above_all")
    if any(abs(a["area"] - _box_area(a["bbox"])) > 1e-9 for a in anns):
        f.add("area_differs_from_box")
    if any(a["id"] == 0 for a in anns):
        f.add("gt_id_zero")
    if set(imgs) - {a["image_id"] for a in anns}:
        f.add("img_no_gt")
    if set(imgs) - {d["image_id"] for d in preds}:
        f.add("img_no_det")
    if cat_ids - gt_cat_ids:
        f.add("cat_no_gt")
    if {d["category_id"] for d in preds} & (cat_ids - gt_cat_ids):
        f.add("det_cat_no_gt")
    boxes = [a["bbox"] for a in anns] + [d["bbox"] for d in preds if "bbox" in d]
    if any(b[2] * b[3] == 0 for b in boxes):
        f.add("zero_area_box")
    if any(0 < b[2] * b[3] < 4 for b in boxes):
        f.add("tiny_box")
    if any(float(v) != int(v) for b in boxes for v in b):
        f.add("float_coords")
    scores_by_img: Dict[int, list] = {}
    groups: Dict[tuple, int] = {}
    seen = set()
    for d in preds:
        scores_by_img.setdefault(d["image_id"], []).append(d["score"])
        groups[d["image_id"], d["category_id"]] = groups.get((d["image_id"], d["category_id"]), 0) + 1
        key = (d["image_id"], d["category_id"], repr(d.get("bbox")), repr(d.get("segmentation")))
        if key in seen:
            f.add("duplicate_det")
        seen.add(key)
    if any(len(s) != len(set(s)) for s in scores_by_img.values()):
        f.add("score_tie_within_image")
    sets = [set(s) for s in scores_by_img.values()]
    if any(sets[i] & sets[j] for i in range(len(sets)) for j in range(i + 1, len(sets))):
        f.add("score_tie_across_images")
    if groups and max(groups.values()) > 100:
        f.add("over_100_per_group")
    if groups and max(n for (i, _c), n in groups.items()) > 0:
        per_img: Dict[int, int] = {}
        for (i, _c), n in groups.items():
            per_img[i] = per_img.get(i, 0) + n
        if max(per_img.values()) > 1000:
            f.add("over_1000_per_image")
    gt_keys = [(a["image_id"], a["category_id"], tuple(a["bbox"])) for a in anns]
    if len(gt_keys) != len(set(gt_keys)):
        f.add("duplicate_gt")
    # touching GT boxes (shared edge, no overlap)
    by_ic: Dict[tuple, list] = {}
    for a in anns:
        by_ic.setdefault((a["image_id"], a["category_id"]), []).append(a["bbox"])
    for bs in by_ic.values():
        for i in range(len(bs)):
            for j in range(len(bs)):
                if i != j and bs[i][0] + bs[i][2] == bs[j][0] and bs[i][2] > 0:
                    f.add("touching_gt")
    # exact-threshold IoUs between same-image detections and GTs
    agnostic = kind == "proposal"
    gts_by = {}
    for a in anns:
        gts_by.setdefault((a["image_id"], None if agnostic else a["category_id"]), []).append(a)
    dts_by = {}
    for d in preds:
        dts_by.setdefault((d["image_id"], None if agnostic else d["category_id"]), []).append(d)
    thr = set(np.linspace(0.5, 0.95, 10).tolist()) | {k / 20 for k in range(10, 20)}
    for key, dl in dts_by.items():
        gl = gts_by.get(key)
        if not gl:
            continue
        crowd = [int(a["iscrowd"]) for a in gl]
        if kind == "segm":
            img = imgs[key[0]]
            h, w = img["height"], img["width"]
            dd = [_to_c_rle(d["segmentation"], h, w) for d in dl]
            gg = [_to_c_rle(a["segmentation"], h, w) for a in gl]
        else:
            dd = [list(map(float, d["bbox"])) for d in dl]
            gg = [list(map(float, a["bbox"])) for a in gl]
        ious = np.asarray(mask_utils.iou(dd, gg, crowd))
        if ious.size == 0:
            continue
        vals = set(ious.ravel().tolist())
        if 0.5 in vals:
            f.add("iou_exact_0.5")
        if 0.75 in vals:
            f.add("iou_exact_0.75")
        if 0.9 in vals:
            f.add("iou_exact_0.9")
        if vals & (thr - {0.5, 0.75, 0.9}):
            f.add("iou_exact_other_threshold")
        if 1.0 in vals:
            f.add("iou_one")
        for gi, c in enumerate(crowd):
            if c and int(np.sum(ious[:, gi] >= 0.5)) >= 2:
                f.add("crowd_multi_match")
    if kind == "segm":
        for a in anns:
            s = a["segmentation"]
            if isinstance(s, list):
                f.add("gt_polygon")
                if len(s) > 1:
                    f.add("gt_polygon_multipart")
            elif isinstance(s["counts"], list):
                f.add("gt_rle_uncompressed")
                if a["iscrowd"]:
                    f.add("crowd_rle_uncompressed")
            else:
                f.add("gt_rle_compressed")
                if a["iscrowd"]:
                    f.add("crowd_rle_compressed")
        if preds and all("bbox" in d for d in preds):
            f.add("segm_det_bbox_all")
        if any("bbox" in d for d in preds) and any("bbox" not in d for d in preds):
            f.add("segm_det_bbox_mixed")
        if preds and not any("bbox" in d for d in preds):
            f.add("segm_det_bbox_none")
        for d in preds:
            c = dict(d["segmentation"])
            c["counts"] = c["counts"].encode("ascii")
            ar = float(mask_utils.area(c))
            if ar == 0:
                f.add("segm_det_empty_mask")
            img = imgs[d["image_id"]]
            if ar == img["height"] * img["width"]:
                f.add("segm_det_full_mask")
            if "bbox" in d and _box_area(d["bbox"]) != ar:
                f.add("segm_det_bbox_area_differs")
    return f
