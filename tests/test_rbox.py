"""Rotated box <-> polygon kernels and the mmrotate 0.x angle conventions (docs/dota.md section 3.4)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from evaluators.errors import ParameterError
from evaluators.kernels.rbox import normalize_rbox, poly_to_rbox, rbox_to_poly

VERSIONS = ("oc", "le90", "le135")
RANGES = {"oc": (0.0, math.pi / 2), "le90": (-math.pi / 2, math.pi / 2), "le135": (-math.pi / 4, 3 * math.pi / 4)}
PERIOD = {"oc": math.pi / 2, "le90": math.pi, "le135": math.pi}

# docs/dota.md 3.4 worked example: 20x10 at (100, 100), long side at phi; 0.x columns, (w, h, theta in degrees).
WORKED = {
    0: {"oc": (10, 20, 90), "le90": (20, 10, 0), "le135": (20, 10, 0)},
    30: {"oc": (20, 10, 30), "le90": (20, 10, 30), "le135": (20, 10, 30)},
    90: {"oc": (20, 10, 90), "le90": (20, 10, -90), "le135": (20, 10, 90)},
    120: {"oc": (10, 20, 30), "le90": (20, 10, -60), "le135": (20, 10, 120)},
    150: {"oc": (10, 20, 60), "le90": (20, 10, -30), "le135": (20, 10, -30)},
}


def random_rboxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random rectangles with awkward angles mixed in: range ends, quarter turns +- noise, and exact squares."""
    cx, cy = rng.uniform(-100, 3000, n), rng.uniform(-100, 3000, n)
    w, h = rng.uniform(0.5, 600, n), rng.uniform(0.5, 600, n)
    theta = rng.uniform(-4 * math.pi, 4 * math.pi, n)
    special = rng.random(n) < 0.3
    quarter = rng.integers(-8, 9, n) * (math.pi / 4) + rng.choice([0.0, 1e-13, -1e-13, 1e-11, -1e-11], n)
    theta = np.where(special, quarter, theta)
    square = rng.random(n) < 0.1
    h = np.where(square, w, h)
    return np.stack([cx, cy, w, h, theta], axis=1)


def angle_diff(a: np.ndarray, b: np.ndarray, period: float) -> np.ndarray:
    """|a - b| modulo ``period``."""
    d = np.mod(a - b + period / 2, period) - period / 2
    return np.abs(d)


def assert_canonical(rb: np.ndarray, version: str) -> None:
    lo, hi = RANGES[version]
    t = rb[:, 4]
    if version == "oc":
        assert np.all((t > lo) & (t <= hi)), t[~((t > lo) & (t <= hi))]
    else:
        assert np.all((t >= lo) & (t < hi)), t[~((t >= lo) & (t < hi))]
        assert np.all(rb[:, 2] >= rb[:, 3])
    assert np.all(rb[:, 2] >= 0) and np.all(rb[:, 3] >= 0)


def same_corner_set(p: np.ndarray, q: np.ndarray, tol: float) -> None:
    """Every corner of p has a corner of q within tol and vice versa (order independent)."""
    a, b = p.reshape(-1, 4, 1, 2), q.reshape(-1, 1, 4, 2)
    dist = np.linalg.norm(a - b, axis=3)
    assert dist.min(axis=2).max() < tol
    assert dist.min(axis=1).max() < tol


@pytest.mark.parametrize("phi", sorted(WORKED))
@pytest.mark.parametrize("version", VERSIONS)
def test_worked_example(phi: int, version: str) -> None:
    poly = rbox_to_poly([100, 100, 20, 10, math.radians(phi)])
    got = poly_to_rbox(poly, version)
    w, h, deg = WORKED[phi][version]
    np.testing.assert_allclose(got[0], [100, 100, w, h, math.radians(deg)], rtol=0, atol=1e-9)
    # normalize_rbox agrees, and so does any other description of the same rectangle
    for alt in ([100, 100, 20, 10, math.radians(phi)], [100, 100, 10, 20, math.radians(phi + 90)],
                [100, 100, 20, 10, math.radians(phi - 540)], [100, 100, 10, 20, math.radians(phi - 270)]):
        np.testing.assert_allclose(normalize_rbox(alt, version)[0], got[0], rtol=0, atol=1e-9)


def test_rbox_to_poly_formula() -> None:
    poly = rbox_to_poly([[10, 20, 4, 2, 0.0]])
    np.testing.assert_array_equal(poly, [[8, 19, 12, 19, 12, 21, 8, 21]])
    t = 0.3
    poly = rbox_to_poly([0, 0, 2, 2, t])[0].reshape(4, 2)
    v1 = np.array([math.cos(t), math.sin(t)])
    v2 = np.array([-math.sin(t), math.cos(t)])
    np.testing.assert_allclose(poly, [-v1 - v2, v1 - v2, v1 + v2, -v1 + v2], atol=1e-15)
    assert poly.dtype == np.float64


