"""Quadrilateral IoU with the DOTA devkit's ``polyiou`` semantics, batched in float64 on numpy or any torch device.

The devkit computes the intersection of two quadrilaterals P and Q as a signed sum over the 16 pairs of
edges (p_i p_i+1, q_j q_j+1) of the intersection of the triangles (O, p_i, p_i+1) and (O, q_j, q_j+1),
O the origin; each triangle pair is intersected by clipping the first triangle with the three half-planes
of the second (a point counts as inside when its cross product exceeds 1e-8). A polygon whose shoelace
area is negative is reversed first; IoU = inter / (|area P| + |area Q| - inter).

For simple polygons that is the exact intersection area. For self-intersecting ("bow-tie") quadrilaterals
the shoelace areas are net areas and the result is the devkit's own number, which no valid-geometry
library reproduces. With integer coordinates IoUs land exactly on 0.5 and the last bit decides a match,
so every float64 operation here happens in the devkit's order: the same cross products, the same
intersection formula, the same left-to-right sums. Elementwise operations are IEEE-exact, so the
result is bit-identical on numpy, torch CPU and GPU (:mod:`.arrays`: the kernels run on whichever
array type they are given).

One devkit detail is not reproduced: when a clipping line passes within 1e-8 of both ends of an edge the
devkit writes an uninitialised point; here that point is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .arrays import ops_of, quiet

Array = Any  # a numpy array or a torch tensor; the kernels follow the type they are given
_EPS = 1e-8
_CHUNK = 1 << 13  # polygon pairs per batch: 16 triangle pairs each, a few MB per array


def polygon_area(x: Array, y: Array, n: Array = None) -> Array:
    """Shoelace area (signed, /2) of polygons given as (B, K) vertex coordinates, the first ``n`` valid.

    Terms are added left to right from 0, as the devkit's ``area``; padded vertices add nothing.
    """
    xp = ops_of(x)
    k = x.shape[1]
    idx = xp.arange(k)
    if n is None:
        nxt = (idx + 1) % k
        xn, yn = x[:, nxt], y[:, nxt]
        valid = None
    else:
        nxt = xp.where(idx[None, :] + 1 < n[:, None], idx[None, :] + 1, 0)
        xn, yn = xp.gather(x, nxt), xp.gather(y, nxt)
        valid = idx[None, :] < n[:, None]
    terms = x * yn - y * xn
    if valid is not None:
        terms = xp.where(valid, terms, 0.0)
    res = xp.zeros(x.shape[0], xp.float64)
    for i in range(k):
        res = res + terms[:, i]
    return res / 2.0


def poly_iou(p: Array, q: Array) -> Array:
    """IoU of quadrilaterals ``p[i]`` and ``q[i]`` ((N, 8) float64: x1 y1 ... x4 y4), as ``polyiou.iou_poly(p, q)``.

    The argument order matters for the last bit: the devkit evaluation passes the ground truth first,
    its merge NMS the higher-scored detection first.
    """
    xp = ops_of(p)
    p = xp.asarray(p, xp.float64)
    q = xp.asarray(q, xp.float64)
    out = xp.zeros(p.shape[0], xp.float64)
    with quiet(xp):  # two zero-area polygons: 0 / 0, NaN, as the devkit
        for lo in range(0, p.shape[0], _CHUNK):
            out[lo:lo + _CHUNK] = _iou_chunk(p[lo:lo + _CHUNK], q[lo:lo + _CHUNK])
    return out


def _oriented(poly: Array):
    """(x, y) of the 4 vertices, reversed where the shoelace area is negative, and |area| of the result."""
    xp = ops_of(poly)
    x, y = poly[:, 0::2], poly[:, 1::2]
    flip = polygon_area(x, y) < 0
    x = xp.where(flip[:, None], xp.flip(x, 1), x)
    y = xp.where(flip[:, None], xp.flip(y, 1), y)
    return x, y, abs(polygon_area(x, y))


def _iou_chunk(p: Array, q: Array) -> Array:
    xp = ops_of(p)
    px, py, pa = _oriented(p)
    qx, qy, qa = _oriented(q)
    i = xp.arange(4)
    j = (i + 1) % 4
    # triangle pairs in the devkit's loop order: edge i of p (outer), edge j of q (inner)
    ax, ay = xp.repeat_each(px[:, i], 4), xp.repeat_each(py[:, i], 4)
    bx, by = xp.repeat_each(px[:, j], 4), xp.repeat_each(py[:, j], 4)
    cx, cy = xp.tile(qx[:, i], 4), xp.tile(qy[:, i], 4)
    dx, dy = xp.tile(qx[:, j], 4), xp.tile(qy[:, j], 4)
    tri = _triangle_pairs(*(t.reshape(-1) for t in (ax, ay, bx, by, cx, cy, dx, dy))).reshape(-1, 16)
    inter = xp.zeros(p.shape[0], xp.float64)
    for k in range(16):
        inter = inter + tri[:, k]
    return inter / (pa + qa - inter)


def _sig(d: Array) -> Array:
    xp = ops_of(d)
    return xp.astype(d > _EPS, xp.int8) - xp.astype(d < -_EPS, xp.int8)


def _cross(ox, oy, ax, ay, bx, by):
    """The devkit's cross(o, a, b) = (a - o) x (b - o), in its operation order."""
    return (ax - ox) * (by - oy) - (bx - ox) * (ay - oy)


