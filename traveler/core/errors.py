"""Errors services raise; the API and the UI turn them into one shape (see core.api.errors)."""

from __future__ import annotations


class TravelerError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str] | str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = {k: v if isinstance(v, list) else [v] for k, v in (fields or {}).items()}


class InvalidInput(TravelerError):
    """Bad input: names the fields; nothing was written."""


class Conflict(TravelerError):
    """The record changed since the caller read it, or its state forbids the action."""

    status = 409
    code = "conflict"


class NotFound(TravelerError):
    status = 404
    code = "not_found"


class LockedOut(TravelerError):
    status = 429
    code = "locked_out"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def stale(model_name: str, pk, expected: int, current: int | None) -> Conflict:
    if current is None:
        return Conflict(f"This {model_name} no longer exists or has been archived.")
    return Conflict(
        f"This {model_name} was changed by someone else since you opened it (your version {expected}, "
        f"current version {current}). Reload it and apply your change again.",
        fields={"version": [f"expected {current}, got {expected}"]},
    )


class NotAuthenticated(TravelerError):
    """Credentials were missing or wrong (answered 401)."""

    status = 401
    code = "not_authenticated"
