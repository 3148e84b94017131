"""Well-Architected clients that wrap the simulator's and misbehave on purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


class RacingClient:
    """A recipient client that lets something happen between the list and the update."""

    def __init__(self, inner: Any, before_update: Callable[[str], Any]) -> None:
        self._inner = inner
        self._before_update = before_update

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def update_share_invitation(self, **kwargs: Any) -> Any:
        self._before_update(kwargs["ShareInvitationId"])
        return self._inner.update_share_invitation(**kwargs)


class DenyingClient(RacingClient):
    """UpdateShareInvitation of the invitations in `deny` is AccessDenied; everything else goes through."""

    def __init__(self, inner: Any, deny: set[str]) -> None:
        super().__init__(inner, lambda _id: None)
        self._deny = deny

    def update_share_invitation(self, **kwargs: Any) -> Any:
        if kwargs["ShareInvitationId"] in self._deny:
            raise ClientError(
                {
                    "Error": {"Code": "AccessDeniedException", "Message": "not authorized"},
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                "UpdateShareInvitation",
            )
        return self._inner.update_share_invitation(**kwargs)
