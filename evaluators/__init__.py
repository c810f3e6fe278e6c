"""Exact, fast detection evaluation (pycocotools' numbers) on one torch engine, on CPU or GPU.

>>> from evaluators import evaluate                                      # doctest: +SKIP
>>> result = evaluate("instances_val2017.json", "dets.json", metric="bbox")  # doctest: +SKIP
>>> print(result.summary())                                              # doctest: +SKIP
"""
from .api import evaluate
from .evaluator import Evaluator
from .kernels.rbox import normalize_rbox, poly_to_rbox, rbox_to_poly
from .errors import DataprepError, InputFileError, ParameterError, RecordError, UnknownIdError
from .params import EvalParams
from .result import EvalResult

__all__ = [
    "evaluate", "Evaluator", "EvalParams", "EvalResult", "rbox_to_poly", "poly_to_rbox", "normalize_rbox",
    "DataprepError", "InputFileError", "RecordError", "UnknownIdError", "ParameterError",
]