@pytest.mark.parametrize("version", VERSIONS)
def test_round_trip_rbox_poly_rbox(version: str) -> None:
    rng = np.random.default_rng(1234)
    r = random_rboxes(rng, 5000)
    got = poly_to_rbox(rbox_to_poly(r, version), version)
    want = normalize_rbox(r, version)
    np.testing.assert_allclose(got[:, :4], want[:, :4], rtol=0, atol=1e-7)
    assert angle_diff(got[:, 4], want[:, 4], PERIOD[version]).max() < 1e-7
    assert_canonical(got, version)
    assert_canonical(want, version)
    # normalisation keeps the rectangle
    same_corner_set(rbox_to_poly(want), rbox_to_poly(r), 1e-6)


@pytest.mark.parametrize("version", VERSIONS)
def test_round_trip_poly_rbox_poly(version: str) -> None:
    rng = np.random.default_rng(99)
    p = rbox_to_poly(random_rboxes(rng, 5000))
    # also reversed orientation and a rotated start vertex: the rectangle does not depend on the point order
    p_rev = p.reshape(-1, 4, 2)[:, ::-1].reshape(-1, 8)
    p_rot = np.roll(p.reshape(-1, 4, 2), 1, axis=1).reshape(-1, 8)
    rb = poly_to_rbox(p, version)
    same_corner_set(rbox_to_poly(rb, version), p, 1e-6)
    for q in (p_rev, p_rot):
        rb_q = poly_to_rbox(q, version)
        np.testing.assert_allclose(rb_q[:, :4], rb[:, :4], rtol=0, atol=1e-7)
        assert angle_diff(rb_q[:, 4], rb[:, 4], PERIOD[version]).max() < 1e-7


@pytest.mark.parametrize("version", VERSIONS)
def test_normalize_is_idempotent_and_canonical(version: str) -> None:
    rng = np.random.default_rng(7)
    r = random_rboxes(rng, 3000)
    n1 = normalize_rbox(r, version)
    assert_canonical(n1, version)
    np.testing.assert_array_equal(normalize_rbox(n1, version), n1)
    # swapping the sides and turning a quarter is the same rectangle
    swapped = np.stack([r[:, 0], r[:, 1], r[:, 3], r[:, 2], r[:, 4] - math.pi / 2], axis=1)
    n2 = normalize_rbox(swapped, version)
    np.testing.assert_allclose(n2[:, :4], n1[:, :4], rtol=0, atol=1e-9)
    assert angle_diff(n2[:, 4], n1[:, 4], PERIOD[version]).max() < 1e-9


@pytest.mark.parametrize("version", VERSIONS)
def test_boundary_noise_snaps_to_closed_end(version: str) -> None:
    lo, hi = RANGES[version]
    closed = hi if version == "oc" else lo
    for t in (lo, hi, lo + 1e-12, lo - 1e-12, hi + 1e-12, hi - 1e-12):
        # a non-square whose canonical angle is a range end (w/h ordered so that theta is the angle in the range)
        w, h = (30.0, 10.0)
        got = normalize_rbox([0, 0, w, h, t], version)[0]
        assert got[4] == closed, (t, got)
        assert_canonical(got[None], version)


@pytest.mark.parametrize("version", ("le90", "le135"))
def test_squares_are_deterministic(version: str) -> None:
    rng = np.random.default_rng(5)
    n = 2000
    side = rng.uniform(1, 300, n)
    t = rng.uniform(-10, 10, n)
    r = np.stack([rng.uniform(0, 1000, n), rng.uniform(0, 1000, n), side, side, t], axis=1)
    got = normalize_rbox(r, version)
    # the rule: theta is the edge direction in [-pi/4, pi/4) for both le versions
    assert np.all((got[:, 4] >= -math.pi / 4) & (got[:, 4] < math.pi / 4))
    assert angle_diff(got[:, 4], t, math.pi / 2).max() < 1e-9
    from_poly = poly_to_rbox(rbox_to_poly(r), version)
    np.testing.assert_allclose(from_poly[:, :4], got[:, :4], rtol=0, atol=1e-7)
    assert angle_diff(from_poly[:, 4], got[:, 4], PERIOD[version]).max() < 1e-7
    np.testing.assert_allclose(normalize_rbox([0, 0, 5, 5, 0.0], version)[0], [0, 0, 5, 5, 0.0])
    np.testing.assert_allclose(normalize_rbox([0, 0, 5, 5, math.pi / 2], version)[0], [0, 0, 5, 5, 0.0], atol=1e-15)
    assert normalize_rbox([0, 0, 5, 5, math.pi / 4], version)[0, 4] == -math.pi / 4


def test_oc_square_is_unique() -> None:
    a = normalize_rbox([0, 0, 5, 5, 0.0], "oc")[0]
    b = normalize_rbox([0, 0, 5, 5, math.pi / 2], "oc")[0]
    np.testing.assert_allclose(a, [0, 0, 5, 5, math.pi / 2])
    np.testing.assert_allclose(b, a)


