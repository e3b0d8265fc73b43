"""Deterministic train/validation/test splits.

- ``stratified_split``: independent samples (images, gestures), seeded and stratified like
  Kenning's ``train_test_split_representations``.
- ``time_block_split``: one time series cut into windows. Overlapping windows share rows, so a
  random split leaks test rows into training (15 of 16 rows with a 16-row window). The series
  is cut into ``blocks`` contiguous time blocks instead; whole blocks go to the test,
  validation and train splits (a seeded choice, so every split holds every class when the
  data allow it) and a window is kept only when it lies entirely inside one block, so no row
  is seen by two splits.

A class too rare to appear in both the train and the test split is a one-line StageError, never
a scikit-learn traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kenning_tasks.errors import StageError

if TYPE_CHECKING:
    import numpy as np

Splits = dict[str, "np.ndarray"]
_ATTEMPTS = 200  # seeded block assignments tried before giving up on covering every class


def check_class_counts(y: np.ndarray, class_names: list[str], needed: int, what: str) -> None:
    import numpy as np

    counts = np.bincount(y, minlength=len(class_names))
    for index, count in enumerate(counts):
        if 0 < count < needed:
            raise StageError(f"dataset: class {class_names[index]!r} has {count} {what}; a "
                             f"stratified split needs at least {needed} (add data or drop "
                             "the class)")


def stratified_split(x: np.ndarray, y: np.ndarray, class_names: list[str], test: float,
                     validation: float, seed: int) -> Splits:
    """Seeded stratified split; ``validation`` is a fraction of what the test split leaves."""
    check_class_counts(y, class_names, 3 if validation > 0 else 2, "samples")
    from sklearn.model_selection import train_test_split

    try:
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y, test_size=test, random_state=seed, stratify=y)
        if validation > 0:
            x_train, x_val, y_train, y_val = train_test_split(
                x_rest, y_rest, test_size=validation, random_state=seed, stratify=y_rest)
        else:
            x_train, y_train, x_val, y_val = x_rest, y_rest, x_rest[:0], y_rest[:0]
    except ValueError as failure:  # e.g. fewer test samples than classes
        raise StageError(f"dataset: cannot split {len(y)} samples of {len(class_names)} "
                         f"classes stratified: {str(failure).splitlines()[0]}") from None
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val,
            "x_test": x_test, "y_test": y_test}


def reduce_stratified(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a seeded stratified ``fraction`` of the samples, in their original order."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(y))
    try:
        kept, _ = train_test_split(indices, train_size=fraction, random_state=seed, stratify=y)
    except ValueError as failure:
        raise StageError(f"dataset.parameters.reduce_dataset: cannot keep {fraction} of "
                         f"{len(y)} samples stratified: {str(failure).splitlines()[0]}") from None
    return np.sort(kept)


def time_block_split(window_starts: np.ndarray, span: int, rows: int, y: np.ndarray,
                     class_names: list[str], blocks: int, test: float, validation: float,
                     seed: int) -> dict[str, np.ndarray]:
    """Window indices per split (``train``/``val``/``test``), each in time order.

    ``window_starts[i]`` is the first row of window ``i`` and ``span`` the rows it covers
    (inputs plus, when the label is the following row, that row). ``validation`` is a fraction
    of the blocks the test split leaves.
    """
    import numpy as np

    if blocks < 2:
        raise StageError("dataset.parameters.time_blocks: at least 2 blocks are needed")
    edges = np.linspace(0, rows, blocks + 1).round().astype(int)
    block_of_start = np.searchsorted(edges, window_starts, side="right") - 1
    block_of_end = np.searchsorted(edges, window_starts + span - 1, side="right") - 1
    inside = block_of_start == block_of_end  # windows crossing a block edge are dropped
    if edges[1] - edges[0] < span:
        raise StageError(f"dataset: {rows} rows in {blocks} time blocks leave "
                         f"{edges[1] - edges[0]} rows per block, fewer than a window "
                         f"({span}); lower time_blocks or window_size")
    n_test = max(1, round(blocks * test))
    n_val = round((blocks - n_test) * validation) if validation > 0 else 0
    if blocks - n_test - n_val < 1:
        raise StageError(f"dataset: {blocks} time blocks leave none for training "
                         f"({n_test} test, {n_val} validation); raise time_blocks")
    # Every class of the data must survive in train and test (not only those whose windows
    # happen to lie inside a block).
    present = [c for c in range(len(class_names)) if np.any(y == c)]
    rng = np.random.default_rng(seed)
    for _ in range(_ATTEMPTS):
        order = rng.permutation(blocks)
        assignment = {"test": order[:n_test], "val": order[n_test:n_test + n_val],
                      "train": order[n_test + n_val:]}
        chosen = {name: np.flatnonzero(inside & np.isin(block_of_start, ids))
                  for name, ids in assignment.items()}
        if all(np.any(y[chosen[name]] == c) for name in ("train", "test") for c in present):
            return chosen
    rare = min(present, key=lambda c: int(np.sum(y[inside] == c)))
    count = int(np.sum(y == rare))
    kept = int(np.sum(y[inside] == rare))
    holding = len(set(block_of_start[inside & (y == rare)].tolist()))
    raise StageError(f"dataset: class {class_names[rare]!r} occurs in {count} window(s), "
                     f"{kept} of them inside {holding} of {blocks} time blocks; it must appear "
                     "in both the train and the test split (add data, or change time_blocks "
                     "or the split seed)")