def _triangle_pairs(ax, ay, bx, by, cx, cy, dx, dy) -> Array:
    """Signed intersection area of triangles (O, a, b) and (O, c, d), elementwise over (B,) arrays."""
    xp = ops_of(ax)
    zero = xp.zeros(ax.shape, xp.float64)
    s1 = _sig(_cross(zero, zero, ax, ay, bx, by))
    s2 = _sig(_cross(zero, zero, cx, cy, dx, dy))
    live = (s1 != 0) & (s2 != 0)
    sw1, sw2 = (s1 == -1)[live], (s2 == -1)[live]
    ax, ay, bx, by = ax[live], ay[live], bx[live], by[live]
    cx, cy, dx, dy = cx[live], cy[live], dx[live], dy[live]
    ax, bx = xp.where(sw1, bx, ax), xp.where(sw1, ax, bx)
    ay, by = xp.where(sw1, by, ay), xp.where(sw1, ay, by)
    cx, dx = xp.where(sw2, dx, cx), xp.where(sw2, cx, dx)
    cy, dy = xp.where(sw2, dy, cy), xp.where(sw2, cy, dy)
    z = xp.zeros(ax.shape, xp.float64)
    x = xp.stack([z, ax, bx], 1)
    y = xp.stack([z, ay, by], 1)
    n = xp.full((ax.shape[0],), 3, xp.int64)
    for (ux, uy), (vx, vy) in (((z, z), (cx, cy)), ((cx, cy), (dx, dy)), ((dx, dy), (z, z))):
        x, y, n = _cut(x, y, n, ux, uy, vx, vy)
    res = abs(polygon_area(x, y, n)) if x.shape[1] else xp.zeros(ax.shape, xp.float64)
    res = xp.where((s1 * s2)[live] == -1, -res, res)
    out = xp.zeros(live.shape[0], xp.float64)
    out[live] = res
    return out


def _cut(x, y, n, ax, ay, bx, by):
    """Clip polygons (B, K) with ``n`` vertices to the left of the directed lines a -> b (devkit's polygon_cut)."""
    xp = ops_of(x)
    B, K = x.shape
    if K == 0:
        return x, y, n
    idx = xp.arange(K)[None, :]
    valid = idx < n[:, None]
    nxt = xp.where(idx + 1 < n[:, None], idx + 1, 0)
    c = _cross(ax[:, None], ay[:, None], bx[:, None], by[:, None], x, y)  # cross(a, b, p_i)
    cn = xp.gather(c, nxt)
    xn, yn = xp.gather(x, nxt), xp.gather(y, nxt)
    s, sn = _sig(c), _sig(cn)
    den = cn - c
    emit_p = valid & (s > 0)
    emit_x = valid & (s != sn) & (_sig(den) != 0)
    with quiet(xp):  # rows that emit no crossing may divide 0 by 0: those values are never used
        ix = (x * cn - xn * c) / den
        iy = (y * cn - yn * c) / den
    # buffer in the devkit's order: p_0, crossing_0, p_1, crossing_1, ...
    bx_ = xp.stack([x, ix], 2).reshape(B, 2 * K)
    by_ = xp.stack([y, iy], 2).reshape(B, 2 * K)
    keep = xp.stack([emit_p, emit_x], 2).reshape(B, 2 * K)
    x, y, m = _compact(bx_, by_, keep)
    if x.shape[1] == 0:
        return x, y, m
    # drop points equal to their predecessor in the buffer, then trailing points equal to the first
    same_prev = xp.zeros(x.shape, xp.bool)
    same_prev[:, 1:] = (_sig(x[:, 1:] - x[:, :-1]) == 0) & (_sig(y[:, 1:] - y[:, :-1]) == 0)
    idx = xp.arange(x.shape[1])[None, :]
    x, y, n = _compact(x, y, (idx < m[:, None]) & ~same_prev)
    if x.shape[1] == 0:
        return x, y, n
    idx = xp.arange(x.shape[1])[None, :]
    same_first = (_sig(x - x[:, :1]) == 0) & (_sig(y - y[:, :1]) == 0)
    tail = (same_first | (idx >= n[:, None])) & (idx > 0)
    run = xp.sum_rows(xp.flip(xp.cumprod(xp.astype(xp.flip(tail, 1), xp.int64), 1), 1))
    n = n - xp.clamp(run - (x.shape[1] - n), lo=0)
    return x, y, n


