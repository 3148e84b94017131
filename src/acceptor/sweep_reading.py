"""A sweep's reading: every type listed in passes, each invitation settled once, passes repeated while shifting.

Each pass is a pipeline (``pipeline``): every page is settled as soon as it is read. Whether answering
invitations while paging shifts later pages (an offset-based NextToken) is not documented. A type whose
invitations left the listing (accepted, rejected, already settled) between two of its page reads is
listed again in the next pass, and only what was not yet seen is settled, until a pass finds nothing new
or the passes run out; a type still shifting after the last pass is reported as a failed listing (what
it may have skipped waits for the next run). The OU answers a page needs are looked up before it is
settled, each sharer once per sweep, whichever type's reader asks first.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from acceptor.listing import FailureReport, Lister
from acceptor.outcomes import Outcome, Result
from acceptor.pipeline import Pipeline
from acceptor.wellarchitected import OUT_OF_TIME, PAGE_SIZE, ListError
from policy import OrgAncestry

Item = dict[str, Any]
Page = list[Item]
SharerLookup = Callable[[list[Item]], dict[str, OrgAncestry]]

# Outcomes after which the invitation is no longer listed: the listing may have shifted under the reader.
LEAVES_LISTING = frozenset({Result.ACCEPTED, Result.REJECTED, Result.ALREADY_SETTLED})


class SweepReading:
    """One sweep's reading across its passes. ``lookup`` (None: the policy has no OU rules) answers the
    ancestries of the sharers of some items; ``on_failure`` hears of each failed or still-shifting type."""

    def __init__(self, lister: Lister, *, lookup: SharerLookup | None, on_failure: FailureReport) -> None:
        self._lister = lister
        self._lookup = lookup
        self._on_failure = on_failure
        self._seen: set[str] = set()
        self.ancestries: dict[str, OrgAncestry] = {}  # sharer -> its place in the organization
        self._lock = threading.Lock()
        self._resolving = threading.Lock()
        self._left: Counter[str] = Counter()  # per type: invitations that left the listing in this pass
        self._shifted: set[str] = set()
        self._first = True

    def read(
        self,
        types: Sequence[str],
        settle: Callable[[Item], Outcome],
        *,
        workers: int,
        passes: int,
        expired: Callable[[], bool],
    ) -> None:
        """List ``types`` at most ``passes`` times, each pass's pages settled as they arrive (``pipeline``)."""

        def counted(item: Item) -> Outcome:
            outcome = settle(item)
            if outcome.result in LEAVES_LISTING:
                with self._lock:
                    self._left[str(item.get("ShareResourceType"))] += 1
            return outcome

        for number in range(passes):
            self._first, self._shifted = number == 0, set()
            self._left.clear()
            pipeline = Pipeline(counted, workers=workers, ahead=max(PAGE_SIZE, 2 * workers))
            pipeline.run([self._pages(rtype) for rtype in types])
            types = [rtype for rtype in types if rtype in self._shifted]
            if not types or expired():
                return
        for rtype in types:  # still shifting: what the last pass may have skipped waits for the next run
            error = ListError(OUT_OF_TIME, f"listed {passes} times and still shifting under the reader")
            self._on_failure(rtype, error)

    def _pages(self, rtype: str) -> Iterator[Page]:
        """One type's pages in this pass: only what no earlier read handed on, with its OU answers."""
        left_at_last_read = 0
        try:
            for page in self._lister.pages(rtype):
                fresh = []
                with self._lock:
                    if self._left[rtype] > left_at_last_read:
                        self._shifted.add(rtype)  # answered between two reads: this page may have shifted
                    left_at_last_read = self._left[rtype]
                    for item in page:
                        inv_id = item.get("ShareInvitationId")
                        if isinstance(inv_id, str):
                            if inv_id in self._seen:
                                continue
                            self._seen.add(inv_id)
                        elif not self._first:
                            continue  # an item without an id was decided (left pending) by the first pass
                        fresh.append(item)
                self._resolve(fresh)
                yield fresh
        except ListError as err:
            self._on_failure(rtype, err)

    def _resolve(self, items: Page) -> None:
        """Add the OU answers these items need (each sharer looked up once per sweep, whichever reader asks)."""
        if self._lookup is None:
            return
        with self._resolving:  # readers of other types wait: a sharer they need may be the one being looked up
            new = {item.get("SharedBy") for item in items} - self.ancestries.keys()
            if new:
                self.ancestries.update(self._lookup([{"SharedBy": sharer} for sharer in new]))
