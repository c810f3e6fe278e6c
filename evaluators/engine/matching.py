"""Greedy matching of detections to ground truths for every group, IoU threshold and area range at once.

pycocotools' rule, per group, threshold t and area range a, detections in score order: a detection takes,
among the ground truths still free (crowd regions are never used up) with IoU >= min(t, 1 - 1e-10), the one
with the highest IoU, preferring regular ground truths over ignored ones (crowd, or area outside the range)
and, among equal IoUs, the last in the group's order. We encode that preference as one int64 key per
candidate pair, (regular, IoU rank, position), and take the maximum per detection with a scatter.

Detections only interact through ground truths they could both take, so the loop runs over *steps*: step s
holds the s-th detection-with-candidates of every group, all groups in parallel. The number of steps is
bounded by max_dets, never by the number of images or categories.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

import torch
from tqdm import tqdm

from .pairs import Candidates

_POS_BITS = 21
_RANK_BITS = 40


@dataclass
class Matches:
    """Sparse result: one entry per (detection, threshold, area range) that matched a ground truth.

    ``det`` indexes the kept detections, ``col`` is ``t * A + a``, ``gt_ignored`` tells whether the GT is
    ignored in that area range (crowd or out of range: the detection is then ignored too). ``outside``
    (N, A) marks detections whose own area is outside each range (ignored when unmatched).
    ``gt_zero_id``: pycocotools stores the GT's annotation id as the match, so a match to id 0 reads as
    "unmatched" (never a TP; ignored if the GT is ignored or the detection is outside the range).
    """

    det: torch.Tensor
    col: torch.Tensor
    gt_ignored: torch.Tensor
    gt_zero_id: torch.Tensor
    outside: torch.Tensor
    n_thr: int
    n_area: int


def match(cands: Candidates, n_det: int, det_group: torch.Tensor, det_area: torch.Tensor, gt_area: torch.Tensor,
          gt_crowd: torch.Tensor, gt_id: torch.Tensor, gt_pos: torch.Tensor, iou_thrs, area_ranges,
          progress: bool = False, gt_ignore: Optional[torch.Tensor] = None,
          dt_ignore_unmatched: Optional[torch.Tensor] = None) -> Matches:
    """Run the greedy matching for all groups, thresholds and area ranges (tqdm bar over steps if asked).

    ``gt_ignore`` defaults to ``gt_crowd`` (pycocotools overwrites ``ignore`` with ``iscrowd``); crowd GTs
    can be matched again and again. ``dt_ignore_unmatched`` marks detections that are ignored whenever
    they match nothing (LVIS: categories not exhaustively annotated in the image).
    """
    device = det_area.device
    thr = torch.tensor([min(t, 1 - 1e-10) for t in iou_thrs], dtype=torch.float64, device=device)
    lo = torch.tensor([r[0] for r in area_ranges], dtype=torch.float64, device=device)
    hi = torch.tensor([r[1] for r in area_ranges], dtype=torch.float64, device=device)
    T, A = thr.numel(), lo.numel()
    ignore = gt_crowd if gt_ignore is None else gt_ignore
    gt_regular = ~ignore[:, None] & (gt_area[:, None] >= lo) & (gt_area[:, None] <= hi)  # (G, A)
    matched = _greedy(cands, det_group, gt_regular, gt_crowd, gt_pos, thr, progress)  # (Nc, T, A) gt index or -1
    cand_det = torch.unique(cands.det)  # sorted, matches _greedy's row order
    ci, ti, ai = torch.nonzero(matched >= 0, as_tuple=True)
    g = matched[ci, ti, ai]
    outside = (det_area[:, None] < lo) | (det_area[:, None] > hi)  # (N, A)
    if dt_ignore_unmatched is not None:
        outside |= dt_ignore_unmatched[:, None]
    return Matches(det=cand_det[ci], col=ti * A + ai, gt_ignored=~gt_regular[g, ai], gt_zero_id=gt_id[g] == 0,
                   outside=outside, n_thr=T, n_area=A)


def _greedy(cands: Candidates, det_group: torch.Tensor, gt_regular: torch.Tensor, gt_crowd: torch.Tensor,
            gt_pos: torch.Tensor, thr: torch.Tensor, progress: bool = False) -> torch.Tensor:
    device = thr.device
    T, A = thr.numel(), gt_regular.shape[1]
    if cands.det.numel() == 0:
        return torch.zeros((0, T, A), dtype=torch.int64, device=device)
    cand_det, det_local = torch.unique(cands.det, return_inverse=True)
    # step of each candidate detection = its index among its group's candidate detections
    grp = det_group[cand_det]
    new_group = torch.ones_like(grp, dtype=torch.bool)
    new_group[1:] = grp[1:] != grp[:-1]
    idx = torch.arange(grp.numel(), device=device)
    group_first = torch.cummax(torch.where(new_group, idx, torch.zeros_like(idx)), 0).values
    det_step = idx - group_first
    # order pairs by (step, detection)
    pair_step = det_step[det_local]
    order = torch.argsort(pair_step * cand_det.numel() + det_local, stable=True)
    p_det, p_gt, p_iou = det_local[order], cands.gt[order], cands.iou[order]
    new_det = torch.ones_like(p_det, dtype=torch.bool)
    new_det[1:] = p_det[1:] != p_det[:-1]
    p_run = torch.cumsum(new_det.to(torch.int64), 0) - 1  # running detection counter over the ordered pairs
    n_steps = int(det_step.max()) + 1
    step_bounds = torch.searchsorted(pair_step[order], torch.arange(n_steps + 1, device=device)).tolist()

    # compact GT index space: only GTs that appear in candidates carry state
    gt_used, p_gtc = torch.unique(p_gt, return_inverse=True)
    _, iou_rank = torch.unique(p_iou, return_inverse=True)
    pos = gt_pos[p_gt]
    if int(pos.max()) >= (1 << _POS_BITS) or int(iou_rank.max()) >= (1 << _RANK_BITS):
        raise ValueError("too many ground truths in one group or too many distinct IoUs for the match key")
    TA = T * A
    regular = gt_regular[p_gt].to(torch.int64)  # (P, A)
    key_full = ((regular << 62) | ((iou_rank << _POS_BITS) | pos)[:, None]).repeat(1, T)  # (P, T*A), col t*A+a
    iou_ok = p_iou[:, None] >= thr.repeat_interleave(A)[None, :]  # (P, T*A)
    crowd = gt_crowd[p_gt][:, None]

    taken = torch.zeros(gt_used.numel() * TA, dtype=torch.bool, device=device)
    matched = torch.full((cand_det.numel() * TA,), -1, dtype=torch.int64, device=device)
    minus_one = torch.tensor(-1, dtype=torch.int64, device=device)
    for s in tqdm(range(n_steps), desc="matching", unit="step", disable=not progress, leave=False, file=sys.stderr):
        a, b = step_bounds[s], step_bounds[s + 1]
        if a == b:
            continue
        dl, gc = p_det[a:b], p_gtc[a:b]
        ok = (~taken.view(-1, TA).index_select(0, gc) | crowd[a:b]) & iou_ok[a:b]
        key = torch.where(ok, key_full[a:b], minus_one)
        local = p_run[a:b] - p_run[a]
        best = torch.full((int(local[-1]) + 1, TA), -1, dtype=torch.int64, device=device)
        best.scatter_reduce_(0, local[:, None].expand(-1, TA), key, "amax")
        win = torch.nonzero((ok & (key == best.index_select(0, local))).view(-1)).flatten()
        pi, col = win // TA, win % TA
        taken[gc[pi] * TA + col] = True
        matched[dl[pi] * TA + col] = p_gt[a:b][pi]
    matched = matched.view(-1, T, A)
    return matched
