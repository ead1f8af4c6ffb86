"""Set operations on sorted integer keys (member rows, pair keys) for the ranker.

numpy's own `np.unique(a)` and `np.isin` (its sort method, chosen for large arrays) import
`numpy.ma` on their first call (numpy 2.x checks for masked arrays): ~0.1 s inside the first
request or digest, then ≈6 MB resident in `serve` for a feature the ranker never uses. The
ranker's key arrays are sorted already, so a sort and `np.searchsorted` do the same work.
"""

from __future__ import annotations

import numpy as np


def unique_sorted(keys: np.ndarray) -> np.ndarray:
    """The distinct values of `keys`, ascending (`np.unique(keys)` for a 1-D array)."""
    ordered = np.sort(keys, axis=None)
    if ordered.size == 0:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def in_sorted(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of `values` is in the ascending array `keys` (`np.isin(values, keys)`)."""
    if keys.size == 0:
        return np.zeros(np.shape(values), dtype=bool)
    at = np.minimum(np.searchsorted(keys, values), keys.size - 1)
    return np.asarray(keys[at] == values, dtype=bool)
