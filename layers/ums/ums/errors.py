"""The one error hierarchy: each error knows its HTTP status and a message safe to show."""

from __future__ import annotations


class UmsError(Exception):
    """An error the client caused or must know about; `message` is returned as is."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(UmsError):
    status = 400


class Unauthorized(UmsError):
    status = 401


class Forbidden(UmsError):
    status = 403


class NotFound(UmsError):
    status = 404


class MethodNotAllowed(UmsError):
    status = 405


class Conflict(UmsError):
    status = 409


class PayloadTooLarge(UmsError):
    status = 413


class TooManyRequests(UmsError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class UpstreamUnavailable(UmsError):
    """A service the request needs failed or could not be reached: not the client's fault, and
    worth trying again, so a 502 rather than a 4xx."""

    status = 502


class MailProviderUnavailable(UpstreamUnavailable):
    """The mail provider could not take a mail now (the integration test button)."""


class ProviderUnavailable(UpstreamUnavailable):
    """An OAuth provider failed, could not be reached, or refused this service's own client
    credentials (an operator's fix, not the client's)."""


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("A user with this email is already registered")


class UserIdTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("A user with this id already exists")


class MobileTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("A user with this mobile number is already registered")


class IdentityTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("This provider account is already linked to a user; sign in instead")
