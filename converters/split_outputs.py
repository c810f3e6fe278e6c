"""Where a converter that writes one JSON per split puts its files (``--out`` rules shared by converters).

``--out`` is either a folder (each split's default file name inside it) or a ``.json`` path; a ``.json`` path
serves one split as it is, and several splits when it contains ``{split}``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Union

from evaluators.errors import ParameterError

PathLike = Union[str, os.PathLike]


def split_output_paths(out: Optional[PathLike], splits: Sequence[str], default_dir: PathLike,
                       name_of: Callable[[str], str]) -> Dict[str, Path]:
    """``{split: path}``: ``name_of(split)`` inside ``out`` (a folder; default ``default_dir``), or ``out`` itself
    when it ends in ``.json`` (formatted with ``{split}``; required when there is more than one split)."""
    if out is None:
        return {s: Path(default_dir) / name_of(s) for s in splits}
    text = str(out)
    if not text.lower().endswith(".json"):
        return {s: Path(text) / name_of(s) for s in splits}
    if "{split}" not in text:
        if len(splits) > 1:
            raise ParameterError(f"--out {text} names one file but {len(splits)} splits are converted "
                                 f"({', '.join(splits)}).",
                                 fix="put {split} in the file name (e.g. out/{split}.json), pass a folder, "
                                     "or convert one split.")
        return {s: Path(text) for s in splits}
    try:
        return {s: Path(text.format(split=s)) for s in splits}
    except (KeyError, IndexError, ValueError) as exc:
        raise ParameterError(f"--out {text} is not a valid template ({exc}).",
                             fix="use only {split} as a placeholder.") from None
