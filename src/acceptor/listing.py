"""The one way this project reads ``ListShareInvitations``: the functions and ``make check-policy`` alike.

Each resource type is listed explicitly (what the API lists without one is not documented), and a
summary without ``ShareResourceType`` is given the type it was listed for. Items that are not objects are
skipped and reported once per run, however often their page is listed again. Invitations are
de-duplicated by id (the first seen wins); items without a string id are kept apart, to be decided (and
left pending) rather than lost. A listing for hinted ids stops paging once every one of them is seen.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from acceptor.deadline import Deadline
from acceptor.fanout import FanOut, in_order
from acceptor.wellarchitected import ListError, min_attempt_seconds
from policy import RESOURCE_TYPES


class PageSource(Protocol):
    """The Well-Architected adapter's listing (``ShareInvitations.pages``)."""

    def pages(self, resource_type: str, deadline: Deadline | None = None) -> Iterator[list[Any]]: ...


class JunkReport(Protocol):
    def __call__(self, resource_type: str, item: Any) -> None: ...


class FailureReport(Protocol):
    def __call__(self, resource_type: str, error: ListError) -> None: ...


def _skip_quietly(resource_type: str, item: Any) -> None:
    return None


def _fail_quietly(resource_type: str, error: ListError) -> None:
    return None  # the failure is in the result's ``errors``


class Listed(NamedTuple):
    """Pending invitations as listed: by id (first seen wins), items without a string id, failed types."""

    by_id: dict[str, dict[str, Any]]
    unnamed: list[dict[str, Any]]
    errors: dict[str, ListError]  # resource type -> why its listing failed or stopped

    @property
    def items(self) -> list[dict[str, Any]]:
        return [*self.by_id.values(), *self.unnamed]


class Lister:
    """One run's reading of ``ListShareInvitations``, inside the run's ``Deadline``. Thread-safe.

    ``on_junk(type, item)`` hears of each skipped item once; ``on_failure(type, error)`` of each failed or
    stopped listing (not of ``still_listed``, whose failure only means "unknown")."""

    def __init__(
        self,
        source: PageSource,
        deadline: Deadline | None = None,
        *,
        on_junk: JunkReport = _skip_quietly,
        on_failure: FailureReport = _fail_quietly,
        fan_out: FanOut = in_order,
    ) -> None:
        self._source = source
        self._deadline = deadline or Deadline.unlimited()
        self._on_junk = on_junk
        self._on_failure = on_failure
        self._fan_out = fan_out
        self._junk_seen: Counter[tuple[str, str]] = Counter()  # (type, repr) -> most seen in one listing
        self._lock = threading.Lock()

    def pages(self, resource_type: str) -> Iterator[list[dict[str, Any]]]:
        """One type's pages, page by page: objects only, each with its type. Raises ListError."""
        this_listing: Counter[tuple[str, str]] = Counter()
        for page in self._source.pages(resource_type, self._deadline):
            items = []
            for item in page:
                if isinstance(item, dict):
                    if item.get("ShareResourceType") is None:
                        item = {**item, "ShareResourceType": resource_type}  # listed for the type asked
                    items.append(item)
                elif self._first_sighting(this_listing, (resource_type, repr(item))):
                    self._on_junk(resource_type, item)
            yield items

    def _first_sighting(self, this_listing: Counter[tuple[str, str]], key: tuple[str, str]) -> bool:
        """Whether this junk item is new to the run (a re-listing shows the same junk again)."""
        this_listing[key] += 1
        with self._lock:
            if this_listing[key] <= self._junk_seen[key]:
                return False
            self._junk_seen[key] = this_listing[key]
            return True

    def read(self, types: Sequence[str] = RESOURCE_TYPES, wanted: Mapping[str, set[str]] | None = None) -> Listed:
        """List each type (fanned out); with ``wanted``, a type's paging stops once all its ids are seen."""
        per_type = self._fan_out(lambda rtype: self._list_type(rtype, wanted), types)
        listed = Listed({}, [], {})
        for rtype, (items, error) in zip(types, per_type, strict=True):
            if error is not None:
                listed.errors[rtype] = error
            for item in items:
                inv_id = item.get("ShareInvitationId")
                if isinstance(inv_id, str):
                    listed.by_id.setdefault(inv_id, item)
                else:
                    listed.unnamed.append(item)
        return listed

    def _list_type(
        self, rtype: str, wanted: Mapping[str, set[str]] | None
    ) -> tuple[list[dict[str, Any]], ListError | None]:
        items: list[dict[str, Any]] = []
        still_wanted = set(wanted[rtype]) if wanted is not None else None
        try:
            for page in self.pages(rtype):
                items.extend(page)
                if still_wanted is not None:
                    still_wanted.difference_update(item.get("ShareInvitationId") for item in page)
                    if not still_wanted:
                        break  # every hinted id of this type is found: the rest of the pages are not needed
        except ListError as err:
            self._on_failure(rtype, err)
            return items, err
        return items, None

    def find(
        self,
        wanted: Mapping[str, set[str]],
        *,
        attempts: int = 1,
        wait_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Listed:
        """The wanted ids (resource type -> ids) as listed, under whatever type lists them. A type whose ids
        are not all listed yet is listed again after ``wait_seconds``, up to ``attempts`` listings, while
        the time left allows; a type whose listing failed is not listed again."""
        hinted = set().union(*wanted.values()) if wanted else set()
        found = Listed({}, [], {})
        for attempt in range(max(1, attempts)):
            missing = {t: ids - found.by_id.keys() for t, ids in wanted.items() if t not in found.errors}
            missing = {t: ids for t, ids in missing.items() if ids}
            if not missing:
                break
            if attempt > 0:
                if self._deadline.left() < wait_seconds + min_attempt_seconds():
                    break
                sleep(wait_seconds)  # a new invitation may take a moment to be listed
            listed = self.read(sorted(missing), wanted=missing)
            found.errors.update(listed.errors)
            # An id listed under another type than the event named still counts: the API is authoritative.
            found.by_id.update({i: item for i, item in listed.by_id.items() if i in hinted})
        return found

    def still_listed(self, invitation_id: str, resource_type: str) -> bool | None:
        """Whether a complete listing of the type holds the invitation; None when that cannot be known."""
        if resource_type not in RESOURCE_TYPES:
            return None
        try:
            for page in self.pages(resource_type):
                if any(item.get("ShareInvitationId") == invitation_id for item in page):
                    return True
        except ListError:
            return None
        return False
