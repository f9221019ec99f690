"""Registering a model as approvable for the length of a test: core registers no approvable record of its
own besides document revisions, so the tests of the approval workflow put companies through it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from traveler.core.registry import Approvable, register_approvable, registry


@contextmanager
def approvable(model, *, permission: str, detail_target: str | None = None) -> Iterator[None]:
    """``model`` approvable (and signable, with its panel on ``detail_target``) inside the block only."""
    key = model._meta.label_lower
    saved = registry.approvables.get(key), registry.signables.get(key)
    panels = {k: list(v) for k, v in registry.panels.items()}  # add_panel appends to these lists
    registry.approvables.pop(key, None)
    registry.signables.pop(key, None)
    register_approvable(Approvable(model=model, module="core", permission=permission, detail_target=detail_target))
    try:
        yield
    finally:
        for reg, old in ((registry.approvables, saved[0]), (registry.signables, saved[1])):
            reg.pop(key, None)
            if old is not None:
                reg[key] = old
        registry.panels.clear()
        registry.panels.update(panels)
