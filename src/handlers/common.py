"""What both handlers share: configuration errors and the invalid-event answer."""

from __future__ import annotations

from typing import Any

from acceptor import runtime
from acceptor.events import InvalidEvent
from acceptor.observability import emit_invalid_event, logger
from acceptor.settings import ConfigurationError


def load_components(components: runtime.Components | None) -> runtime.Components:
    """The given components, or this container's; a configuration error is logged and raised."""
    if components is not None:
        return components
    try:
        return runtime.components()
    except ConfigurationError as err:
        logger.error("invalid configuration; no invitation was touched", extra={"problems": err.problems})
        raise


def invalid_event(err: InvalidEvent) -> dict[str, Any]:
    """Log and count an event this function does not handle; nothing changes, nothing retries."""
    logger.error("invalid event; nothing changed", extra={"invalid_reason": err.reason, "error": str(err)})
    emit_invalid_event()
    return {"status": "invalid_event", "reason": err.reason, "error": str(err)}
