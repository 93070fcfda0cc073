"""Readiness: run each dependency's check and say, per dependency, what is wrong."""
from __future__ import annotations

from typing import Callable


class Readiness:
    def __init__(self, checks: dict[str, Callable[[], None]]) -> None:
        self._checks = checks

    def __call__(self) -> dict[str, str | None]:
        """None for a dependency that answered, else the reason it did not."""
        results: dict[str, str | None] = {}
        for name, check in self._checks.items():
            try:
                check()
                results[name] = None
            except Exception as error:  # any failure is the answer here, reported per dependency
                results[name] = f"{type(error).__name__}: {error}"[:300]
        return results
