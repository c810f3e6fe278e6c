"""Seeded generators of small federated (LVIS-like) evaluation cases.

Every case comes from an explicit seed and never touches global random state, so a
failing case is reproduced by its seed alone::

    gt, preds = make_lvis_case(17, "bbox")
    gt, preds = make_lvis_case(3, "segm", n_images=2)
    gt, preds = lvis_scenario("gt_id_zero_not_exhaustive")

Outputs are plain JSON-compatible objects in the LVIS v1 layout: categories carry
``frequency`` (r / c / f), images carry ``neg_category_ids`` and
``not_exhaustive_category_ids`` (always both, possibly empty: lvis-api reads them
for every evaluated image), GTs carry ``bbox``, ``area`` and a polygon
``segmentation``.

Rules of the LVIS protocol the cases are built to exercise (``lvis_case_features``
finds them in a generated case, from the data alone):

* federated filtering: a detection counts only if its category is annotated in
  the image (by a GT that survives the area filter) or listed as negative there;
  detections of other categories - including one whose only GT in the image has
  area 0 - are dropped;
* not-exhaustive categories (also ones present in the GT, also ones that are also
  negative): their unmatched detections are ignored;
* records whose ``area`` is not in (0, inf) are not evaluated (GT ``area`` field;
  detection ``w * h`` of its box, or its mask area for mask-only results);
* a GT's ``ignore`` field is honoured, ``iscrowd`` is not;
* GT ``area`` exactly on 32**2 / 96**2, one ulp off them, above 1e5**2;
* GT id 0 (a detection matched to it is not counted as matched);
* the per-image cut to the 300 best scores, with exact score ties straddling the
  cut (file order decides), images with exactly 300 / 301 detections;
* score ties within and across images, duplicated detections;
* frequency groups r / c / f, some empty in small cases;
* segm: polygon GTs (some multi-part), compressed-RLE detections with ``counts``
  as str, with a ``bbox`` on all / none / some of them (when the first result has
  a bbox, lvis-api takes w*h as every result's area), empty masks.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Tuple

import numpy as np
from pycocotools import mask as mask_utils

from cocogen import (
    _det_boxes_for_gt,
    _det_masks_for_gt,
    _polygon,
    _quant,
    _rand_box,
    _rect_mask,
    _shift,
    compressed_rle,
    segm_to_mask,
)

KINDS = ("bbox", "segm")
FREQS = ("r", "c", "f")
TIE_SCORES = (0.3, 0.5, 0.7, 0.9)
AREA_BORDERS = (float(32 ** 2), float(96 ** 2))
AREA_ABOVE_ALL = float(1e5 ** 2) * 2.0
LVIS_MAX_DETS = 300

Case = Tuple[dict, list]


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------
_SCORE_MODES = ("ties", "coco3", "float", "mixed")
_COORD_MODES = ("int", "coco2", "quarter", "float")
_FREQ_MODES = ("mixed", "single", "pair")


def _config(seed: int, kind: str, rng: np.random.Generator, overrides: dict) -> dict:
    # features cycled by seed so that any run of consecutive seeds covers all of them
    segm = kind == "segm"
    cfg = dict(
        kind=kind,
        score_mode=_SCORE_MODES[seed % 4],
        coord_mode="int" if segm else _COORD_MODES[(seed // 4) % 4],
        freq_mode=_FREQ_MODES[seed % 3],
        n_images=int(rng.integers(2, 6 if segm else 7)),
        n_cats=int(rng.integers(2, 9)),
        p_img_no_gt=0.2,
        p_img_no_det=0.1,
        max_gt_per_group=int(rng.integers(1, 4 if segm else 5)),
        p_ignore=float(rng.choice([0.0, 0.15, 0.3])),
        p_iscrowd=float(rng.choice([0.0, 0.3, 0.6])),
        p_gt_id_zero=0.35,
        p_not_exhaustive=float(rng.choice([0.0, 0.3, 0.6])),
        p_zero_area_sole=0.3,
        overflow=(seed % 4 == 0) if not segm else (seed % 6 == 0),
        max_dets=LVIS_MAX_DETS,
        bbox_key_mode=("none", "all", "mixed")[seed % 3] if segm else "all",
        det_ids=bool(rng.random() < 0.2),
        img_min=40,
        img_max=120 if not segm else 96,
    )
    cfg.update(overrides)
    return cfg


def _score(rng: np.random.Generator, mode: str) -> float:
    if mode == "ties" or (mode == "mixed" and rng.random() < 0.5):
        return float(rng.choice(TIE_SCORES))
    if mode == "coco3" or mode == "mixed":
        return float(round(float(rng.uniform(0.001, 1.0)), 3))
    return float(rng.uniform(0.0, 1.0))


def _frequencies(rng: np.random.Generator, n: int, mode: str) -> List[str]:
    if mode == "single":
        return [FREQS[int(rng.integers(3))]] * n
    if mode == "pair":
        pair = [FREQS[i] for i in rng.choice(3, size=2, replace=False)]
        return [pair[int(rng.integers(2))] for _ in range(n)]
    return [FREQS[int(rng.integers(3))] for _ in range(n)]


def _categories(rng: np.random.Generator, cfg: dict) -> List[dict]:
    ids = rng.choice(np.arange(1, 1300), size=cfg["n_cats"], replace=False)  # unsorted, sparse
    freqs = _frequencies(rng, len(ids), cfg["freq_mode"])
    return [{"id": int(c), "name": f"cat_{int(c)}", "synset": f"cat_{int(c)}.n.01", "frequency": f,
             "image_count": int(rng.integers(0, 200)), "instance_count": 0}
            for c, f in zip(ids, freqs)]


def _images(rng: np.random.Generator, cfg: dict) -> List[dict]:
    ids = rng.choice(np.arange(1, 600000), size=cfg["n_images"], replace=False)  # unsorted, sparse
    out = []
    for i in ids:
        w = int(rng.integers(cfg["img_min"], cfg["img_max"] + 1))
        h = int(rng.integers(cfg["img_min"], cfg["img_max"] + 1))
        out.append({"id": int(i), "width": w, "height": h, "file_name": f"{int(i):012d}.jpg",
                    "neg_category_ids": [], "not_exhaustive_category_ids": []})
    return out


def _gt_area(rng: np.random.Generator, natural: float) -> float:
    r = rng.random()
    if r < 0.6:
        return float(natural)
    if r < 0.74:
        return AREA_BORDERS[int(rng.integers(2))]
    if r < 0.79:
        b = AREA_BORDERS[int(rng.integers(2))]
        return float(np.nextafter(b, np.inf if rng.random() < 0.5 else -np.inf))  # equal in float32
    if r < 0.9:
        return float(round(natural * rng.uniform(0.3, 1.6), 2))
    if r < 0.95:
        return 0.0
    return AREA_ABOVE_ALL


def _gt_ids(rng: np.random.Generator, n: int, want_zero: bool) -> List[int]:
    if n == 0:
        return []
    ids = rng.choice(np.arange(1, 30 * n + 50), size=n, replace=False).astype(int).tolist()
    if want_zero:
        ids[int(rng.integers(n))] = 0
    return ids


def _box_polygon(b: List[float]) -> List[List[float]]:
    x, y, w, h = b
    return [[x, y, x, y + h, x + w, y + h, x + w, y]]


def _mask_bbox(mask: np.ndarray) -> List[float]:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return [float(v) for v in mask_utils.toBbox(rle)]


# --------------------------------------------------------------------------
# ground truth and image-level label lists
# --------------------------------------------------------------------------
def _gt_and_labels(rng, cfg, images, cats) -> Tuple[List[dict], List[Optional[np.ndarray]]]:
    """GT annotations (ids assigned) and, for segm, each GT's mask; fills the images' label lists."""
    cat_ids = [c["id"] for c in cats]
    segm = cfg["kind"] == "segm"
    mode = cfg["coord_mode"]
    anns: List[dict] = []
    masks: List[Optional[np.ndarray]] = []
    for img in images:
        W, H = img["width"], img["height"]
        present: List[int] = []
        if rng.random() >= cfg["p_img_no_gt"]:
            k = int(rng.integers(1, min(3, len(cat_ids)) + 1))
            present = [int(c) for c in rng.choice(cat_ids, size=k, replace=False)]
        others = [c for c in cat_ids if c not in present]
        # a category whose only GT here has area 0: lvis-api drops that GT, so the category
        # does not count as present and its detections are dropped (unless negative)
        zero_sole = []
        if others and rng.random() < cfg["p_zero_area_sole"]:
            zero_sole = [others.pop(int(rng.integers(len(others))))]
        for c in present + zero_sole:
            n = 1 if c in zero_sole else int(rng.integers(1, cfg["max_gt_per_group"] + 1))
            for _ in range(n):
                if segm:
                    polys = [_polygon(rng, W, H, R=float(rng.uniform(3, max(W, H) / 2.2)),
                                      mode=str(rng.choice(["coco2", "int", "float"])))]
                    if rng.random() < 0.2:
                        polys.append(_polygon(rng, W, H, R=float(rng.uniform(3, 15))))
                    m = segm_to_mask(polys, H, W)
                    bb = _mask_bbox(m)
                    natural = float(m.sum())
                    ann = {"image_id": img["id"], "category_id": int(c), "segmentation": polys, "bbox": bb}
                    masks.append(m)
                else:
                    bb = [float(v) for v in _rand_box(rng, W, H, mode)]
                    if bb[2] * bb[3] == 0:
                        bb[2], bb[3] = max(bb[2], 1.0), max(bb[3], 1.0)
                    natural = bb[2] * bb[3]
                    ann = {"image_id": img["id"], "category_id": int(c), "segmentation": _box_polygon(bb),
                           "bbox": bb}
                    masks.append(None)
                ann["area"] = 0.0 if c in zero_sole else _gt_area(rng, natural)
                if rng.random() < cfg["p_ignore"]:
                    ann["ignore"] = 1
                elif rng.random() < 0.1:
                    ann["ignore"] = 0
                if rng.random() < cfg["p_iscrowd"]:
                    ann["iscrowd"] = int(rng.random() < 0.5)  # LVIS never reads it
                anns.append(ann)
        # negative labels: verified absent (detections evaluated, all false positives)
        neg = [c for c in others + zero_sole if rng.random() < 0.45]
        if present and rng.random() < 0.1:
            neg.append(present[int(rng.integers(len(present)))])  # contradicts the GT: union is used
        # not exhaustively annotated: unmatched detections ignored
        ne = [c for c in present if rng.random() < cfg["p_not_exhaustive"]]
        if neg and rng.random() < 0.15:
            ne.append(neg[int(rng.integers(len(neg)))])  # both negative and not exhaustive
        rest = [c for c in others if c not in neg]
        if rest and rng.random() < 0.1:
            ne.append(rest[int(rng.integers(len(rest)))])  # neither present nor negative: no effect
        img["neg_category_ids"] = [int(c) for c in rng.permutation(neg)] if neg else []
        img["not_exhaustive_category_ids"] = sorted(set(int(c) for c in ne))
    order = rng.permutation(len(anns))
    anns = [anns[i] for i in order]
    masks = [masks[i] for i in order]
    ids = _gt_ids(rng, len(anns), rng.random() < cfg["p_gt_id_zero"])
    for a, i in zip(anns, ids):
        a["id"] = int(i)
    return anns, masks


# --------------------------------------------------------------------------
# detections
# --------------------------------------------------------------------------
def _random_region(rng, cfg, img) -> dict:
    W, H = img["width"], img["height"]
    if cfg["kind"] == "segm":
        r = rng.random()
        if r < 0.45:
            return {"_mask": _rect_mask(rng, W, H)}
        if r < 0.93:
            return {"_mask": segm_to_mask([_polygon(rng, W, H)], H, W)}
        return {"_mask": np.zeros((H, W), np.uint8)}
    b = _rand_box(rng, W, H, cfg["coord_mode"])
    if rng.random() < 0.05:
        b[2 + int(rng.integers(2))] = 0.0  # zero area: not evaluated
    return {"bbox": [float(v) for v in b]}


def _near_gt(rng, cfg, ann: dict, mask: Optional[np.ndarray], n_max: Optional[int] = None) -> List[dict]:
    if cfg["kind"] == "segm":
        out = [{"_mask": m} for m in _det_masks_for_gt(rng, mask, False)]
    else:
        out = [{"bbox": [float(v) for v in b]} for b in _det_boxes_for_gt(rng, ann["bbox"], cfg["coord_mode"], False)]
    return out if n_max is None else out[:n_max]


def _jitter(rng, cfg, ann: dict, mask: Optional[np.ndarray]) -> dict:
    if cfg["kind"] == "segm":
        return {"_mask": _shift(mask, int(rng.integers(-3, 4)), int(rng.integers(-3, 4)))}
    g = ann["bbox"]
    s = max(g[2], g[3], 1.0) * 0.1
    mode = cfg["coord_mode"]
    return {"bbox": [_quant(g[0] + rng.normal(0, s), mode), _quant(g[1] + rng.normal(0, s), mode),
                     _quant(max(g[2] + rng.normal(0, s), 0.0), mode), _quant(max(g[3] + rng.normal(0, s), 0.0), mode)]}


def _detections(rng, cfg, images, cats, anns, masks) -> List[dict]:
    cat_ids = [c["id"] for c in cats]
    by_img: Dict[int, List[int]] = {}
    for j, a in enumerate(anns):
        by_img.setdefault(a["image_id"], []).append(j)
    smode = cfg["score_mode"]
    dets: List[dict] = []
    overflow_imgs = set()
    if cfg["overflow"]:
        with_gt = [img["id"] for img in images if img["id"] in by_img]
        pool = with_gt or [img["id"] for img in images]
        overflow_imgs = {int(i) for i in rng.choice(pool, size=min(len(pool), int(rng.integers(1, 3))), replace=False)}
    for img in images:
        iid = img["id"]
        if rng.random() < cfg["p_img_no_det"] and iid not in overflow_imgs:
            continue
        mine: List[dict] = []
        for j in by_img.get(iid, []):
            for d in _near_gt(rng, cfg, anns[j], masks[j]):
                mine.append(dict(d, category_id=anns[j]["category_id"]))
        present = {anns[j]["category_id"] for j in by_img.get(iid, [])}
        neg, ne = img["neg_category_ids"], img["not_exhaustive_category_ids"]
        # negative categories: false positives, sometimes on another category's object
        for c in neg:
            for _ in range(int(rng.integers(0, 3))):
                js = by_img.get(iid, [])
                if js and rng.random() < 0.4:
                    j = js[int(rng.integers(len(js)))]
                    mine.append(dict(_jitter(rng, cfg, anns[j], masks[j]), category_id=int(c)))
                else:
                    mine.append(dict(_random_region(rng, cfg, img), category_id=int(c)))
        # not exhaustive: unmatched ones are ignored
        for c in ne:
            for _ in range(int(rng.integers(0, 4))):
                mine.append(dict(_random_region(rng, cfg, img), category_id=int(c)))
        # neither present nor negative: dropped
        rest = [c for c in cat_ids if c not in present and c not in neg]
        for _ in range(int(rng.integers(0, 3)) if rest else 0):
            mine.append(dict(_random_region(rng, cfg, img), category_id=int(rng.choice(rest))))
        # background boxes of present categories
        for _ in range(int(rng.integers(0, 3)) if present else 0):
            mine.append(dict(_random_region(rng, cfg, img), category_id=int(rng.choice(sorted(present)))))
        for d in mine:
            d["image_id"] = iid
            d["score"] = _score(rng, smode)
        dets += mine
    # duplicates (same region, same or different score)
    for d in list(dets):
        if rng.random() < 0.05:
            e = {k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v)) for k, v in d.items()}
            if rng.random() < 0.5:
                e["score"] = _score(rng, smode)
            dets.append(e)
    # exact score ties across images, whatever the score mode
    if len(dets) > 2 and rng.random() < 0.7:
        for _ in range(int(rng.integers(1, 4))):
            a, b = rng.choice(len(dets), size=2, replace=False)
            dets[int(b)]["score"] = dets[int(a)]["score"]
    # fill the overflow images up to (or past) the cap, after the duplicates so that
    # 'exactly max_dets' stays exact
    img_by_id = {img["id"]: img for img in images}
    for iid in sorted(overflow_imgs):
        have = sum(d["image_id"] == iid for d in dets)
        dets += _overflow(rng, cfg, img_by_id[iid], anns, masks, by_img.get(iid, []), cat_ids, have)
    order = rng.permutation(len(dets))
    dets = [dets[i] for i in order]
    _ties_at_cut(rng, cfg, dets, overflow_imgs)
    return dets


def _overflow(rng, cfg, img, anns, masks, js, cat_ids, n_have) -> List[dict]:
    """Enough extra detections to reach exactly max_dets, max_dets + 1 or more on this image."""
    md = cfg["max_dets"]
    target = [md, md + 1, md + int(rng.integers(2, 40))][int(rng.integers(3))]
    neg = img["neg_category_ids"]
    ne = img["not_exhaustive_category_ids"]
    out = []
    for _ in range(max(target - n_have, 0)):
        r = rng.random()
        if js and r < 0.55:
            j = js[int(rng.integers(len(js)))]
            d = dict(_jitter(rng, cfg, anns[j], masks[j]), category_id=anns[j]["category_id"])
        elif neg and r < 0.75:
            d = dict(_random_region(rng, cfg, img), category_id=int(rng.choice(neg)))
        elif ne and r < 0.9:
            d = dict(_random_region(rng, cfg, img), category_id=int(rng.choice(ne)))
        else:
            d = dict(_random_region(rng, cfg, img), category_id=int(rng.choice(cat_ids)))
        d["image_id"] = img["id"]
        d["score"] = _score(rng, cfg["score_mode"])
        out.append(d)
    return out


def _ties_at_cut(rng, cfg, dets, overflow_imgs) -> None:
    """On images over the cap, give a block of detections straddling the cut one score
    (the one ranked max_dets-th), so that file order decides which of them are kept."""
    md = cfg["max_dets"]
    for iid in overflow_imgs:
        idx = [i for i, d in enumerate(dets) if d["image_id"] == iid]
        if len(idx) <= md:
            continue
        ranked = sorted(idx, key=lambda i: -dets[i]["score"])
        lo = max(0, md - int(rng.integers(2, 12)))
        hi = min(len(ranked), md + int(rng.integers(1, 12)))
        s = dets[ranked[md - 1]]["score"]
        for i in ranked[lo:hi]:
            dets[i]["score"] = s


def _finish_segm(rng, cfg, images, dets) -> List[dict]:
    """Masks -> compressed RLE (str counts); the bbox key on all / none / some results."""
    img_by_id = {img["id"]: img for img in images}
    mode = cfg["bbox_key_mode"]
    if mode == "mixed" and dets:
        # lvis-api looks at its first result after regrouping by image (images in order of first
        # appearance, over-the-cap images sorted by score); it must lack a bbox, or lvis-api
        # fails on the results that lack one. Start the file with a detection of the image
        # with the fewest detections, far below any cap the tests use.
        counts: Dict[int, int] = {}
        for d in dets:
            counts[d["image_id"]] = counts.get(d["image_id"], 0) + 1
        small = min(counts, key=lambda i: (counts[i], i))
        if counts[small] > 40:
            mode = "none"
        else:
            first = next(i for i, d in enumerate(dets) if d["image_id"] == small)
            dets.insert(0, dets.pop(first))
    out = []
    for j, d in enumerate(dets):
        m = d.pop("_mask")
        rle = compressed_rle(m)
        d["segmentation"] = rle
        with_bbox = mode == "all" or (mode == "mixed" and j > 0 and rng.random() < 0.5)
        if with_bbox:
            img = img_by_id[d["image_id"]]
            r = rng.random()
            if r < 0.25:
                d["bbox"] = [float(v) for v in _rand_box(rng, img["width"], img["height"], "coco2")]  # unrelated
            elif r < 0.3:
                bb = _mask_bbox(m)
                d["bbox"] = [bb[0], bb[1], 0.0, bb[3]]  # zero-area box on a mask
            else:
                d["bbox"] = _mask_bbox(m)
        out.append({k: d[k] for k in ("image_id", "category_id", "segmentation", "bbox", "score") if k in d})
    return out


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------
def make_lvis_case(seed: int, kind: str = "bbox", **overrides) -> Case:
    """Deterministic (gt_dict, preds_list) of a federated LVIS-like dataset.

    ``kind`` is 'bbox' or 'segm'. ``overrides`` replace entries of the internal
    configuration, e.g. ``n_images=2``, ``overflow=True``, ``score_mode='ties'``,
    ``bbox_key_mode='all'``, ``max_dets=50`` (where the overflow images and the tie
    block are placed).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    rng = np.random.default_rng([int(seed), 7 + KINDS.index(kind)])
    cfg = _config(int(seed), kind, rng, overrides)
    cats = _categories(rng, cfg)
    images = _images(rng, cfg)
    anns, masks = _gt_and_labels(rng, cfg, images, cats)
    dets = _detections(rng, cfg, images, cats, anns, masks)
    if kind == "segm":
        dets = _finish_segm(rng, cfg, images, dets)
    else:
        dets = [{k: d[k] for k in ("image_id", "category_id", "bbox", "score")} for d in dets]
    if cfg["det_ids"]:
        for i, d in enumerate(dets):
            d["id"] = int(5000 + 3 * i)  # lvis-api renumbers results
    gt = {"info": {"description": f"lvisgen {kind} seed={seed}"}, "licenses": [], "images": images,
          "annotations": anns, "categories": cats}
    return gt, dets


