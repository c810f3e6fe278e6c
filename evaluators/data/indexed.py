"""Ground truths whose images and classes are numbered by position (the VOC-family engine's input)."""
from __future__ import annotations

import numpy as np


class PositionalIds:
    """Mixin: ``img_ids`` are 0..len(img_names)-1 and ``cat_ids`` 0..len(class_names)-1."""

    img_names: list
    class_names: tuple

    @property
    def img_ids(self) -> np.ndarray:
        """Image indices 0..N-1."""
        return np.arange(len(self.img_names), dtype=np.int64)

    @property
    def cat_ids(self) -> np.ndarray:
        """Class indices 0..K-1."""
        return np.arange(len(self.class_names), dtype=np.int64)