def _random_quads(rng: np.random.Generator, n: int) -> np.ndarray:
    """Half convex (4 sorted angles on a random rotated ellipse), half 4 uniform points (any shape)."""
    m = n // 2
    ang = np.sort(rng.uniform(0, 2 * math.pi, (m, 4)), axis=1)
    ax, ay = rng.uniform(5, 200, (m, 1)), rng.uniform(5, 200, (m, 1))
    rot = rng.uniform(0, math.pi, (m, 1))
    ex, ey = ax * np.cos(ang), ay * np.sin(ang)
    x = ex * np.cos(rot) - ey * np.sin(rot) + rng.uniform(0, 1000, (m, 1))
    y = ex * np.sin(rot) + ey * np.cos(rot) + rng.uniform(0, 1000, (m, 1))
    convex = np.stack([x, y], axis=2).reshape(m, 8)
    general = rng.uniform(0, 300, (n - m, 8))
    return np.concatenate([convex, general])


def _is_convex(q: np.ndarray) -> np.ndarray:
    p = q.reshape(-1, 4, 2)
    e = np.roll(p, -1, axis=1) - p
    cross = e[..., 0] * np.roll(e, -1, axis=1)[..., 1] - e[..., 1] * np.roll(e, -1, axis=1)[..., 0]
    return np.all(cross > 0, axis=1) | np.all(cross < 0, axis=1)


@pytest.mark.parametrize("version", VERSIONS)
def test_general_quads_match_cv2_min_area_rect(version: str) -> None:
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(2024)
    quads = _random_quads(rng, 2000).astype(np.float32)
    convex = _is_convex(quads)
    assert convex.sum() > 1000 and (~convex).sum() > 200  # both kinds are exercised
    rb = poly_to_rbox(quads, version)
    assert_canonical(rb, version)
    cv_area = np.array([np.prod(cv2.minAreaRect(q.reshape(4, 2))[1]) for q in quads], dtype=np.float64)
    np.testing.assert_allclose(rb[:, 2] * rb[:, 3], cv_area, rtol=1e-3)
    # encloses all 4 points
    p = quads.astype(np.float64).reshape(-1, 4, 2) - rb[:, None, :2]
    c, s = np.cos(rb[:, 4])[:, None], np.sin(rb[:, 4])[:, None]
    along = p[..., 0] * c + p[..., 1] * s
    across = -p[..., 0] * s + p[..., 1] * c
    assert np.all(np.abs(along) <= rb[:, 2:3] / 2 + 1e-6)
    assert np.all(np.abs(across) <= rb[:, 3:4] / 2 + 1e-6)


def test_shapes_and_degenerate_input() -> None:
    assert rbox_to_poly([1, 2, 3, 4, 0.5]).shape == (1, 8)
    assert poly_to_rbox(np.zeros(8)).shape == (1, 5)
    assert rbox_to_poly([]).shape == (0, 8)
    assert poly_to_rbox(np.zeros((0, 8))).shape == (0, 5)
    assert normalize_rbox(np.zeros((0, 5)), "oc").shape == (0, 5)
    # coincident points: a zero-size box at the point; collinear points: a zero-height box along the line
    np.testing.assert_allclose(poly_to_rbox([3, 4] * 4)[0], [3, 4, 0, 0, 0])
    np.testing.assert_allclose(poly_to_rbox([0, 0, 1, 1, 2, 2, 4, 4])[0], [2, 2, 4 * math.sqrt(2), 0, math.pi / 4],
                               atol=1e-12)


@pytest.mark.parametrize("func", [rbox_to_poly, poly_to_rbox, normalize_rbox])
def test_unknown_version(func) -> None:
    arg = np.zeros(8) if func is poly_to_rbox else np.zeros(5)
    for bad in ("le45", "LE90", "", None, 90):
        with pytest.raises(ParameterError) as info:
            func(arg, bad)
        msg = str(info.value)
        assert "'oc', 'le90', 'le135'" in msg and "Fix:" in msg and repr(bad) in msg


@pytest.mark.parametrize("func,ncols", [(rbox_to_poly, 5), (poly_to_rbox, 8), (normalize_rbox, 5)])
def test_wrong_shape(func, ncols: int) -> None:
    for bad in (np.zeros((3, 7)), np.zeros(7), np.zeros((2, 4, 2)), [[1, 2], [3]], ["a"] * ncols):
        with pytest.raises(ParameterError) as info:
            func(bad, "le90")
        msg = str(info.value)
        assert f"(N, {ncols})" in msg and "Fix:" in msg
    with pytest.raises(ParameterError, match=r"got shape \(3, 7\).*reshape\(-1, %d\)" % ncols):
        func(np.zeros((3, 7)), "le90")
