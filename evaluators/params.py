"""Frozen evaluation parameters, with pycocotools' defaults and their exact float values."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import ParameterError

AREA_LABELS = ("all", "small", "medium", "large")
DEFAULT_AREA_RANGES = ((0.0, 1e10), (0.0, 1024.0), (1024.0, 9216.0), (9216.0, 1e10))
METRICS = ("bbox", "segm", "proposal")


def default_iou_thrs() -> np.ndarray:
    """0.50:0.05:0.95 exactly as pycocotools builds it (np.linspace, not np.arange)."""
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def default_rec_thrs() -> np.ndarray:
    """The 101 recall points 0:0.01:1 exactly as pycocotools builds them."""
    return np.linspace(0.0, 1.0, int(np.round((1.0 - 0.0) / 0.01)) + 1, endpoint=True)


AreaRanges = Union[Sequence[Sequence[float]], Mapping[str, Sequence[float]]]


@dataclass(frozen=True)
class EvalParams:
    """Everything that decides the numbers. Build it with :meth:`create`, which validates and fills defaults.

    ``img_ids`` / ``cat_ids`` of ``None`` mean all of the ground truth's (sorted, as pycocotools).
    With ``use_cats=False`` the order of ``cat_ids`` is kept, as pycocotools keeps it.
    """

    metric: str = "bbox"
    iou_thrs: Tuple[float, ...] = tuple(default_iou_thrs().tolist())
    rec_thrs: Tuple[float, ...] = tuple(default_rec_thrs().tolist())
    max_dets: Tuple[int, ...] = (1, 10, 100)
    area_ranges: Tuple[Tuple[float, float], ...] = DEFAULT_AREA_RANGES
    area_labels: Tuple[str, ...] = AREA_LABELS
    use_cats: bool = True
    img_ids: Optional[Tuple[int, ...]] = None
    cat_ids: Optional[Tuple[int, ...]] = None
    extra: Dict[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def create(
        cls,
        metric: str = "bbox",
        *,
        iou_thrs: Optional[Sequence[float]] = None,
        max_dets: Optional[Union[int, Sequence[int]]] = None,
        area_ranges: Optional[AreaRanges] = None,
        img_ids: Optional[Sequence[int]] = None,
        cat_ids: Optional[Sequence[int]] = None,
        use_cats: Optional[bool] = None,
        protocol: str = "coco",
    ) -> "EvalParams":
        """Validate the options and fill in the defaults of ``metric`` (proposal: useCats=0, 100/300/1000)
        and ``protocol`` (LVIS: one per-image cap, 300)."""
        if metric not in METRICS:
            raise ParameterError(f"Expected `metric` to be one of {', '.join(METRICS)} but got {metric!r}.")
        proposal = metric == "proposal"
        thrs = default_iou_thrs() if iou_thrs is None else np.asarray(iou_thrs, dtype=np.float64)
        if thrs.ndim != 1 or thrs.size == 0 or not np.all(np.isfinite(thrs)) or thrs.min() < 0 or thrs.max() > 1:
            raise ParameterError(f"Expected `iou_thrs` to be a non-empty list of numbers in [0, 1] but got {iou_thrs!r}.")
        if protocol == "lvis":
            dets = _lvis_max_dets(max_dets)
            if use_cats is False:
                raise ParameterError("the LVIS protocol always evaluates per category (use_cats=True).")
        else:
            dets = (100, 300, 1000) if proposal else (1, 10, 100)
            if max_dets is not None:
                dets = tuple(sorted(int(m) for m in max_dets))
            if len(dets) < 3 or min(dets) < 1:
                raise ParameterError(
                    f"Expected `max_dets` to hold 3 positive integers (the summary reads the first three) but got {max_dets!r}."
                )
        labels, ranges = _area_ranges(area_ranges)
        if use_cats is None:
            use_cats = not proposal
        return cls(
            metric=metric,
            iou_thrs=tuple(thrs.tolist()),
            max_dets=dets,
            area_ranges=ranges,
            area_labels=labels,
            use_cats=bool(use_cats),
            img_ids=None if img_ids is None else tuple(sorted(set(int(i) for i in img_ids))),
            cat_ids=None if cat_ids is None else _cat_ids(cat_ids, bool(use_cats)),
        )

    @property
    def iou_type(self) -> str:
        """pycocotools' iouType: proposals are boxes."""
        return "segm" if self.metric == "segm" else "bbox"


def _lvis_max_dets(max_dets) -> Tuple[int, ...]:
    if max_dets is None:
        return (300,)
    values = [max_dets] if isinstance(max_dets, int) else list(max_dets)
    if len(values) != 1 or int(values[0]) < 1:
        raise ParameterError(f"Expected `max_dets` for LVIS to be one positive integer (the per-image cap) but got {max_dets!r}.")
    return (int(values[0]),)


def _cat_ids(cat_ids: Sequence[int], use_cats: bool) -> Tuple[int, ...]:
    """pycocotools sorts and de-duplicates catIds only with useCats=1; class-agnostic evaluation pools each
    image's records category by category in the given order (which decides ties), so keep that order."""
    ids = [int(c) for c in cat_ids]
    if use_cats:
        return tuple(sorted(set(ids)))
    if len(set(ids)) != len(ids):
        raise ParameterError(f"Expected `cat_ids` without repeats for class-agnostic evaluation but got {list(cat_ids)!r} "
                             "(pycocotools would count those categories' records twice).")
    return tuple(ids)


def _area_ranges(area_ranges: Optional[AreaRanges]) -> Tuple[Tuple[str, ...], Tuple[Tuple[float, float], ...]]:
    if area_ranges is None:
        return AREA_LABELS, DEFAULT_AREA_RANGES
    if isinstance(area_ranges, Mapping):
        labels = tuple(str(k) for k in area_ranges)
        pairs = list(area_ranges.values())
    else:
        pairs = list(area_ranges)
        if len(pairs) != len(AREA_LABELS):
            raise ParameterError(
                f"Expected `area_ranges` to list 4 [lo, hi] pairs (all, small, medium, large) or to be a "
                f"dict label -> [lo, hi] but got {len(pairs)} pairs."
            )
        labels = AREA_LABELS
    try:
        ranges = tuple((float(lo), float(hi)) for lo, hi in pairs)
    except (TypeError, ValueError):
        raise ParameterError(f"Expected each area range to be a [lo, hi] pair of numbers but got {pairs!r}.") from None
    return labels, ranges
