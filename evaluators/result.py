"""What an evaluation returns: stats, pycocotools' arrays, a per-class table and the printed summary."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List

import numpy as np

from .params import EvalParams


@dataclass
class EvalResult:
    """Result of :func:`evaluators.evaluate`.

    ``stats`` holds floats in the reference tool's order, -1.0 where undefined (as the reference).
    ``precision`` (T,R,K,A,M), ``recall`` (T,K,A,M) and ``scores`` are pycocotools' ``eval`` arrays;
    for LVIS, lvis-api's precision (T,R,K,A) and recall (T,K,A). ``per_class_rows`` backs the
    :attr:`per_class` DataFrame.
    """

    metric: str
    protocol: str
    params: EvalParams
    stats: Dict[str, float]
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    summary_lines: List[str]
    per_class_rows: List[Dict[str, Any]]
    info: Dict[str, Any] = field(default_factory=dict)

    @property
    def per_class(self):
        """One row per evaluated category (pandas DataFrame; empty for class-agnostic proposals)."""
        import pandas as pd

        columns = ["id", "name"] + [s for s in (self.per_class_rows[0].keys() if self.per_class_rows else [])
                                    if s not in ("id", "name")]
        return pd.DataFrame(self.per_class_rows, columns=columns or None)

    def summary(self) -> str:
        """The reference tool's printed block (pycocotools' 12 lines, or lvis-api's 13), -1.000 where undefined."""
        return "\n".join(self.summary_lines)

    def per_class_table(self) -> str:
        """The per-class table as a markdown pipe table (values to 3 decimals, nan where undefined)."""
        rows = self.per_class_rows
        if not rows:
            return "(no per-class table: class-agnostic evaluation)"
        keys = list(rows[0].keys())
        lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---:" if k != "name" else ":---" for k in keys) + "|"]
        for r in rows:
            lines.append("| " + " | ".join(_cell(r[k]) for k in keys) + " |")
        return "\n".join(lines)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready: full-precision floats, ``null`` where pycocotools says -1 (undefined)."""
        return {
            "metric": self.metric,
            "protocol": self.protocol,
            "stats": {k: _json_float(v) for k, v in self.stats.items()},
            "per_class": [{k: (_json_float(v) if isinstance(v, float) else v) for k, v in r.items()} for r in self.per_class_rows],
            "params": {
                "iou_thrs": list(self.params.iou_thrs), "max_dets": list(self.params.max_dets),
                "area_ranges": {l: list(r) for l, r in zip(self.params.area_labels, self.params.area_ranges)},
                "use_cats": self.params.use_cats,
            },
            "info": self.info,
        }


def _json_float(v: float):
    return None if v == -1.0 or (isinstance(v, float) and math.isnan(v)) else v


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if v == -1.0 else f"{v:.3f}"
    return str(v)
