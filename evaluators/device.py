"""Which torch device and how many CPU threads the engine runs on.

torch is imported inside the functions: the entry point (:mod:`.api`) starts reading the inputs before
the first call here pays for importing it.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterator, Optional, Union

from .errors import ParameterError

if TYPE_CHECKING:
    import torch


def resolve_device(device: Union[str, "torch.device"]) -> "torch.device":
    """``auto`` -> cuda when available else cpu; ``cpu``; ``cuda`` or ``cuda:k``."""
    import torch

    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ParameterError(f"Expected `device` to be auto, cpu, cuda or cuda:<k> but got {device!r}.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} was asked for but this torch build sees no CUDA GPU.",
                             fix="use --device cpu (or auto), or install a CUDA build of torch.")
    if dev.type not in ("cpu", "cuda"):
        raise ParameterError(f"Expected `device` to be auto, cpu, cuda or cuda:<k> but got {device!r}.")
    return dev


@contextlib.contextmanager
def torch_threads(workers: Optional[int]) -> Iterator[None]:
    """Run the block with ``workers`` torch CPU threads (None: torch's default), then restore the count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(workers or threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
