"""Invitations for the policy's unit tests."""

from __future__ import annotations

from policy import Invitation

TRUSTED, RECIPIENT = "111111111111", "999999999999"
ID = "0123456789abcdef0123456789abcdef"


def inv(
    sharer: str | None = TRUSTED,
    rtype: str | None = "WORKLOAD",
    permission: str | None = "READONLY",
    inv_id: str | None = ID,
    shared_with: str | None = RECIPIENT,
) -> Invitation:
    return Invitation(inv_id, sharer, shared_with, rtype, permission, "name", "id")