# --------------------------------------------------------------------------
# hand-made minimal cases, one rule each
# --------------------------------------------------------------------------
def _img(i, neg=(), ne=(), w=100, h=100):
    return {"id": i, "width": w, "height": h, "neg_category_ids": list(neg), "not_exhaustive_category_ids": list(ne)}


def _cat(i, f="c"):
    return {"id": i, "name": f"c{i}", "frequency": f}


def _gt(i, img, cat, bbox, area=None, **extra):
    a = {"id": i, "image_id": img, "category_id": cat, "bbox": [float(v) for v in bbox],
         "area": float(bbox[2] * bbox[3]) if area is None else float(area), "segmentation": _box_polygon(bbox)}
    a.update(extra)
    return a


def _dt(img, cat, bbox, score):
    return {"image_id": img, "category_id": cat, "bbox": [float(v) for v in bbox], "score": float(score)}


def _scenarios() -> Dict[str, Case]:
    cats = [_cat(1, "r"), _cat(2, "c"), _cat(3, "f")]
    S: Dict[str, Case] = {}

    def case(images, anns, dets, categories=cats):
        return {"images": images, "annotations": anns, "categories": categories}, dets

    box = [10, 10, 20, 20]
    # a detection of a category neither annotated nor negative in its image is dropped
    S["dropped_category"] = case([_img(1)], [_gt(1, 1, 1, box)],
                                 [_dt(1, 1, box, 0.5), _dt(1, 2, [50, 50, 10, 10], 0.9)])
    # ... but counts as a false positive when the category is negative there
    S["negative_category"] = case([_img(1, neg=[2])], [_gt(1, 1, 1, box), _gt(2, 1, 2, [60, 60, 10, 10])],
                                  [_dt(1, 1, box, 0.5), _dt(1, 2, [50, 50, 10, 10], 0.9)])
    # an unmatched detection of a not-exhaustive category is ignored, a matched one counts
    S["not_exhaustive"] = case([_img(1, ne=[1])], [_gt(1, 1, 1, box)],
                               [_dt(1, 1, [60, 60, 10, 10], 0.9), _dt(1, 1, box, 0.5)])
    # negative and not exhaustive at once (the lists overlap)
    S["negative_and_not_exhaustive"] = case(
        [_img(1, neg=[2], ne=[2]), _img(2)], [_gt(1, 1, 1, box), _gt(2, 2, 2, box)],
        [_dt(1, 2, box, 0.9), _dt(2, 2, box, 0.4), _dt(2, 2, [50, 50, 5, 5], 0.8)])
    # the only GT of a category in an image has area 0: not evaluated, so neither is the category there
    S["zero_area_sole_gt"] = case([_img(1), _img(2)], [_gt(1, 1, 1, box, area=0), _gt(2, 2, 1, box)],
                                  [_dt(1, 1, box, 0.9), _dt(2, 1, box, 0.5)])
    # a matched detection of a GT with id 0 is recorded as unmatched (its match id is 0) ...
    S["gt_id_zero"] = case([_img(1)], [_gt(0, 1, 1, box), _gt(5, 1, 1, [50, 50, 20, 20])],
                           [_dt(1, 1, box, 0.9), _dt(1, 1, [50, 50, 20, 20], 0.8)])
    # ... so with the category not exhaustive it is ignored instead of being a false positive
    S["gt_id_zero_not_exhaustive"] = case([_img(1, ne=[1])], [_gt(0, 1, 1, box), _gt(5, 1, 1, [50, 50, 20, 20])],
                                          [_dt(1, 1, box, 0.9), _dt(1, 1, [50, 50, 20, 20], 0.8)])
    # iscrowd is not read (a crowd GT is an ordinary GT); an ignore field is
    S["iscrowd_not_used"] = case([_img(1)], [_gt(1, 1, 1, box, iscrowd=1), _gt(2, 1, 1, [50, 50, 20, 20], ignore=1)],
                                 [_dt(1, 1, [12, 12, 10, 10], 0.9), _dt(1, 1, box, 0.8), _dt(1, 1, [50, 50, 20, 20], 0.7)])
    # GT areas on the range borders, detections matching them with areas on / off the borders
    S["area_borders"] = case(
        [_img(1, w=200, h=200)],
        [_gt(1, 1, 1, [0, 0, 32, 32]), _gt(2, 1, 1, [100, 100, 96, 96]), _gt(3, 1, 1, [50, 0, 30, 30], area=1024)],
        [_dt(1, 1, [0, 0, 32, 32], 0.9), _dt(1, 1, [100, 100, 96, 96], 0.8), _dt(1, 1, [150, 20, 32, 32], 0.7),
         _dt(1, 1, [150, 60, 32.5, 32], 0.6)])
    # zero-area detections are not evaluated at all
    S["zero_area_det"] = case([_img(1)], [_gt(1, 1, 1, box)],
                              [_dt(1, 1, [10, 10, 0, 20], 0.9), _dt(1, 1, box, 0.5)])
    # 301 detections on one image, the 300th and 301st tied: file order decides which is kept
    dets = [_dt(1, 1, [60, 60, 5, 5], 0.9) for _ in range(299)]
    S["tie_at_cut_first_fp"] = case([_img(1), _img(2)], [_gt(1, 1, 1, box), _gt(2, 2, 1, box)],
                                    dets + [_dt(1, 1, [70, 70, 5, 5], 0.1), _dt(1, 1, box, 0.1), _dt(2, 1, box, 0.1)])
    S["tie_at_cut_first_tp"] = case([_img(1), _img(2)], [_gt(1, 1, 1, box), _gt(2, 2, 1, box)],
                                    dets + [_dt(1, 1, box, 0.1), _dt(1, 1, [70, 70, 5, 5], 0.1), _dt(2, 1, box, 0.1)])
    # the cut counts dropped and zero-area detections too (it happens before any filter)
    S["cut_counts_dropped"] = case([_img(1)], [_gt(1, 1, 1, box)],
                                   [_dt(1, 2, [60, 60, 5, 5], 0.9) for _ in range(300)] + [_dt(1, 1, box, 0.5)])
    # more than 100 detections for one image and category are all used (no per-category cut)
    S["over_100_one_category"] = case(
        [_img(1)], [_gt(1, 1, 1, box)], [_dt(1, 1, [60, 60, 5, 5], 0.9) for _ in range(150)] + [_dt(1, 1, box, 0.5)])
    # an empty frequency group (no 'f' category) gives APf -1
    S["empty_group"] = case([_img(1)], [_gt(1, 1, 1, box)], [_dt(1, 1, box, 0.5)], categories=cats[:2])
    # a GT with area above the 'all' range is evaluated, but ignored in every range
    S["gt_area_above_all"] = case([_img(1)], [_gt(1, 1, 1, box, area=AREA_ABOVE_ALL), _gt(2, 1, 1, [50, 50, 20, 20])],
                                  [_dt(1, 1, box, 0.9), _dt(1, 1, [50, 50, 20, 20], 0.5)])
    return S


