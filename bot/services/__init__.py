"""Business logic. Each public function is one business operation in one transaction.

Services import SQLAlchemy and the models, never `telegram`; they return plain dataclasses
and raise `ServiceError` subclasses whose `key` is an i18n message key, so handlers can tell
the user what went wrong in their language without knowing the rule.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule refused the operation; `key` and `values` describe it for the user."""

    def __init__(self, key: str, **values: object):
        """Store the message key and the values it needs."""
        super().__init__(key)
        self.key = key
        self.values = values


class InvalidInput(ServiceError):
    """The user's input does not have the expected form."""


class NotFound(ServiceError):
    """The referenced thing does not exist (or is not visible to this user)."""


class PermissionDenied(ServiceError):
    """The user's roles do not allow the operation."""
