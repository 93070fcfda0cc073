"""Errors the use cases raise; the API maps each kind to an HTTP status in one place."""
from domain.errors import DomainError


class NotFound(DomainError):
    """A named thing (file, task, backup) does not exist."""


class InvalidRequest(DomainError):
    """The request is understood but its content cannot be used (422)."""


class StoreUnavailable(DomainError):
    """The database could not be reached or failed for a reason worth retrying."""


class DependencyMissing(DomainError):
    """A piece of this machine that an adapter needs (a system library, a driver) is not installed; no retry
    helps (503, and /ready names it)."""


class BrokerUnavailable(DomainError):
    """The task broker could not take the task (503)."""


class Conflict(DomainError):
    """The request clashes with the data as it is, e.g. rows of another table still point at it (409)."""


class CorruptBackup(InvalidRequest):
    """A backup file is damaged, truncated or altered and cannot be restored (422)."""
