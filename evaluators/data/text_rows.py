"""Vectorised reading of clean ``name number number ...`` text files (DOTA Task1, VOC comp4 detections).

Both detection formats are one record per line: an image name, then a fixed count of numbers, separated
by single spaces. pandas' C parser reads a clean file an order of magnitude faster than a Python loop
(correctly rounded, as ``float``: pandas >= 3 by default, ``round_trip`` before). Anything it does not
read cleanly (ragged rows, extra spaces, text where numbers belong, NaN) gives None here, and the
format's careful line-by-line parser then names the offending line.
"""
from __future__ import annotations

import io
import re
from typing import Optional, Tuple

import numpy as np

_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")

Rows = Tuple[np.ndarray, np.ndarray, np.ndarray]  # names (object), numbers (n, k) float64, 1-based lines


def read_name_number_rows(data: bytes, n_numbers: int, categorical_names: bool = False) -> Optional[Rows]:
    """(names, numbers, line numbers) of a clean file with ``n_numbers`` numbers after each name, or None
    when the careful parser must look at it. An empty (or blank) file gives zero rows. With
    ``categorical_names`` the names are a pandas Categorical (one string per distinct name, not per line)."""
    import pandas as pd

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        return np.zeros(0, object), np.zeros((0, n_numbers)), np.zeros(0, np.int64)
    try:
        # numbers always as float64 (an int column would lose the sign of "-0")
        dtype = {0: "category" if categorical_names else object, **dict.fromkeys(range(1, n_numbers + 1), np.float64)}
        frame = pd.read_csv(io.BytesIO(data), sep=" ", header=None, dtype=dtype, keep_default_na=False, na_filter=False, skip_blank_lines=True, engine="c", encoding="utf-8",
                            low_memory=False, **csv_float_options())
    except Exception:  # ragged rows, quoting and other irregular input: the careful parser explains
        return None
    if frame.shape[1] != n_numbers + 1 or not numeric_columns(frame, range(1, n_numbers + 1)):
        return None
    values = frame.iloc[:, 1:].to_numpy(np.float64)
    if not np.isfinite(values).all():
        return None
    n = values.shape[0]
    if not data[:1].isspace() and _BLANK_LINE.search(data) is None:
        lines = np.arange(1, n + 1)
    else:
        text = data.decode("utf-8", errors="replace")
        lines = np.asarray([i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()], np.int64)
    if lines.size != n:
        return None
    names = frame.iloc[:, 0]
    if categorical_names and not text_categories(names.array):
        # the categories were inferred as numbers ("00012" -> 12): the names as written, one per line
        return read_name_number_rows(data, n_numbers, categorical_names=False)
    return (names.array if categorical_names else names.to_numpy(dtype=object)), values, lines


def csv_float_options() -> dict:
    """``read_csv`` options for correctly rounded floats (as ``float``): pandas >= 3 by default."""
    import pandas as pd

    return {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def text_categories(values) -> bool:
    """Whether a categorical column read by ``read_csv`` kept its tokens as text. pandas infers the
    categories' type: names that all look like numbers ("00012", "1e3") come back as numbers, which no
    longer spell the token."""
    return all(isinstance(c, str) for c in values.categories)


def numeric_columns(frame, columns) -> bool:
    """Whether every listed column of ``frame`` was read as numbers (ints or floats, not booleans)."""
    import pandas as pd

    types = frame.dtypes
    return all(pd.api.types.is_numeric_dtype(types.iloc[k]) and not pd.api.types.is_bool_dtype(types.iloc[k])
               for k in columns)


def is_float(token: str) -> bool:
    """Whether ``float(token)`` succeeds (to name the bad token of a line the careful parsers reject)."""
    return _parses(float, token)


def is_int(token: str) -> bool:
    """Whether ``int(token)`` succeeds (a DOTA difficulty, as the devkit reads it)."""
    return _parses(int, token)


def _parses(kind, token: str) -> bool:
    try:
        kind(token)
        return True
    except ValueError:
        return False
