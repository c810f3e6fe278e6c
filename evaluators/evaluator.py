"""Stateful evaluator over the functional core: load the ground truth once, feed predictions in parts.

``update`` appends predictions (a list of result dicts, an (N, 7) array or a results file); two
evaluators over the same ground truth and options merge with ``+=`` (e.g. after gathering the parts of
several workers). Concatenation order is the "file order" that breaks score ties, so merging parts in
rank order gives the same numbers as one file holding them in that order.
"""
from __future__ import annotations

from typing import Any, List, Mapping, Union

import numpy as np

from .api import evaluate
from .data.ground_truth import GroundTruth, load_ground_truth
from .data.jsonio import PathLike
from .data.predictions import PredsLike, read_records
from .errors import ParameterError
from .result import EvalResult


class Evaluator:
    """Accumulates predictions for one ground truth and one set of options; ``compute`` evaluates them.

    Example:
        >>> ev = Evaluator("instances_val2017.json", metric="bbox")    # doctest: +SKIP
        >>> for batch in loader: ev.update(model_outputs_as_coco(batch))  # doctest: +SKIP
        >>> print(ev.compute().summary())                              # doctest: +SKIP
    """

    def __init__(self, gt: Union[PathLike, Mapping[str, Any], GroundTruth], metric: str = "bbox", **options: Any) -> None:
        self.gt = gt if isinstance(gt, GroundTruth) else load_ground_truth(gt)
        self.metric = metric
        self.options = options
        self._records: List[dict] = []

    def update(self, preds: PredsLike) -> "Evaluator":
        """Append predictions; returns ``self`` so calls chain."""
        self._records.extend(read_records(preds)[1])
        return self

    def reset(self) -> "Evaluator":
        """Forget all predictions (the ground truth stays loaded)."""
        self._records = []
        return self

    def __iadd__(self, other: "Evaluator") -> "Evaluator":
        if other.gt is not self.gt and other.gt.dataset is not self.gt.dataset:
            if not (np.array_equal(other.gt.ann_ids, self.gt.ann_ids) and np.array_equal(other.gt.img_ids, self.gt.img_ids)):
                raise ParameterError("cannot merge evaluators built on different ground truths.")
        if other.metric != self.metric or other.options != self.options:
            raise ParameterError("cannot merge evaluators with different metrics or options.")
        self._records.extend(other._records)
        return self

    def __len__(self) -> int:
        return len(self._records)

    def compute(self) -> EvalResult:
        """Evaluate everything received so far (``evaluate`` on the concatenated predictions)."""
        return evaluate(self.gt, self._records, self.metric, **self.options)
