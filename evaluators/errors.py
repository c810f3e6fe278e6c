"""One exception tree for the whole suite; every message names the input, the record and the fix.

    DataprepError                 base class: catch this to handle every error we raise on purpose
    ├── InputFileError            a file is missing, unreadable or not valid JSON
    ├── RecordError               a record is malformed (missing key, NaN, negative size, bad mask)
    ├── UnknownIdError            predictions refer to image or category ids the ground truth lacks
    ├── ParameterError            an evaluation option is out of range or inconsistent
    └── LayoutError               a dataset folder does not match its layout in data_layouts/
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

__all__ = ["DataprepError", "InputFileError", "RecordError", "UnknownIdError", "ParameterError", "LayoutError"]


class DataprepError(Exception):
    """Base class of every error raised on purpose by dataprep, converters and evaluators."""

    def __init__(self, message: str, *, fix: Optional[str] = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} Fix: {fix}" if fix else message)


class InputFileError(DataprepError):
    """A file is missing, unreadable or not valid JSON."""

    def __init__(self, path: Any, reason: str, *, fix: Optional[str] = None) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {reason}.", fix=fix)


class RecordError(DataprepError):
    """One record (annotation, image or prediction) is malformed."""

    def __init__(self, source: str, index: Optional[int], record: Any, reason: str, *, fix: Optional[str] = None) -> None:
        self.source = source
        self.index = index
        self.record = record
        shown = _short(record)
        where = source if index is None else f"{source}, record #{index}"
        super().__init__(f"{where} {shown}: {reason}.", fix=fix)


class UnknownIdError(DataprepError):
    """Predictions refer to image or category ids that are not in the ground truth."""

    def __init__(self, source: str, kind: str, unknown: Sequence[Any], count: int, *, fix: Optional[str] = None) -> None:
        self.source = source
        self.kind = kind
        self.unknown = list(unknown)
        shown = ", ".join(str(u) for u in self.unknown[:5]) + (", ..." if len(self.unknown) > 5 else "")
        super().__init__(
            f"{source}: {count} prediction(s) use {len(self.unknown)} {kind} id(s) that the ground truth "
            f"does not have ({shown}).",
            fix=fix,
        )


class ParameterError(DataprepError, ValueError):
    """An evaluation option is out of range or inconsistent with the others."""


class LayoutError(DataprepError):
    """A dataset folder does not match its declared layout; ``report`` is the rendered tree with fixes."""

    def __init__(self, layout: str, root: Any, report: str, *, fix: Optional[str] = None) -> None:
        self.layout = layout
        self.root = str(root)
        self.report = report
        super().__init__(f"{self.root} is not a valid {layout} tree:\n{report}\n", fix=fix)


def _short(record: Any, limit: int = 120) -> str:
    text = repr(record)
    return text if len(text) <= limit else text[: limit - 3] + "..."
