"""Pull one field out of a list of JSON records into a numpy column, naming the bad record on failure."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np

from ..errors import RecordError

_MISSING = object()


def column(records: Sequence[dict], key: str, dtype: Any, source: str, *, default: Any = _MISSING, fix: Optional[str] = None) -> np.ndarray:
    """``np.array([r[key] for r in records], dtype)``; a missing key or a wrong type raises :class:`RecordError`."""
    try:
        if default is _MISSING:
            values: List[Any] = [r[key] for r in records]
        else:
            values = [r.get(key, default) for r in records]
        return np.array(values, dtype=dtype) if values else np.zeros(0, dtype=dtype)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        _raise_first_bad(records, key, dtype, source, default, fix)
        raise  # pragma: no cover - _raise_first_bad always raises


def box_column(records: Sequence[dict], key: str, source: str) -> np.ndarray:
    """(N, 4) float64 array of ``[x, y, w, h]`` boxes."""
    try:
        boxes = np.array([r[key] for r in records], dtype=np.float64)
        if boxes.size == 0:
            return np.zeros((0, 4), np.float64)
        if boxes.ndim == 2 and boxes.shape[1] == 4:
            return boxes
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    for i, r in enumerate(records):
        if not isinstance(r, dict) or key not in r:
            raise RecordError(source, i, r, f"has no {key!r}", fix=f"give every record a {key!r} [x, y, w, h].")
        b = r[key]
        if not isinstance(b, (list, tuple)) or len(b) != 4 or not all(isinstance(v, (int, float)) for v in b):
            raise RecordError(source, i, r, f"{key!r} must be 4 numbers [x, y, w, h]", fix="write boxes as [x, y, width, height] in pixels.")
    raise RecordError(source, 0, records[0] if records else None, f"cannot read {key!r}")


def check_finite(values: np.ndarray, records: Sequence[dict], what: str, source: str, fix: str) -> None:
    """Raise for the first record whose ``values`` row holds NaN or infinity."""
    bad = ~np.isfinite(values)
    if bad.ndim > 1:
        bad = bad.any(axis=tuple(range(1, bad.ndim)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RecordError(source, i, records[i], f"{what} is NaN or infinite ({int(bad.sum())} such record(s) in all)", fix=fix)


def check_nonnegative_size(boxes: np.ndarray, records: Sequence[dict], source: str) -> None:
    """Raise for the first box with a negative width or height."""
    bad = (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RecordError(
            source, i, records[i], f"box has a negative width or height ({int(bad.sum())} such record(s) in all)",
            fix="write boxes as [x, y, width, height]; [x1, y1, x2, y2] corners must be converted first.",
        )


def _raise_first_bad(records: Sequence[dict], key: str, dtype: Any, source: str, default: Any, fix: Optional[str]) -> None:
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise RecordError(source, i, r, "is not a JSON object", fix="each record must be an object with named fields.")
        if key not in r and default is _MISSING:
            raise RecordError(source, i, r, f"has no {key!r}", fix=fix or f"add {key!r} to every record.")
        try:
            np.array([r.get(key, default)], dtype=dtype)
        except (TypeError, ValueError, OverflowError):
            raise RecordError(source, i, r, f"{key!r} has the wrong type ({type(r.get(key)).__name__})",
                              fix=fix or f"{key!r} must be a number.") from None
    raise RecordError(source, 0, records[0] if len(records) else None, f"cannot read {key!r}", fix=fix)
