"""Problems found while converting a dataset: counted per kind, located by file and line.

Converters never crash on one bad record: they log it here, skip or repair it, and go on. The CLI prints
:meth:`ProblemLog.summary_lines` at the end and exits non-zero only when nothing usable was converted,
or on any problem with ``--strict`` (:meth:`ProblemLog.raise_if_strict`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

from evaluators.errors import RecordError


@dataclass(frozen=True)
class Problem:
    """One located problem: ``kind`` is a short key (``bad-line``, ``class-out-of-range``...)."""

    kind: str
    file: str
    line: Optional[int]
    detail: str
    action: str = "skipped"

    def where(self) -> str:
        """``file:line`` (or just the file)."""
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass
class ProblemLog:
    """Problems of one conversion; keeps every count but only the first ``keep`` examples of each kind."""

    keep: int = 5
    counts: Counter = field(default_factory=Counter)
    examples: Dict[str, List[Problem]] = field(default_factory=dict)

    def add(self, kind: str, file: object, line: Optional[int], detail: str, action: str = "skipped") -> None:
        """Record one problem."""
        self.counts[kind] += 1
        shown = self.examples.setdefault(kind, [])
        if len(shown) < self.keep:
            shown.append(Problem(kind, str(file), line, detail, action))

    def extend(self, other: "ProblemLog") -> None:
        """Merge another log (e.g. from a worker process) into this one."""
        self.counts.update(other.counts)
        for kind, items in other.examples.items():
            shown = self.examples.setdefault(kind, [])
            shown.extend(items[: max(0, self.keep - len(shown))])

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def total(self) -> int:
        """Number of problems of every kind."""
        return sum(self.counts.values())

    def summary_lines(self) -> List[str]:
        """One line per kind with its count and action, then its first examples (``file:line: detail``)."""
        lines: List[str] = []
        for kind, n in sorted(self.counts.items()):
            items = self.examples.get(kind, [])
            action = items[0].action if items else "skipped"
            lines.append(f"{kind}: {n} ({action})")
            lines.extend(f"  {p.where()}: {p.detail}" for p in items)
            if n > len(items):
                lines.append(f"  ... and {n - len(items)} more")
        return lines

    def raise_if_strict(self, strict: bool, source: str) -> None:
        """With ``strict``, turn the first problem into a :class:`RecordError` naming file and line."""
        if not strict or not self.counts:
            return
        first = next(p for kind in sorted(self.examples) for p in self.examples[kind])
        raise RecordError(source, first.line, first.file, f"{first.kind}: {first.detail} "
                          f"({self.total} problem(s) in all)",
                          fix="fix the listed lines, or run without --strict to skip them and go on.")


def merge_logs(logs: Iterable[ProblemLog]) -> ProblemLog:
    """One log holding the problems of all ``logs``."""
    out = ProblemLog()
    for log in logs:
        out.extend(log)
    return out
