"""The VOC / DOTA devkit / mmrotate matching rule, for every group and IoU threshold at once.

Per (image, class) group, detections in score order: a detection looks at its *best* ground truth
(highest IoU; the first in file order among equal IoUs), whether or not that one is taken. If the IoU
passes the threshold (``> t`` for the devkits, ``>= t`` for mmrotate): an ignored (difficult) ground
truth makes the detection ignored, a free one makes it a true positive and takes it, a taken one makes
it a false positive; there is no fall-back to the second best. Otherwise it is a false positive.

Since the best ground truth does not depend on what is taken, no sequential loop is needed: a detection
is a true positive exactly when it is the first (in score order) of the passing detections whose best
ground truth is that same regular one. One scatter-max finds the best ground truths, one scatter-min per
threshold the first claimants.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..kernels.arrays import ops_of
from .pairs import Candidates

TP, FP, IGNORED = 1, 0, -1
_POS_BITS = 21


def match_best(cands: Candidates, n_det: int, gt_pos: Any, gt_ignore: Any, thresholds: Sequence[float],
               strict: bool) -> Any:
    """(n_det, T) int8 states: 1 true positive, 0 false positive, -1 ignored (arrays of the candidates'
    backend: numpy or torch).

    ``cands`` must hold every pair that can pass the lowest threshold (detections index the kept,
    group-then-score ordered detections; ``gt_pos`` is the ground truth's position in its group).
    """
    xp = ops_of(gt_pos)
    state = xp.zeros((n_det, len(thresholds)), xp.int8)
    if xp.size(cands.det) == 0:
        return state
    iou_rank = xp.unique_inverse(cands.iou)
    pos = gt_pos[cands.gt]
    if int(pos.max()) >= (1 << _POS_BITS):
        raise ValueError("too many ground truths in one (image, class) group for the match key")
    key = (iou_rank << _POS_BITS) | ((1 << _POS_BITS) - 1 - pos)  # higher IoU first, then earlier in file
    best = xp.scatter_max_(xp.full((n_det,), -1, xp.int64), cands.det, key)
    win = key == best[cands.det]
    w_det, w_gt, w_iou = cands.det[win], cands.gt[win], cands.iou[win]
    ignored = gt_ignore[w_gt]
    big = (1 << 63) - 1
    n_gt = xp.size(gt_pos)
    for k, t in enumerate(thresholds):
        passed = w_iou > t if strict else w_iou >= t
        claim = passed & ~ignored
        first = xp.scatter_min_(xp.full((n_gt,), big, xp.int64), w_gt[claim], w_det[claim])
        tp = claim & (first[w_gt] == w_det)
        state[w_det[passed & ignored], k] = IGNORED
        state[w_det[tp], k] = TP
    return state