def _compact(x, y, keep):
    """Move the kept entries of each row to the front (order kept); width = the longest row."""
    xp = ops_of(x)
    rank = xp.cumsum(keep, 1)
    m = rank[:, -1] if keep.shape[1] else xp.zeros(keep.shape[0], xp.int64)
    width = int(m.max()) if xp.size(m) else 0
    # kept entries go to their rank among the kept, the others to a spare last column that is cut off
    column = xp.where(keep, rank - 1, width)
    ox = xp.scatter_columns(width + 1, column, x)[:, :width]
    oy = xp.scatter_columns(width + 1, column, y)[:, :width]
    return ox, oy, m


_NEXT = [1, 2, 3, 0]


@dataclass
class Quads:
    """Per-quadrilateral values the pair kernels reuse: the raw corners (for the exact kernel), the corners
    in counter-clockwise order with their edge vectors, |area|, strict convexity, simplicity (not a
    bow-tie, no zero turn) and the largest |coordinate| + 1."""

    raw: Array
    x: Array
    y: Array
    ex: Array
    ey: Array
    area: Array
    convex: Array
    simple: Array
    scale: Array
    min_edge: Array

    @classmethod
    def build(cls, polys: Array) -> "Quads":
        """Tables for (N, 8) float64 polygons (numpy array or torch tensor)."""
        xp = ops_of(polys)
        raw = xp.asarray(polys, xp.float64)
        x, y = raw[:, 0::2], raw[:, 1::2]
        area = polygon_area(x, y)
        flip = (area < 0)[:, None]
        x = xp.where(flip, xp.flip(x, 1), x)
        y = xp.where(flip, xp.flip(y, 1), y)
        ex, ey = x[:, _NEXT] - x, y[:, _NEXT] - y
        turn = ex * ey[:, _NEXT] - ey * ex[:, _NEXT]
        left = xp.sum_rows(turn > 0)
        simple = xp.all_rows(turn != 0) & (left != 2) & (area != 0)
        return cls(raw, x, y, ex, ey, abs(area), left == 4, simple, xp.amax(abs(raw), 1) + 1.0,
                   xp.amin(xp.sqrt(ex * ex + ey * ey), 1))


def convex_iou(p: Array, q: Array):
    """Fast IoU of quadrilaterals ``p[i]``, ``q[i]``; see :func:`convex_iou_pairs`."""
    a = Quads.build(p)
    xp = ops_of(a.raw)
    b = Quads.build(xp.asarray(q, xp.float64))
    idx = xp.arange(a.raw.shape[0])
    return convex_iou_pairs(a, b, idx, idx)


def convex_iou_pairs(a: Quads, b: Quads, ia: Array, ib: Array):
    """Fast IoU of quadrilaterals ``a[ia]``, ``b[ib]`` when one is convex and the other simple.

    Sutherland-Hodgman: the simple one is clipped by the four half-planes of the convex one, in
    fixed-width arrays (a compaction after each clip), and the clipped polygon's shoelace area is the
    intersection. Coordinates are taken relative to the first corner of ``a[ia]`` for accuracy; near
    coincident edges only change the result by slivers, so the distance to polyiou stays within
    :func:`error_bound_pairs`.

    Returns ``(iou, usable)``; where ``usable`` is False (neither convex, or one not simple) the value is
    meaningless and must come from :func:`poly_iou`.
    """
    xp = ops_of(a.raw)
    ox, oy = a.x[ia, :1], a.y[ia, :1]
    ax, ay, pa = a.x[ia] - ox, a.y[ia] - oy, a.area[ia]
    bx, by, qa = b.x[ib] - ox, b.y[ib] - oy, b.area[ib]
    clip_by_b = b.convex[ib]  # clip a by b where b is convex, else b by a
    sel = clip_by_b[:, None]
    sx, sy = xp.where(sel, ax, bx), xp.where(sel, ay, by)
    cx, cy = xp.where(sel, bx, ax), xp.where(sel, by, ay)
    cex, cey = xp.where(sel, b.ex[ib], a.ex[ia]), xp.where(sel, b.ey[ib], a.ey[ia])
    with quiet(xp):
        inter = _clipped_area(sx, sy, cx, cy, cex, cey)
        inter = xp.minimum(inter, xp.minimum(pa, qa))
        usable = (a.convex[ia] & b.simple[ib]) | (b.convex[ib] & a.simple[ia])
        return inter / (pa + qa - inter), usable