SCENARIOS: Dict[str, Case] = _scenarios()


def lvis_scenario(name: str) -> Case:
    return copy.deepcopy(SCENARIOS[name])


def segm_first_result_regrouped() -> Tuple[dict, list]:
    """segm results whose file-first record has no bbox while every other one has one.

    The first image holds more than 300 results and its file-first record is not
    among its best 300, so lvis-api (which regroups and cuts before looking at
    ``results[0]``) sees a bbox on its first result and takes w*h as every area.
    The bboxes are chosen with a zero width, so lvis-api drops every result:
    an engine reading the file-first record uses mask areas instead.
    """
    H = W = 40
    images = [_img(1, w=W, h=H), _img(2, w=W, h=H)]
    g = np.zeros((H, W), np.uint8)
    g[5:25, 5:25] = 1
    poly = [[5.0, 5.0, 5.0, 25.0, 25.0, 25.0, 25.0, 5.0]]
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": poly, "bbox": [5.0, 5.0, 20.0, 20.0],
             "area": 400.0},
            {"id": 2, "image_id": 2, "category_id": 1, "segmentation": poly, "bbox": [5.0, 5.0, 20.0, 20.0],
             "area": 400.0}]
    far = np.zeros((H, W), np.uint8)
    far[30:35, 30:35] = 1
    dets = [{"image_id": 1, "category_id": 1, "segmentation": compressed_rle(g), "score": 0.01}]  # cut, no bbox
    for _ in range(300):
        dets.append({"image_id": 1, "category_id": 1, "segmentation": compressed_rle(far),
                     "bbox": [30.0, 30.0, 0.0, 5.0], "score": 0.5})
    dets.append({"image_id": 2, "category_id": 1, "segmentation": compressed_rle(g), "bbox": [5.0, 5.0, 0.0, 20.0],
                 "score": 0.9})
    gt = {"images": images, "annotations": anns, "categories": [_cat(1, "f")]}
    return gt, dets


