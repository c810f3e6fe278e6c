"""Building and writing COCO-style JSON: shared by every converter.

Deterministic output (no timestamps; ids assigned in the order records are added, which callers make
sorted), ``categories`` always complete, and atomic writes (temp file + rename) so that a crash never
leaves a half-written annotation file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

PathLike = Union[str, os.PathLike]


def make_categories(names: Sequence[str], ids: Optional[Sequence[int]] = None,
                    supercategory: Optional[Union[str, Sequence[str]]] = None) -> List[dict]:
    """COCO ``categories``: ids 1..K in list order unless ``ids`` are given; ``supercategory`` defaults to
    the name (one string for all, or one per class)."""
    ids = list(range(1, len(names) + 1)) if ids is None else [int(i) for i in ids]
    if len(ids) != len(names):
        raise ValueError(f"{len(names)} category names but {len(ids)} ids")
    if isinstance(supercategory, str) or supercategory is None:
        sup = [supercategory or n for n in names]
    else:
        sup = [str(s) for s in supercategory]
    return [{"id": i, "name": str(n), "supercategory": s} for i, n, s in zip(ids, names, sup)]


@dataclass
class CocoBuilder:
    """Accumulates images and annotations; ``to_dict`` gives the COCO dict with the given categories."""

    categories: List[dict]
    info: Dict[str, Any] = field(default_factory=dict)
    images: List[dict] = field(default_factory=list)
    annotations: List[dict] = field(default_factory=list)

    def add_image(self, image_id: int, file_name: str, width: int, height: int, **extra: Any) -> dict:
        """Append one image record (``extra`` keys are kept as they are)."""
        record = {"id": int(image_id), "file_name": str(file_name), "width": int(width), "height": int(height)}
        record.update(extra)
        self.images.append(record)
        return record

    def add_annotation(self, image_id: int, category_id: int, bbox: Sequence[float], area: float,
                       segmentation: Any = None, iscrowd: int = 0, **extra: Any) -> dict:
        """Append one annotation with the next id (1-based); ``segmentation`` is omitted when None."""
        record: Dict[str, Any] = {"id": len(self.annotations) + 1, "image_id": int(image_id),
                                  "category_id": int(category_id), "bbox": [float(v) for v in bbox],
                                  "area": float(area), "iscrowd": int(iscrowd)}
        if segmentation is not None:
            record["segmentation"] = segmentation
        record.update(extra)
        self.annotations.append(record)
        return record

    def to_dict(self) -> dict:
        """The COCO dict: ``info``, ``images``, ``annotations``, ``categories`` (in that key order)."""
        return {"info": dict(self.info), "images": self.images, "annotations": self.annotations,
                "categories": self.categories}


@dataclass
class Conversion:
    """What a multi-split converter returns: one COCO dict and summary per split (or partition), the
    located problems of all of them, warnings (e.g. absent splits) and the options used."""

    cocos: Dict[str, dict]
    summaries: Dict[str, Any]
    problems: Any  # converters.problems.ProblemLog
    warnings: List[str]
    options: Any


def write_coco(path: PathLike, coco: dict, *, indent: bool = False) -> Path:
    """Write ``coco`` atomically to ``path`` (parents created); returns the path."""
    from dataprep.atomic import write_json_atomic

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, coco, indent=indent)
    return out
