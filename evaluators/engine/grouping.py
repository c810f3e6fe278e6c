"""Select what is evaluated and put it in pycocotools' order, as arrays.

A *group* is what pycocotools evaluates at once: (image, category), or the whole image when categories are
ignored (``use_cats=False``). Within a group:

* ground truths keep file order (class-agnostic: ordered by category id first, as pycocotools concatenates
  its per-category lists);
* detections are stable-sorted by descending score (ties keep file order; class-agnostic: category id
  first), then cut to the largest ``max_dets``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..data.ground_truth import GroundTruth
from ..data.predictions import Predictions
from ..kernels.stable_sort import stable_argsort_descending, stable_argsort_int, stable_argsort_small
from ..params import EvalParams


@dataclass
class Groups:
    """Evaluated ground truths and detections, sorted by group (see module docstring).

    ``*_slot`` is the category's index in the evaluated category list (0 for every record when class
    agnostic); ``*_img`` the image's index in the sorted image list; ``*_row`` the row in the input table.
    ``gt_pos`` is a ground truth's position within its group; ``dt_rank`` a detection's rank.
    """

    img_ids: np.ndarray
    cat_ids: np.ndarray
    n_slots: int
    gt_row: np.ndarray
    gt_group: np.ndarray
    gt_slot: np.ndarray
    gt_pos: np.ndarray
    group_gt_start: np.ndarray
    group_gt_count: np.ndarray
    dt_row: np.ndarray
    dt_group: np.ndarray
    dt_slot: np.ndarray
    dt_img: np.ndarray
    dt_rank: np.ndarray
    dt_score: np.ndarray
    n_dt_total: int  # evaluated detections before the max_dets cut
    # positions of the kept detections in global (descending score, file row) order, all groups together
    # (the VOC-family accumulation sorts this way per class)
    dt_score_order: np.ndarray


def build_groups(gt: GroundTruth, dt: Predictions, params: EvalParams, gt_mask: Optional[np.ndarray] = None,
                 dt_mask: Optional[np.ndarray] = None) -> Groups:
    """Filter to the evaluated images and categories (and the protocol's masks), order and cut as
    pycocotools does."""
    img_ids = np.unique(gt.img_ids if params.img_ids is None else np.asarray(params.img_ids, np.int64))
    # category order: sorted, except for class-agnostic evaluation with explicit cat_ids (kept as given)
    cat_ids = np.unique(gt.cat_ids) if params.cat_ids is None else np.asarray(params.cat_ids, np.int64)
    cat_sorter = np.argsort(cat_ids, kind="stable")
    n_slots = cat_ids.size if params.use_cats else 1

    g_sel = _isin(gt.ann_img, img_ids) & _isin(gt.ann_cat, cat_ids)
    d_sel = _isin(dt.img, img_ids) & _isin(dt.cat, cat_ids)
    g_keep = np.flatnonzero(g_sel if gt_mask is None else g_sel & gt_mask)
    d_keep = np.flatnonzero(d_sel if dt_mask is None else d_sel & dt_mask)
    g_img, d_img = (_index_of(img_ids, None, v[keep]) for v, keep in ((gt.ann_img, g_keep), (dt.img, d_keep)))
    g_cat, d_cat = (_index_of(cat_ids, cat_sorter, v[keep]) for v, keep in ((gt.ann_cat, g_keep), (dt.cat, d_keep)))
    g_key = g_img * n_slots + (g_cat if params.use_cats else 0)
    d_key = d_img * n_slots + (d_cat if params.use_cats else 0)
    n_groups, inverse = _dense_rank(np.concatenate([g_key, d_key]), img_ids.size * n_slots)
    g_group, d_group = inverse[: g_key.size], inverse[g_key.size:]

    g_order = np.lexsort((g_keep, g_cat, g_group))
    gt_group = g_group[g_order]
    group_gt_count = np.bincount(gt_group, minlength=n_groups)
    group_gt_start = np.zeros(n_groups, np.int64)
    np.cumsum(group_gt_count[:-1], out=group_gt_start[1:])
    gt_pos = np.arange(g_order.size) - group_gt_start[gt_group]

    score = dt.score[d_keep]
    # successive stable sorts: (category when class-agnostic), then -score, then group; file order breaks ties
    pre = np.arange(score.size) if params.use_cats else stable_argsort_int(d_cat)
    by_score = pre[stable_argsort_descending(score[pre])]
    by_group = stable_argsort_small(d_group[by_score], n_groups)
    d_order = by_score[by_group]
    dt_group = d_group[d_order]
    first = np.zeros(n_groups, np.int64)
    counts = np.bincount(dt_group, minlength=n_groups)
    np.cumsum(counts[:-1], out=first[1:])
    rank = np.arange(d_order.size) - first[dt_group]
    cut = rank < params.max_dets[-1]
    # by_score[k] sits at position where[k] of d_order; kept positions renumbered after the cut
    where = np.empty_like(by_group)
    where[by_group] = np.arange(by_group.size)
    if cut.all():  # nothing cut (the VOC family has no cap): no selection copies
        cut = slice(None)
        score_order = where
    else:
        new_pos = np.cumsum(cut) - 1
        score_order = new_pos[where[cut[where]]]
    d_sel = d_order[cut]
    return Groups(
        img_ids=img_ids, cat_ids=cat_ids, n_slots=n_slots,
        gt_row=g_keep[g_order], gt_group=gt_group,
        gt_slot=(g_cat[g_order] if params.use_cats else np.zeros(g_order.size, np.int64)),
        gt_pos=gt_pos, group_gt_start=group_gt_start, group_gt_count=group_gt_count,
        dt_row=d_keep[d_sel], dt_group=dt_group[cut],
        dt_slot=(d_cat[d_sel] if params.use_cats else np.zeros(d_sel.size, np.int64)),
        dt_img=d_img[d_sel], dt_rank=rank[cut], dt_score=score[d_sel], n_dt_total=int(d_keep.size),
        dt_score_order=score_order,
    )


def _index_of(ids: np.ndarray, sorter: Optional[np.ndarray], values: np.ndarray) -> np.ndarray:
    """Position in ``ids`` of each of ``values`` (all present). ``sorter`` sorts ``ids``; None: they are
    sorted and unique. Ids 0..n-1 in order (positional ids: DOTA, VOC) are their own positions."""
    if sorter is None:
        positional = ids.size > 0 and ids[0] == 0 and ids[-1] == ids.size - 1
    else:
        positional = np.array_equal(ids, np.arange(ids.size))
    if positional:
        return values.astype(np.int64, copy=False)
    if sorter is None:
        return np.searchsorted(ids, values)
    return sorter[np.searchsorted(ids, values, sorter=sorter)]


def _isin(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``np.isin(values, ids)`` for integer ids; a lookup table when the ids are small and non-negative."""
    values = np.asarray(values)
    if ids.size and values.size and ids.dtype.kind in "iu" and values.dtype.kind in "iu":
        lo, hi = int(ids.min()), int(ids.max())
        if lo >= 0 and hi < 4 * (values.size + ids.size) + (1 << 16):
            table = np.zeros(hi + 2, bool)
            table[ids] = True
            return table[np.clip(values, 0, hi + 1)] & (values >= 0)
    return np.isin(values, ids)


def _dense_rank(keys: np.ndarray, key_space: int):
    """``(number of distinct keys, rank of each key among them)``, as ``np.unique(return_inverse)``."""
    if keys.size and key_space <= 4 * keys.size + (1 << 16):
        present = np.zeros(key_space, np.int64)
        present[keys] = 1
        rank = np.cumsum(present) - 1
        return int(rank[-1] + 1), rank[keys]
    uniq, inverse = np.unique(keys, return_inverse=True)
    return int(uniq.size), inverse.reshape(-1)


def pair_chunks(groups: Groups, max_pairs: int = 1 << 22):
    """Yield (det_index, gt_index) arrays of all same-group pairs, in chunks of about ``max_pairs`` pairs."""
    per_det = groups.group_gt_count[groups.dt_group]
    bounds = np.cumsum(per_det)
    lo = 0
    n = per_det.size
    while lo < n:
        base = bounds[lo - 1] if lo else 0
        hi = int(np.searchsorted(bounds, base + max_pairs, side="right"))
        hi = min(max(hi, lo + 1), n)
        cnt = per_det[lo:hi]
        det = np.repeat(np.arange(lo, hi), cnt)
        starts = np.repeat(groups.group_gt_start[groups.dt_group[lo:hi]] - (np.cumsum(cnt) - cnt), cnt)
        gt = starts + np.arange(det.size)
        yield det, gt
        lo = hi
