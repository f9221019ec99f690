"""The one exception the statistics engine raises for bad input."""

from __future__ import annotations


class StatsInputError(ValueError):
    """Bad input to a statistics function; ``field`` names the offending input."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}
