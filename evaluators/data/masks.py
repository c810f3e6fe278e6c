"""Turn ``segmentation`` fields (polygons, uncompressed or compressed RLE) into run-length counts.

Follows pycocotools' ``annToRLE``: polygons are rasterised at the image's height and width (all parts of an
object merged into one mask) with pycocotools' own C rasteriser, so pixels agree exactly; RLEs keep their
own ``size``, which must equal the image's (pycocotools would silently give IoU -1 otherwise).
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np
from pycocotools import mask as mask_utils

from ..errors import RecordError
from ..kernels.rle import Counts, concat_counts, counts_from_lists, decode_compressed


def segmentation_counts(records: Sequence[dict], rows: np.ndarray, heights: np.ndarray, widths: np.ndarray,
                        source: str, *, box_fallback: bool = False) -> Counts:
    """Counts of ``records[rows[i]]['segmentation']`` rasterised at (heights[i], widths[i]).

    With ``box_fallback`` a record without ``segmentation`` uses its box as a 4-corner polygon (``loadRes``).
    """
    compressed: List[Tuple[int, bytes]] = []
    uncompressed: List[Tuple[int, List[int]]] = []
    polygons: Dict[Tuple[int, int], List[Tuple[int, list]]] = {}
    for i, row in enumerate(rows.tolist()):
        rec = records[row]
        seg = rec.get("segmentation") if isinstance(rec, dict) else None
        h, w = int(heights[i]), int(widths[i])
        if seg is None and box_fallback and "bbox" in rec:
            x, y, bw, bh = rec["bbox"]
            seg = [[x, y, x, y + bh, x + bw, y + bh, x + bw, y]]
        if isinstance(seg, list):
            if not seg or not isinstance(seg[0], list) or len(seg[0]) < 4:
                raise RecordError(source, row, rec, "'segmentation' polygon list is empty or has fewer than 2 points",
                                  fix="drop the record or give it a polygon of at least 3 points.")
            polygons.setdefault((h, w), []).append((i, seg))
        elif isinstance(seg, dict) and "counts" in seg and "size" in seg:
            if list(seg["size"]) != [h, w]:
                raise RecordError(source, row, rec, f"mask size {list(seg['size'])} differs from the image's [height, width] [{h}, {w}]",
                                  fix="encode masks at the image's full resolution (pycocotools would score them IoU -1).")
            counts = seg["counts"]
            if isinstance(counts, list):
                uncompressed.append((i, counts))
            else:
                compressed.append((i, counts.encode("ascii") if isinstance(counts, str) else bytes(counts)))
        else:
            raise RecordError(source, row, rec, "has no usable 'segmentation' (polygons or an RLE with 'counts' and 'size')",
                              fix="write masks as COCO RLE {size, counts} or polygon lists.")
    for (h, w), items in polygons.items():
        for i, rle in zip((i for i, _ in items), _rasterise(items, h, w)):
            compressed.append((i, rle["counts"]))
    order, parts = [], []
    if compressed:
        order += [i for i, _ in compressed]
        parts.append(decode_compressed([c for _, c in compressed]))
    if uncompressed:
        order += [i for i, _ in uncompressed]
        parts.append(counts_from_lists([c for _, c in uncompressed]))
    counts = _reorder(concat_counts(parts), np.asarray(order, np.int64), rows.size)
    _check_totals(counts, records, rows, heights * widths, source)
    return counts


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


def _reorder(counts: Counts, order: np.ndarray, n: int) -> Counts:
    """Put masks listed in ``order`` (their target slots) back into slot order."""
    if n == 0:
        return Counts(np.zeros(0, np.int64), np.zeros(1, np.int64))
    sizes = np.diff(counts.offsets)
    slot_of = np.empty(n, np.int64)
    slot_of[order] = np.arange(order.size)
    new_sizes = sizes[slot_of]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(new_sizes, out=offsets[1:])
    take = np.repeat(counts.offsets[:-1][slot_of] - offsets[:-1], new_sizes) + np.arange(offsets[-1])
    return Counts(counts.values[take], offsets)


def _check_totals(counts: Counts, records: Sequence[dict], rows: np.ndarray, pixels: np.ndarray, source: str) -> None:
    csum = np.concatenate(([0], np.cumsum(counts.values)))
    totals = csum[counts.offsets[1:]] - csum[counts.offsets[:-1]]
    bad = np.flatnonzero(totals != pixels)
    if bad.size:
        i = int(bad[0])
        raise RecordError(source, int(rows[i]), records[int(rows[i])],
                          f"RLE counts add up to {int(totals[i])} pixels, not height*width = {int(pixels[i])}",
                          fix="re-encode the mask with pycocotools.mask.encode on an array of the image's size.")
