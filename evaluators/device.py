"""Which device the engine runs on (numpy, or a torch device) and how many CPU threads it uses.

torch is imported inside the functions, and only when a torch device is used: the entry point
(:mod:`.api`) starts reading the inputs first, and the numpy backend never imports it at all.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union

from .errors import ParameterError

if TYPE_CHECKING:
    import torch

NUMPY = "numpy"
_GPU_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def resolve_device(device: Union[str, "torch.device"], numpy_ok: bool = False) -> Any:
    """The device to run on: a ``torch.device``, or ``"numpy"`` where ``numpy_ok`` (the VOC-family
    protocols: rotated DOTA and PASCAL VOC, whose engine runs on numpy arrays or torch tensors).

    ``auto``: cuda when a GPU is usable, else cpu (torch), or numpy where ``numpy_ok``; whether a GPU can
    be usable is first told without importing torch (a CPU-only torch build, or no GPU device node), so
    a CPU run of the numpy backend never pays torch's import. ``numpy``, ``cpu``, ``cuda`` or
    ``cuda:k`` pick one.
    """
    if isinstance(device, str) and device in ("auto", NUMPY) and numpy_ok:
        if device == NUMPY or not gpu_possible():
            return NUMPY
    elif device == NUMPY:
        raise ParameterError("device 'numpy' is for the rotated (DOTA) metric and the VOC protocols only.",
                             fix="use --device cpu (or auto) here.")
    import torch

    choices = "auto, numpy, cpu, cuda or cuda:<k>" if numpy_ok else "auto, cpu, cuda or cuda:<k>"
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return NUMPY if numpy_ok else torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ParameterError(f"Expected `device` to be {choices} but got {device!r}.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} was asked for but this torch build sees no CUDA GPU.",
                             fix="use --device cpu (or auto), or install a CUDA build of torch.")
    if dev.type not in ("cpu", "cuda"):
        raise ParameterError(f"Expected `device` to be {choices} but got {device!r}.")
    return dev


def gpu_possible() -> bool:
    """False when no GPU can be usable, told without importing torch: the installed torch is a CPU-only
    build (its ``version.py`` names no CUDA or ROCm version), or, on Linux, no GPU device node exists.
    True when unsure (then torch decides)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        return True  # no torch to ask: resolve_device's import will say so
    try:
        with open(os.path.join(os.path.dirname(spec.origin), "version.py"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return True
    builds = re.findall(r"^(?:cuda|hip)\s*(?::[^=\n]*)?=\s*(\S+)", text, flags=re.M)
    if builds and all(b == "None" for b in builds):
        return False
    if sys.platform.startswith("linux") and not any(os.path.exists(p) for p in _GPU_NODES):
        return False
    return True


def cpu_workers(workers: Optional[int]) -> int:
    """The CPU threads to use: ``workers``, or the cores this process may run on."""
    if workers:
        return int(workers)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def torch_threads(workers: Optional[int], device: Any = None) -> Iterator[None]:
    """Run the block with ``workers`` torch CPU threads (None: torch's default), then restore the count.
    Nothing to set on the numpy backend."""
    if device == NUMPY:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(workers or threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
