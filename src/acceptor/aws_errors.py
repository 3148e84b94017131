"""What an AWS call's failure was, in one vocabulary for every adapter: its code, HTTP status and one-line
description, whether a retry may help, whether it was throttling, and whether the request may have been
carried out although its answer was lost.

A retry helps only for throttling, a 5xx answer or a broken connection. Everything else (access denied,
validation, missing credentials or region, a malformed answer) fails the same way every time.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "Throttling", "ThrottledException", "RequestLimitExceeded"}
)
RETRYABLE_CODES = THROTTLING_CODES | {
    "InternalServerException",
    "InternalServerError",
    "InternalFailure",
    "ServiceException",
    "ServiceUnavailableException",
    "ServiceUnavailable",
    "RequestTimeoutException",
}
# What botocore's parsers raise for an answer that does not have the documented shape (a string where the
# model says structure: AttributeError). ResponseParserError is a BotoCoreError and is handled as one.
PARSER_FAILURES = (AttributeError, TypeError, ValueError, KeyError, IndexError)


class MalformedResponse(Exception):
    """An AWS answer that could not be read, or is not the shape the API documents."""

    code = "MalformedResponse"

    def __init__(self, operation: str, problem: str) -> None:
        self.operation = operation
        super().__init__(f"{operation} answered something unreadable: {problem}")


def code(err: Exception) -> str:
    """The error code of a ClientError; the exception's own name otherwise."""
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code") or "Unknown")
    if isinstance(err, MalformedResponse):
        return MalformedResponse.code
    return type(err).__name__


def message(err: Exception) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Message") or "")
    return str(err)


def http_status(err: Exception) -> int:
    """The HTTP status of a ClientError's answer; 0 when there was none, or it is unreadable."""
    if not isinstance(err, ClientError):
        return 0
    try:
        return int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    except (TypeError, ValueError):
        return 0


def describe(err: Exception) -> str:
    """One line: "AccessDeniedException: not allowed", "NoCredentialsError: Unable to locate credentials"."""
    return f"{code(err)}: {message(err)}".rstrip(": ")


def is_throttling(err: Exception) -> bool:
    return isinstance(err, ClientError) and (code(err) in THROTTLING_CODES or http_status(err) == 429)


def is_retryable(err: Exception) -> bool:
    """Throttling, a 5xx answer, or a connection that failed or broke. Never missing credentials or region,
    a refused or invalid request, or a malformed answer."""
    if isinstance(err, ClientError):
        status = http_status(err)
        return code(err) in RETRYABLE_CODES or status == 429 or status >= 500
    return isinstance(err, ConnectionError | HTTPClientError)


def may_have_applied(err: Exception) -> bool:
    """Could the service have carried out a request that failed this way? (Its answer was lost.)"""
    if isinstance(err, ClientError):
        return http_status(err) >= 500  # throttled or refused requests were not carried out
    if isinstance(err, EndpointConnectionError):
        return False  # never connected
    return isinstance(err, ReadTimeoutError | ConnectionClosedError | HTTPClientError)