def perturbed_predictions(gt: dict, kind: str = "bbox", seed: int = 0, max_dets: int = LVIS_MAX_DETS) -> List[dict]:
    """Predictions for a real LVIS annotation file: jittered copies of the GTs, false positives
    of each image's negative categories, detections of not-exhaustive and of unlabelled
    (dropped) categories, and one image pushed past the cap with a score tie at the cut."""
    rng = np.random.default_rng([int(seed), 11 + KINDS.index(kind)])
    imgs = {i["id"]: i for i in gt["images"]}
    cat_ids = [c["id"] for c in gt["categories"]]
    by_img: Dict[int, List[dict]] = {}
    for a in gt["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    masks: Dict[int, np.ndarray] = {}

    def gt_mask(a):
        if a["id"] not in masks:
            img = imgs[a["image_id"]]
            masks[a["id"]] = segm_to_mask(a["segmentation"], img["height"], img["width"])
        return masks[a["id"]]

    def near(a):
        if kind == "segm":
            m = gt_mask(a)
            if rng.random() < 0.3:
                return {"_mask": m.copy()}
            return {"_mask": _shift(m, int(rng.integers(-5, 6)), int(rng.integers(-5, 6)))}
        x, y, w, h = a["bbox"]
        sd = 0.08 * max(w, h)
        return {"bbox": [round(x + rng.normal(0, sd), 2), round(y + rng.normal(0, sd), 2),
                         round(max(w + rng.normal(0, sd), 0.0), 2), round(max(h + rng.normal(0, sd), 0.0), 2)]}

    def random_region(img):
        if kind == "segm":
            m = np.zeros((img["height"], img["width"]), np.uint8)
            x, y = int(rng.integers(0, img["width"] - 20)), int(rng.integers(0, img["height"] - 20))
            m[y:y + int(rng.integers(5, 80)), x:x + int(rng.integers(5, 80))] = 1
            return {"_mask": m}
        return {"bbox": [float(v) for v in _rand_box(rng, img["width"], img["height"], "coco2")]}

    dets = []
    for img in gt["images"]:
        mine = []
        for a in by_img.get(img["id"], []):
            mine += [dict(near(a), category_id=a["category_id"]) for _ in range(int(rng.integers(0, 3)))]
        for c in img["neg_category_ids"][:3]:
            mine.append(dict(random_region(img), category_id=int(c)))
        for c in img["not_exhaustive_category_ids"]:
            mine += [dict(random_region(img), category_id=int(c)) for _ in range(int(rng.integers(1, 3)))]
        for _ in range(int(rng.integers(0, 3))):
            mine.append(dict(random_region(img), category_id=int(rng.choice(cat_ids))))
        for d in mine:
            d["image_id"] = img["id"]
            d["score"] = round(float(rng.uniform(0.0, 1.0)), 3)
        dets += mine
    # one image with GT past the cap, a tie block straddling the cut
    big = max(by_img, key=lambda i: (len(by_img[i]), i))
    anns = by_img[big]
    have = sum(d["image_id"] == big for d in dets)
    for _ in range(max_dets + 25 - have):
        a = anns[int(rng.integers(len(anns)))]
        dets.append(dict(near(a), category_id=a["category_id"], image_id=big,
                         score=round(float(rng.uniform(0.0, 1.0)), 3)))
    order = rng.permutation(len(dets))
    dets = [dets[i] for i in order]
    _ties_at_cut(rng, {"max_dets": max_dets}, dets, {big})
    for d in dets:
        if "_mask" in d:
            d["segmentation"] = compressed_rle(d.pop("_mask"))
    return [{k: d[k] for k in ("image_id", "category_id", "bbox", "segmentation", "score") if k in d} for d in dets]


# --------------------------------------------------------------------------
# which of the rules a case exercises (computed from the data)
# --------------------------------------------------------------------------
def _det_area(d: dict, first_has_bbox: bool) -> float:
    if first_has_bbox:
        return float(d["bbox"][2]) * float(d["bbox"][3])
    c = dict(d["segmentation"])
    c["counts"] = c["counts"].encode("ascii") if isinstance(c["counts"], str) else c["counts"]
    return float(mask_utils.area(c))


def lvis_case_features(gt: dict, preds: list, kind: str = "bbox", max_dets: int = LVIS_MAX_DETS) -> set:
    """Names of the LVIS rules exercised by a case (independently of the generator)."""
    f = set()
    anns, imgs = gt["annotations"], {i["id"]: i for i in gt["images"]}
    freqs = {c["frequency"] for c in gt["categories"]}
    f.add("freq_all_groups" if freqs == set(FREQS) else "freq_group_empty")
    evaluated = [a for a in anns if 0 < a["area"] < float("inf")]
    present = {(a["image_id"], a["category_id"]) for a in evaluated}
    present_any = {(a["image_id"], a["category_id"]) for a in anns}
    if present_any - present:
        f.add("gt_zero_area_sole")
    if any(a["area"] == 0 for a in anns):
        f.add("gt_area_zero")
    if any(a["area"] in AREA_BORDERS for a in anns):
        f.add("gt_area_border")
    if any(a["area"] not in AREA_BORDERS and np.float32(a["area"]) in np.float32(AREA_BORDERS) for a in anns):
        f.add("gt_area_ulp_off_border")
    if any(a["area"] > 1e10 for a in anns):
        f.add("gt_area_above_all")
    if any(a.get("ignore") for a in anns):
        f.add("gt_ignore")
    if any(a.get("iscrowd") for a in anns):
        f.add("gt_iscrowd_one")
    if any(a["id"] == 0 for a in anns):
        f.add("gt_id_zero")
    if set(imgs) - {a["image_id"] for a in anns}:
        f.add("img_no_gt")
    if set(imgs) - {d["image_id"] for d in preds}:
        f.add("img_no_det")
    for i in imgs.values():
        neg, ne = set(i["neg_category_ids"]), set(i["not_exhaustive_category_ids"])
        here = {c for (im, c) in present if im == i["id"]}
        if neg & ne:
            f.add("neg_and_not_exhaustive")
        if neg & here:
            f.add("neg_and_present")
        if ne & here:
            f.add("not_exhaustive_present")
    for d in preds:
        i = imgs[d["image_id"]]
        key = (d["image_id"], d["category_id"])
        if d["category_id"] in i["neg_category_ids"] and key not in present:
            f.add("det_negative")
        if d["category_id"] in i["not_exhaustive_category_ids"]:
            f.add("det_not_exhaustive")
        if key not in present and d["category_id"] not in i["neg_category_ids"]:
            f.add("det_dropped")
            if key in present_any:
                f.add("det_dropped_zero_area_gt")
    by_img: Dict[int, List[float]] = {}
    for d in preds:
        by_img.setdefault(d["image_id"], []).append(d["score"])
    for s in by_img.values():
        if len(s) == max_dets:
            f.add("image_exactly_at_cap")
        if len(s) > max_dets:
            f.add("image_over_cap")
            r = sorted(s, reverse=True)
            if r[max_dets - 1] == r[max_dets]:
                f.add("tie_at_cut")
        if len(s) != len(set(s)):
            f.add("score_tie_within_image")
    sets = [set(s) for s in by_img.values()]
    if any(sets[a] & sets[b] for a in range(len(sets)) for b in range(a + 1, len(sets))):
        f.add("score_tie_across_images")
    first_has_bbox = bool(preds) and "bbox" in preds[0]
    if kind == "bbox" and any(d["bbox"][2] * d["bbox"][3] == 0 for d in preds):
        f.add("zero_area_det")
    if kind == "segm":
        if preds and any(_det_area(d, first_has_bbox) == 0 for d in preds):
            f.add("zero_area_det")
        if any(isinstance(d["segmentation"]["counts"], str) for d in preds):
            f.add("det_counts_str")
        nb = sum("bbox" in d for d in preds)
        if preds and nb == len(preds):
            f.add("segm_det_bbox_all")
        elif nb:
            f.add("segm_det_bbox_mixed")
        elif preds:
            f.add("segm_det_bbox_none")
        if first_has_bbox and any(_det_area(d, True) != _det_area(d, False) for d in preds):
            f.add("segm_det_bbox_area_differs")
        if any(isinstance(a["segmentation"], list) for a in anns):
            f.add("gt_polygon")
        if any(isinstance(a["segmentation"], list) and len(a["segmentation"]) > 1 for a in anns):
            f.add("gt_polygon_multipart")
    return f