def _clipped_area(x, y, cx, cy, cex, cey) -> Array:
    """|area| of polygons (x, y) (B, 4) clipped to the convex counter-clockwise polygons (cx, cy)."""
    xp = ops_of(x)
    n = xp.full((x.shape[0],), x.shape[1], xp.int64)
    for j in range(4):
        if x.shape[1] == 0:
            break
        k = x.shape[1]
        idx = xp.arange(k)[None, :]
        valid = idx < n[:, None]
        nxt = xp.where(idx + 1 < n[:, None], idx + 1, 0)
        f = cex[:, j:j + 1] * (y - cy[:, j:j + 1]) - cey[:, j:j + 1] * (x - cx[:, j:j + 1])
        fn = xp.gather(f, nxt)
        xn, yn = xp.gather(x, nxt), xp.gather(y, nxt)
        inside, inside_n = f >= 0, fn >= 0
        t = f / xp.where(inside != inside_n, f - fn, 1.0)
        ix, iy = x + t * (xn - x), y + t * (yn - y)
        keep = xp.stack([valid & inside, valid & (inside != inside_n)], 2).reshape(x.shape[0], 2 * k)
        px = xp.stack([x, ix], 2).reshape(x.shape[0], 2 * k)
        py = xp.stack([y, iy], 2).reshape(x.shape[0], 2 * k)
        x, y, n = _compact(px, py, keep)
    if x.shape[1] == 0:
        return xp.zeros(x.shape[0], xp.float64)
    return abs(polygon_area(x, y, n))


_ERR_SCALE = 2.2e-11  # 1e5 ulp per squared coordinate magnitude: polyiou's rounding in absolute coordinates
_EPS_SCALE = 1e-6  # 100 of polyiou's eps (1e-8) decisions, each moving a sliver of area <= 1e-8 * S / edge


def decision_iou(p: Array, q: Array, thresholds=()):
    """IoUs of ``p[i]``, ``q[i]`` that decide exactly as polyiou at every threshold; see :func:`decision_iou_pairs`."""
    a = Quads.build(p)
    xp = ops_of(a.raw)
    b = Quads.build(xp.asarray(q, xp.float64))
    idx = xp.arange(a.raw.shape[0])
    return decision_iou_pairs(a, b, idx, idx, thresholds)


def decision_iou_pairs(a: Quads, b: Quads, ia: Array, ib: Array, thresholds=()):
    """IoUs of ``a[ia]``, ``b[ib]`` that decide exactly as the devkit's ``polyiou(a, b)`` at every threshold.

    Pairs with a convex and a simple polygon get :func:`convex_iou_pairs`; other pairs, and those whose
    fast value lies within its error bound of a threshold, are recomputed with :func:`poly_iou` (bit-identical). The bound is
    ``1e-12 + 2.2e-11 * S**2 / max(area)`` (S the largest |coordinate| + 1) plus the term below: polyiou works in absolute
    coordinates, so its own rounding grows with S**2; measured errors stay below 1/200 of it.
    A second term covers polyiou's 1e-8 tolerance: a point that close to a clipping line counts as on
    it, which moves slivers of area up to 1e-8 * S / (shortest edge) each:
    ``1e-6 * S / min(1, shortest edge) / max(area)``.

    Returns ``(iou, exact, bound)``; ``exact`` marks values that are polyiou's to the bit, ``bound`` is
    the distance the other values may be from polyiou's.
    """
    xp = ops_of(a.raw)
    if xp.size(ia) == 0:
        z = xp.zeros(0, xp.float64)
        return z, xp.zeros(0, xp.bool), z
    iou, usable = convex_iou_pairs(a, b, ia, ib)
    bound = error_bound_pairs(a, b, ia, ib)
    exact = ~usable | ~xp.isfinite(iou) | ~xp.isfinite(bound)
    for t in thresholds:
        exact |= abs(iou - t) <= bound
    idx = xp.nonzero(exact)
    if xp.size(idx):
        iou[idx] = poly_iou(a.raw[ia[idx]], b.raw[ib[idx]])
    bound = xp.where(exact, 0.0, bound)
    return iou, exact, bound


def error_bound_pairs(a: Quads, b: Quads, ia: Array, ib: Array) -> Array:
    """Distance bound between :func:`convex_iou_pairs` and polyiou's value (inf for zero-area polygons)."""
    xp = ops_of(a.raw)
    s = xp.maximum(a.scale[ia], b.scale[ib])
    edge = xp.clamp(xp.minimum(a.min_edge[ia], b.min_edge[ib]), hi=1.0)
    with quiet(xp):
        return 1e-12 + (_ERR_SCALE * s * s + _EPS_SCALE * s / edge) / xp.maximum(a.area[ia], b.area[ib])
