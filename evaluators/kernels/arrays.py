"""The array operations the polygon and VOC-family kernels use, for numpy arrays and torch tensors alike.

The kernels are written once, against one method set (``xp``: :class:`NumpyOps` or :class:`TorchOps`),
and run on whichever array type they are given: :data:`NUMPY` (CPU, without importing torch: a one-shot
evaluation saves torch's 2 s import) or a :class:`TorchOps` of a torch device (a GPU, or torch's
multi-threaded CPU kernels).

Only operations that give the same bits on both are used for results: elementwise IEEE arithmetic
(+, -, *, /; no fused multiply-add), comparisons, integer and boolean sums and cumulative sums, max / min,
gathers and scatters. The tests run the kernels on both and compare bit for bit. One harmless exception:
the polygon error bounds use a square root, which torch's vectorised CPU kernel does not always round
correctly, so a bound (a tolerance, never a result) may differ in its last bits.
"""
from __future__ import annotations

import contextlib
import functools
from typing import Any, Iterator, Optional, Sequence

import numpy as np


class NumpyOps:
    """The operations on numpy arrays (CPU)."""

    name = "numpy"
    is_numpy = True
    float64, float32, int64, int8, bool = np.float64, np.float32, np.int64, np.int8, np.bool_

    # creation and conversion
    def asarray(self, a: Any, dtype: Any = None) -> np.ndarray:
        """``a`` as an array of this backend (``dtype`` given: converted)."""
        return np.asarray(a, dtype=dtype)

    def from_numpy(self, a: np.ndarray) -> np.ndarray:
        """A numpy array on this backend's device."""
        return a

    def to_numpy(self, x: np.ndarray) -> np.ndarray:
        """The values as a numpy array."""
        return x

    def zeros(self, shape, dtype) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)

    def full(self, shape, value, dtype) -> np.ndarray:
        return np.full(shape, value, dtype=dtype)

    def arange(self, n: int) -> np.ndarray:
        return np.arange(n, dtype=np.int64)

    def astype(self, x: np.ndarray, dtype) -> np.ndarray:
        return x.astype(dtype, copy=False)

    def copy(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def size(self, x: np.ndarray) -> int:
        return int(x.size)

    # elementwise and shape
    def where(self, cond, a, b) -> np.ndarray:
        return np.where(cond, a, b)

    def stack(self, arrays: Sequence[np.ndarray], axis: int) -> np.ndarray:
        return np.stack(arrays, axis)

    def cat(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays)

    def flip(self, x: np.ndarray, axis: int) -> np.ndarray:
        return np.flip(x, axis)

    def minimum(self, a, b) -> np.ndarray:
        return np.minimum(a, b)

    def maximum(self, a, b) -> np.ndarray:
        return np.maximum(a, b)

    def clamp(self, x, lo: Optional[float] = None, hi: Optional[float] = None) -> np.ndarray:
        if lo is not None:
            x = np.maximum(x, np.asarray(lo, x.dtype))
        if hi is not None:
            x = np.minimum(x, np.asarray(hi, x.dtype))
        return x

    def amin(self, x, axis: int) -> np.ndarray:
        return _by_columns(np.minimum, x, axis) if _narrow(x, axis) else x.min(axis)

    def amax(self, x, axis: int) -> np.ndarray:
        return _by_columns(np.maximum, x, axis) if _narrow(x, axis) else x.max(axis)

    def sum_rows(self, x) -> np.ndarray:
        """Per-row sum of a (B, K) integer or boolean array, as int64."""
        if _narrow(x, 1):
            return _by_columns(np.add, x.astype(np.int64, copy=False), 1)
        return x.sum(1, dtype=np.int64)

    def all_rows(self, x) -> np.ndarray:
        """Per-row logical and of a (B, K) boolean array."""
        return _by_columns(np.logical_and, x, 1) if _narrow(x, 1) else x.all(1)

    def sqrt(self, x) -> np.ndarray:
        return np.sqrt(x)

    def isfinite(self, x) -> np.ndarray:
        return np.isfinite(x)

    def isnan(self, x) -> np.ndarray:
        return np.isnan(x)

    def nan_to_num(self, x, nan: float) -> np.ndarray:
        return np.where(np.isnan(x), nan, x)

    def repeat_each(self, x, k: int) -> np.ndarray:
        """Each column ``k`` times in a row (``torch.repeat_interleave(x, k, 1)``)."""
        return np.repeat(x, k, axis=1)

    def tile(self, x, k: int) -> np.ndarray:
        """The columns ``k`` times over (``x.repeat(1, k)``)."""
        return np.tile(x, (1, k))

    # indexing, scans, scatters
    def nonzero(self, mask) -> np.ndarray:
        """Positions of the true entries of a 1-D mask."""
        return np.flatnonzero(mask)

    def gather(self, x, idx) -> np.ndarray:
        """``x[i, idx[i, j]]`` (along axis 1)."""
        return np.take_along_axis(x, idx, 1)

    def scatter_columns(self, width: int, column, values) -> np.ndarray:
        """Zeros (rows, width) with ``values[i, j]`` written to column ``column[i, j]`` of row i."""
        out = np.zeros((values.shape[0], width), dtype=values.dtype)
        np.put_along_axis(out, column, values, 1)
        return out

    def cumsum(self, x, axis: int) -> np.ndarray:
        return np.cumsum(x, axis, dtype=np.int64 if x.dtype == np.bool_ else None)

    def cumprod(self, x, axis: int) -> np.ndarray:
        return np.cumprod(x, axis)

    def cummax(self, x, axis: int) -> np.ndarray:
        return np.maximum.accumulate(x, axis)

    def scatter_max_(self, out, idx, values) -> np.ndarray:
        """``out[idx[i]] = max(out[idx[i]], values[i])`` in place; returns ``out``."""
        np.maximum.at(out, idx, values)
        return out

    def scatter_min_(self, out, idx, values) -> np.ndarray:
        """``out[idx[i]] = min(out[idx[i]], values[i])`` in place; returns ``out``."""
        np.minimum.at(out, idx, values)
        return out

    def index_add_(self, out, idx, values) -> np.ndarray:
        """``out[idx[i]] += values[i]`` in place, in index order; returns ``out``."""
        np.add.at(out, idx, values)
        return out

    def bincount(self, x, minlength: int) -> np.ndarray:
        return np.bincount(x, minlength=minlength).astype(np.int64, copy=False)

    def searchsorted(self, sorted_values, values, right: bool = False) -> np.ndarray:
        return np.searchsorted(sorted_values, values, side="right" if right else "left").astype(np.int64, copy=False)

    def unique_inverse(self, x) -> np.ndarray:
        """For each value, its rank among the distinct values."""
        return np.unique(x, return_inverse=True)[1].reshape(-1).astype(np.int64, copy=False)

    def isin(self, a, b) -> np.ndarray:
        return np.isin(a, b)


def _narrow(x: np.ndarray, axis: int) -> bool:
    """A reduction along the last of 2 axes, over a few columns: column by column is faster in numpy."""
    return x.ndim == 2 and axis in (1, -1) and 0 < x.shape[1] <= 16


def _by_columns(ufunc, x: np.ndarray, axis: int) -> np.ndarray:
    """``ufunc`` folded over the columns of a (B, K) array, left to right (max / min / and / integer sums:
    the same values as numpy's reductions, NaN included)."""
    out = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        ufunc(out, x[:, j], out=out)
    return out


class TorchOps:
    """The same operations on torch tensors of one device."""

    is_numpy = False

    def __init__(self, device) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.name = str(self.device)
        self.float64, self.float32, self.int64, self.int8, self.bool = (
            torch.float64, torch.float32, torch.int64, torch.int8, torch.bool)

    def asarray(self, a, dtype=None):
        return self.torch.as_tensor(a, dtype=dtype, device=self.device)

    def from_numpy(self, a: np.ndarray):
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    def to_numpy(self, x) -> np.ndarray:
        return x.cpu().numpy()

    def zeros(self, shape, dtype):
        return self.torch.zeros(shape, dtype=dtype, device=self.device)

    def full(self, shape, value, dtype):
        return self.torch.full(shape, value, dtype=dtype, device=self.device)

    def arange(self, n: int):
        return self.torch.arange(n, device=self.device)

    def astype(self, x, dtype):
        return x.to(dtype)

    def copy(self, x):
        return x.clone()

    def size(self, x) -> int:
        return int(x.numel())

    def where(self, cond, a, b):
        return self.torch.where(cond, a, b)

    def stack(self, arrays, axis: int):
        return self.torch.stack(list(arrays), axis)

    def cat(self, arrays):
        return self.torch.cat(list(arrays))

    def flip(self, x, axis: int):
        return self.torch.flip(x, [axis])

    def minimum(self, a, b):
        return self.torch.minimum(a, b)

    def maximum(self, a, b):
        return self.torch.maximum(a, b)

    def clamp(self, x, lo=None, hi=None):
        return self.torch.clamp(x, min=lo, max=hi)

    def amin(self, x, axis: int):
        return x.amin(axis)

    def amax(self, x, axis: int):
        return x.amax(axis)

    def sum_rows(self, x):
        return x.sum(1, dtype=self.torch.int64)

    def all_rows(self, x):
        return x.all(1)

    def sqrt(self, x):
        return self.torch.sqrt(x)

    def isfinite(self, x):
        return self.torch.isfinite(x)

    def isnan(self, x):
        return self.torch.isnan(x)

    def nan_to_num(self, x, nan: float):
        return self.torch.nan_to_num(x, nan=nan)

    def repeat_each(self, x, k: int):
        return x.repeat_interleave(k, 1)

    def tile(self, x, k: int):
        return x.repeat(1, k)

    def nonzero(self, mask):
        return self.torch.nonzero(mask).flatten()

    def gather(self, x, idx):
        return self.torch.gather(x, 1, idx)

    def scatter_columns(self, width: int, column, values):
        out = self.torch.zeros((values.shape[0], width), dtype=values.dtype, device=values.device)
        return out.scatter_(1, column, values)

    def cumsum(self, x, axis: int):
        return self.torch.cumsum(x, axis)

    def cumprod(self, x, axis: int):
        return self.torch.cumprod(x, axis)

    def cummax(self, x, axis: int):
        return self.torch.cummax(x, axis).values

    def scatter_max_(self, out, idx, values):
        return out.scatter_reduce_(0, idx, values, "amax", include_self=True)

    def scatter_min_(self, out, idx, values):
        return out.scatter_reduce_(0, idx, values, "amin", include_self=True)

    def index_add_(self, out, idx, values):
        return out.index_add_(0, idx, values)

    def bincount(self, x, minlength: int):
        return self.torch.bincount(x, minlength=minlength)

    def searchsorted(self, sorted_values, values, right: bool = False):
        return self.torch.searchsorted(sorted_values, values, right=right)

    def unique_inverse(self, x):
        return self.torch.unique(x, return_inverse=True)[1]

    def isin(self, a, b):
        return self.torch.isin(a, b)


NUMPY = NumpyOps()


@functools.lru_cache(maxsize=None)
def torch_ops(device) -> TorchOps:
    """The :class:`TorchOps` of one torch device (made once)."""
    return TorchOps(device)


def ops_of(x: Any):
    """The backend an array belongs to: :data:`NUMPY` for numpy arrays, else the tensor's device."""
    return NUMPY if isinstance(x, np.ndarray) else torch_ops(x.device)


def ops_for(device: Any):
    """The backend of a device as :func:`evaluators.device.resolve_device` returns it (``"numpy"`` or a
    torch device)."""
    return NUMPY if device == "numpy" else torch_ops(device)


@contextlib.contextmanager
def quiet(xp) -> Iterator[None]:
    """numpy's floating-point warnings off for a block: 0 / 0 and x / 0 are part of the devkits' semantics
    (torch never warns)."""
    if xp.is_numpy:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            yield
    else:
        yield
