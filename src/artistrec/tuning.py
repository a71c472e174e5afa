"""Tuning a method's settings on valid artists one axis at a time, where every setting costs a scoring pass."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

Setting = tuple[Any, ...]


def coordinate_search(
    axes: Sequence[Sequence[Any]],
    start: Setting,
    order: Sequence[int],
    valid_maps: Callable[[Iterable[Setting]], dict[Hashable, dict[str, float]]],
) -> tuple[Setting, dict[Setting, dict[str, float]]]:
    """The best setting found by tuning one axis at a time, and every setting it scored.

    From ``start`` (one value per axis), each axis of ``order`` in turn (an axis may come
    again) takes its value with the best valid MAP@10 given the others (ties to the earlier
    value of the axis): at most ``1 + sum(len(axes[a]) - 1 for a in order)`` settings, where
    the full grid scores the product of the axes' lengths.
    ``valid_maps`` scores settings (``Context.valid_map`` of their scores); no setting is
    scored twice.
    """
    best, scored = tuple(start), {}
    for axis in order:
        candidates = [best[:axis] + (value,) + best[axis + 1 :] for value in axes[axis]]
        scored |= valid_maps([setting for setting in candidates if setting not in scored])
        best = max(candidates, key=lambda setting: (scored[setting]["map@10"], -candidates.index(setting)))
    return best, scored
