"""Rotated boxes (cx, cy, w, h, theta) <-> 4-point polygons, and the mmrotate 0.x angle conventions.

Geometry (docs/dota.md section 3.4), image coordinates (x right, y down), theta in radians::

    v1 = (w/2 cos t, w/2 sin t),  v2 = (-h/2 sin t, h/2 cos t)
    corners = c - v1 - v2, c + v1 - v2, c + v1 + v2, c - v1 + v2

This formula is shared by every convention, so a box means the same rectangle whatever its version; a version
only fixes the *canonical* representation of that rectangle (mmrotate 0.x ranges):

    ========  ==================  ==========================================
    version   theta range         side rule
    ========  ==================  ==========================================
    'oc'      (0, pi/2]           w is the side along theta (no length rule)
    'le90'    [-pi/2, pi/2)       w >= h, theta is the long side's direction
    'le135'   [-pi/4, 3*pi/4)     w >= h, theta is the long side's direction
    ========  ==================  ==========================================

Decisions, applied identically by :func:`poly_to_rbox` and :func:`normalize_rbox`:

- **Boundary snapping.** A canonical angle within ``ANGLE_EPS`` (1e-9 rad) of either end of its range is set to
  exactly the closed end (oc: pi/2, le90: -pi/2, le135: -pi/4), so float noise can never put a box at the open end.
  For 'oc' a snap from the open end (0) to pi/2 also swaps w and h, which keeps the rectangle.
- **Squares (le90/le135).** If ``|w - h| <= SQUARE_RTOL * max(w, h)`` (1e-9 relative) both sides are long, so the
  side is chosen by angle instead: theta is the edge direction in [-pi/4, pi/4) (the same for le90 and le135,
  e.g. theta = 0 for an axis-aligned square), and w, h are set to max(w, h), min(w, h). The tolerance makes a
  square read back from its (noisy) polygon land on the same representation as the exact square. 'oc' needs no
  rule: its representation is unique for squares as well.
- **Minimum-area rectangle.** :func:`poly_to_rbox` tries the directions of the 6 point pairs (4 edges, then the 2
  diagonals), which contain every convex-hull edge of 4 points, and keeps the smallest area; ties (within
  1e-12 relative) go to the first candidate in that order. A pair of coincident points contributes the axis
  direction instead. The centre is the centre of the rectangle (not the mean of the points).
- **Shapes.** Inputs are lists or arrays of shape (5,)/(N, 5) or (8,)/(N, 8) (an empty list means N = 0);
  outputs are always float64 and 2-D: (N, 8) or (N, 5). NaN coordinates propagate to NaN outputs.
  :func:`normalize_rbox` takes |w| and |h| (a negative side length describes the same rectangle).
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from ..errors import ParameterError

__all__ = ["VERSIONS", "ANGLE_EPS", "SQUARE_RTOL", "rbox_to_poly", "poly_to_rbox", "normalize_rbox"]

VERSIONS = ("oc", "le90", "le135")
ANGLE_EPS = 1e-9  # rad: angles this close to a range end are set to the closed end
SQUARE_RTOL = 1e-9  # relative: sides this close are treated as a square (le90/le135)
_AREA_RTOL = 1e-12  # relative: candidate areas this close to the minimum are ties (first one wins)

_HALF_PI = np.pi / 2
# (start, period) of each canonical range; 'oc' is closed at the top, the others at the start.
_RANGES = {"oc": (0.0, _HALF_PI), "le90": (-_HALF_PI, np.pi), "le135": (-np.pi / 4, np.pi)}
# Point pairs whose directions are the minimum-area-rectangle candidates: 4 edges, then 2 diagonals.
_PAIRS_I = np.array([0, 1, 2, 3, 0, 1])
_PAIRS_J = np.array([1, 2, 3, 0, 2, 3])


def _check_version(version: Any) -> str:
    """Return ``version`` if it is a known convention, else raise ParameterError."""
    if not isinstance(version, str) or version not in VERSIONS:
        raise ParameterError(
            f"Unknown rotated-box angle version {version!r}.",
            fix=f"pass version= one of {', '.join(repr(v) for v in VERSIONS)} (mmrotate 0.x conventions, "
            "see docs/dota.md section 3.4).",
        )
    return version


def _as_2d(data: Any, ncols: int, what: str) -> np.ndarray:
    """``data`` as a float64 (N, ncols) array; (ncols,) and empty inputs are accepted, anything else raises."""
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"Expected {what} as numbers of shape ({ncols},) or (N, {ncols}) but could not convert them ({exc}).",
            fix=f"pass a list or numpy array of floats with {ncols} values per box.",
        ) from None
    if arr.ndim == 1 and arr.size == 0:
        return arr.reshape(0, ncols)
    if arr.ndim == 1 and arr.shape[0] == ncols:
        return arr.reshape(1, ncols)
    if arr.ndim == 2 and arr.shape[1] == ncols:
        return arr
    layout = "x1, y1, ..., x4, y4" if ncols == 8 else "cx, cy, w, h, theta (radians)"
    raise ParameterError(
        f"Expected {what} of shape ({ncols},) or (N, {ncols}) but got shape {arr.shape}.",
        fix=f"give {ncols} values per box ({layout}), e.g. arr.reshape(-1, {ncols}).",
    )


def _wrap(theta: np.ndarray, version: str) -> Tuple[np.ndarray, np.ndarray]:
    """Wrap ``theta`` into the version's range, snapping to the closed end; also return the periods removed."""
    start, period = _RANGES[version]
    end = start + period
    if version == "oc":  # (start, end]
        r = end - np.mod(end - theta, period)
    else:  # [start, end)
        r = start + np.mod(theta - start, period)
    near_end = (r - start < ANGLE_EPS) | (end - r < ANGLE_EPS)
    r = np.where(near_end, end if version == "oc" else start, r)
    k = np.rint((theta - r) / period)  # exact integer: r is within ANGLE_EPS of theta - k * period
    return r, k


