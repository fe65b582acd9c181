"""Errors whose message is fit to show the member who caused them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `str(error)` tells the member what happened and what to do."""


class NotFoundError(DomainError):
    """The thing asked for does not exist in this server."""


class PermissionDeniedError(DomainError):
    """The member may not do this."""


class ValidationError(DomainError):
    """An option's value is not acceptable."""


class ConflictError(DomainError):
    """The request clashes with the current state (already done, taken, changed meanwhile)."""
