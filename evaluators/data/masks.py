"""Turn ``segmentation`` fields (polygons, uncompressed or compressed RLE) into run-length counts.

Follows pycocotools' ``annToRLE``: polygons are rasterised at the image's height and width (all parts of an
object merged into one mask) with pycocotools' own C rasteriser, so pixels agree exactly; RLEs keep their
own ``size``, which must equal the image's (pycocotools would silently give IoU -1 otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from pycocotools import mask as mask_utils

from ..errors import RecordError
from ..kernels.rle import Counts, decode_compressed


@dataclass
class MaskCatalog:
    """Compressed RLEs of many masks with their areas and boxes (pycocotools' C ``area``/``toBbox``).

    Areas and boxes come cheaply from the strings; full run decoding is left to :meth:`counts`, which the
    engine calls only for masks that can still reach the IoU threshold.
    """

    strings: List[Union[str, bytes]]
    heights: np.ndarray
    widths: np.ndarray
    area: np.ndarray  # int64 pixel counts
    boxes: np.ndarray  # (n, 4) float64 xywh, pycocotools' rleToBbox

    @property
    def string_lengths(self) -> np.ndarray:
        """Length of each mask's RLE string (a proxy for its decoding cost)."""
        return np.fromiter((len(s) for s in self.strings), dtype=np.int64, count=len(self.strings))

    def counts(self, idx: np.ndarray) -> Counts:
        """Decoded counts of masks ``idx``."""
        return decode_compressed([_as_bytes(self.strings[i]) for i in idx.tolist()])

    @staticmethod
    def concat(a: "MaskCatalog", b: "MaskCatalog") -> "MaskCatalog":
        """``a``'s masks followed by ``b``'s."""
        return MaskCatalog(a.strings + b.strings, np.concatenate([a.heights, b.heights]),
                           np.concatenate([a.widths, b.widths]), np.concatenate([a.area, b.area]),
                           np.concatenate([a.boxes, b.boxes]))


def segmentation_catalog(records: Sequence[dict], rows: np.ndarray, heights: np.ndarray, widths: np.ndarray,
                         source: str, *, box_fallback: bool = False) -> MaskCatalog:
    """Masks of ``records[rows[i]]['segmentation']`` at (heights[i], widths[i]), as a :class:`MaskCatalog`.

    With ``box_fallback`` a record without ``segmentation`` uses its box as a 4-corner polygon (``loadRes``).
    """
    rles = _compressed_fast_path(records, rows, heights, widths)
    if rles is None:
        rles = _rles_general(records, rows, heights, widths, source, box_fallback)
    area = mask_areas(rles)
    boxes = np.asarray(mask_utils.toBbox(rles), np.float64).reshape(-1, 4) if rles else np.zeros((0, 4))
    return MaskCatalog([r["counts"] for r in rles], heights.astype(np.int64), widths.astype(np.int64), area, boxes)


def _compressed_fast_path(records, rows, heights, widths) -> Optional[List[dict]]:
    """The common case, checked in bulk: every mask a compressed RLE of the image's size. Else None."""
    try:
        segs = [records[r]["segmentation"] for r in rows.tolist()]
        if not segs:
            return segs
        sizes = np.array([s["size"] for s in segs], dtype=np.int64)
        if sizes.shape != (len(segs), 2) or not (np.array_equal(sizes[:, 0], heights) and np.array_equal(sizes[:, 1], widths)):
            return None
        if not all(type(s["counts"]) is str or type(s["counts"]) is bytes for s in segs):
            return None
        return segs
    except (KeyError, TypeError, IndexError, ValueError):
        return None


def _rles_general(records, rows, heights, widths, source: str, box_fallback: bool) -> List[dict]:
    """Every mask form pycocotools' annToRLE accepts, one record at a time, with precise errors."""
    rles: List[dict] = [None] * rows.size  # type: ignore[list-item]
    polygons: Dict[Tuple[int, int], List[Tuple[int, list]]] = {}
    for i, row in enumerate(rows.tolist()):
        rec = records[row]
        seg = rec.get("segmentation") if isinstance(rec, dict) else None
        h, w = int(heights[i]), int(widths[i])
        if seg is None and box_fallback and isinstance(rec, dict) and "bbox" in rec:
            x, y, bw, bh = rec["bbox"]
            seg = [[x, y, x, y + bh, x + bw, y + bh, x + bw, y]]
        if isinstance(seg, dict) and "counts" in seg and "size" in seg:
            if list(seg["size"]) != [h, w]:
                raise RecordError(source, row, rec, f"mask size {list(seg['size'])} differs from the image's [height, width] [{h}, {w}]",
                                  fix="encode masks at the image's full resolution (pycocotools would score them IoU -1).")
            rles[i] = mask_utils.frPyObjects(seg, h, w) if isinstance(seg["counts"], list) else seg
        elif isinstance(seg, list):
            if not seg or not isinstance(seg[0], list) or len(seg[0]) < 4:
                raise RecordError(source, row, rec, "'segmentation' polygon list is empty or has fewer than 2 points",
                                  fix="drop the record or give it a polygon of at least 3 points.")
            polygons.setdefault((h, w), []).append((i, seg))
        else:
            raise RecordError(source, row, rec, "has no usable 'segmentation' (polygons or an RLE with 'counts' and 'size')",
                              fix="write masks as COCO RLE {size, counts} or polygon lists.")
    for (h, w), items in polygons.items():
        try:
            rasterised = _rasterise(items, h, w)
        except (TypeError, ValueError) as exc:  # pycocotools itself raises here (e.g. a 4-number first polygon)
            bad = _first_unrasterisable(items, h, w)
            row = int(rows[bad])
            raise RecordError(source, row, records[row], f"pycocotools cannot rasterise this 'segmentation' ({exc})",
                              fix="give every polygon at least 3 points (6 numbers) as flat [x1, y1, x2, y2, ...] lists.") from None
        for (i, _), rle in zip(items, rasterised):
            rles[i] = rle
    return rles


def _as_bytes(s: Union[str, bytes]) -> bytes:
    return s.encode("ascii") if isinstance(s, str) else bytes(s)


def mask_areas(rles: List[dict]) -> np.ndarray:
    """pycocotools' C mask areas. Its ``area`` fails on more than 255 masks at a time under numpy 2
    (a uint8 length), so it is called in blocks of 255."""
    out = np.zeros(len(rles), np.int64)
    for i in range(0, len(rles), 255):
        out[i:i + 255] = mask_utils.area(rles[i:i + 255])
    return out


def _first_unrasterisable(items: List[Tuple[int, list]], h: int, w: int) -> int:
    for i, seg in items:
        try:
            _rasterise([(i, seg)], h, w)
        except (TypeError, ValueError):
            return i
    return items[0][0]


def _rasterise(items: List[Tuple[int, list]], h: int, w: int) -> List[dict]:
    """pycocotools' frPyObjects + merge, batched: one C call for all single-part polygons of this size."""
    out: List[dict] = [None] * len(items)  # type: ignore[list-item]
    batch = [k for k, (_, seg) in enumerate(items) if len(seg) == 1 and len(seg[0]) > 4]
    if batch:
        for k, rle in zip(batch, mask_utils.frPyObjects([items[k][1][0] for k in batch], h, w)):
            out[k] = rle
    for k, (_, seg) in enumerate(items):
        if out[k] is None:  # several parts, or pycocotools' 4-number-first-polygon quirk: do it its way
            rles = mask_utils.frPyObjects(seg, h, w)
            out[k] = mask_utils.merge(rles) if isinstance(rles, list) else rles
    return out
