"""Exact, fast detection evaluation (pycocotools' numbers) on one torch engine, on CPU or GPU.

>>> from evaluators import evaluate                                      # doctest: +SKIP
>>> result = evaluate("instances_val2017.json", "dets.json", metric="bbox")  # doctest: +SKIP
>>> print(result.summary())                                              # doctest: +SKIP

The public names are imported on first use (PEP 562), so ``import evaluators.errors`` (what every
``dataprep`` command and converter does) does not pay for importing torch.
"""
from importlib import import_module
from typing import Any

from .errors import DataprepError, InputFileError, LayoutError, ParameterError, RecordError, UnknownIdError

_LAZY = {
    "evaluate": ".api", "Evaluator": ".evaluator", "EvalParams": ".params", "EvalResult": ".result",
    "rbox_to_poly": ".kernels.rbox", "poly_to_rbox": ".kernels.rbox", "normalize_rbox": ".kernels.rbox",
}

__all__ = [
    "evaluate", "Evaluator", "EvalParams", "EvalResult", "rbox_to_poly", "poly_to_rbox", "normalize_rbox",
    "DataprepError", "InputFileError", "RecordError", "UnknownIdError", "ParameterError", "LayoutError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'evaluators' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