def _canonical(w: np.ndarray, h: np.ndarray, t: np.ndarray, version: str) -> Tuple[np.ndarray, ...]:
    """Canonical (w, h, theta) of the rectangle with side w along t and side h along t + pi/2."""
    if version == "oc":
        theta, k = _wrap(t, "oc")  # period pi/2: each odd quarter turn exchanges the sides
        odd = np.mod(k, 2) == 1
        return np.where(odd, h, w), np.where(odd, w, h), theta
    long_w = np.maximum(w, h)
    short_h = np.minimum(w, h)
    square = np.abs(w - h) <= SQUARE_RTOL * long_w
    direction = np.where(w >= h, t, t + _HALF_PI)  # direction of the long side
    theta, _ = _wrap(direction, version)
    if np.any(square):
        # Squares: the edge direction in [-pi/4, pi/4), whatever the version (see the module docstring).
        quarter = -np.pi / 4 + np.mod(t + np.pi / 4, _HALF_PI)
        quarter = np.where(np.pi / 4 - quarter < ANGLE_EPS, -np.pi / 4, quarter)
        theta = np.where(square, _wrap(quarter, version)[0], theta)
    return long_w, short_h, theta


def rbox_to_poly(rboxes: Any, version: str = "le90") -> np.ndarray:
    """Corners (N, 8) of rotated boxes (cx, cy, w, h, theta); ``version`` is validated only (same geometry)."""
    _check_version(version)
    r = _as_2d(rboxes, 5, "rotated boxes")
    cx, cy, w, h, t = r.T
    cos, sin = np.cos(t), np.sin(t)
    v1x, v1y = w / 2 * cos, w / 2 * sin
    v2x, v2y = -h / 2 * sin, h / 2 * cos
    return np.stack(
        [
            cx - v1x - v2x, cy - v1y - v2y,
            cx + v1x - v2x, cy + v1y - v2y,
            cx + v1x + v2x, cy + v1y + v2y,
            cx - v1x + v2x, cy - v1y + v2y,
        ],
        axis=1,
    )


def poly_to_rbox(polys: Any, version: str = "le90") -> np.ndarray:
    """Minimum-area enclosing rectangle (N, 5) of each 4-point polygon, in ``version``'s canonical form."""
    _check_version(version)
    p = _as_2d(polys, 8, "polygons").reshape(-1, 4, 2)
    d = p[:, _PAIRS_J] - p[:, _PAIRS_I]  # (N, 6, 2) candidate directions
    norm = np.hypot(d[..., 0], d[..., 1])
    degenerate = norm == 0
    safe = np.where(degenerate, 1.0, norm)
    ux = np.where(degenerate, 1.0, d[..., 0] / safe)
    uy = np.where(degenerate, 0.0, d[..., 1] / safe)
    # Projections of the 4 points on u = (ux, uy) and v = (-uy, ux): (N, 6, 4).
    px, py = p[:, None, :, 0], p[:, None, :, 1]
    a = px * ux[..., None] + py * uy[..., None]
    b = -px * uy[..., None] + py * ux[..., None]
    amin, amax = a.min(axis=2), a.max(axis=2)
    bmin, bmax = b.min(axis=2), b.max(axis=2)
    area = (amax - amin) * (bmax - bmin)
    best = np.argmax(area <= area.min(axis=1, keepdims=True) * (1 + _AREA_RTOL), axis=1)  # first near-minimum

    def pick(x: np.ndarray) -> np.ndarray:
        return np.take_along_axis(x, best[:, None], axis=1)[:, 0]

    ux, uy = pick(ux), pick(uy)
    amin, amax, bmin, bmax = pick(amin), pick(amax), pick(bmin), pick(bmax)
    ac, bc = (amin + amax) / 2, (bmin + bmax) / 2
    cx = ac * ux - bc * uy
    cy = ac * uy + bc * ux
    w, h, theta = _canonical(amax - amin, bmax - bmin, np.arctan2(uy, ux), version)
    return np.stack([cx, cy, w, h, theta], axis=1)


def normalize_rbox(rboxes: Any, version: str) -> np.ndarray:
    """The same rectangles (N, 5) in ``version``'s canonical form, from any theta and either side order."""
    _check_version(version)
    r = _as_2d(rboxes, 5, "rotated boxes")
    w, h, theta = _canonical(np.abs(r[:, 2]), np.abs(r[:, 3]), r[:, 4], version)
    return np.stack([r[:, 0], r[:, 1], w, h, theta], axis=1)
