"""The share-event router of a sharer account: each successful ``Create*Share`` of this account goes to the
default event bus of the account it was shared with (docs/forwarding.md).

``routing`` reads the CloudTrail event (pure), ``forwarded`` is the event the recipient receives,
``delivery`` puts it on the recipient's bus or in the dead-letter queue, ``settings`` is the environment.
The handler is ``handlers.router``.
"""
