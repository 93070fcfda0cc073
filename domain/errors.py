"""Errors the domain raises; the API maps each kind to an HTTP status in one place."""


class DomainError(Exception):
    """Base of every error a caller can be told about in plain words."""


class UnknownTable(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown table '{name}': expected departments, jobs or hired_employees")
        self.name = name


class RuleBroken(ValueError):
    """One field breaks one data rule; `str(error)` is the reason a person reads."""
