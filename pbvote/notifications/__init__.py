"""Notifications: in-app and by e-mail, each person choosing which.

What a person is told about (the kinds, :mod:`pbvote.notifications.kinds`): an invitation to
co-author a proposal, a reply to their comment, their proposal's review outcome, voting opening and
results published in a cycle they took part in.

Where it sits.  Several domains send notifications, so this package lies just above ``auth`` and
below ``cycles``::

    auth  <  notifications  <  cycles  <  proposals  <  ballots  <  results

It imports ``pbvote.auth.models`` and the shared helpers (``extensions``, ``audit``, ``errors``,
``timeutil``, ``forms``, ``bounds``, ``unit_of_work``) and nothing above: domains call its services
(:func:`~pbvote.notifications.services.notify`, :func:`~pbvote.notifications.services.announce`),
never the other way round.  Where it needs something only a higher domain knows, the domain hands
it in:

* who took part in a cycle: each domain that records participation registers a query with
  :func:`pbvote.notifications.participants.register` (proposals: authors, co-authors, supporters,
  commenters; ballots: voters);
* things that happen by date rather than by a request (voting opening): the worker sends the
  :data:`pbvote.notifications.worker.worker_pass` signal on every pass, and the domain that owns
  the event listens (``pbvote.ballots.notices``).

Each domain keeps what it tells in a ``notices`` module of its own (``pbvote.proposals.notices``:
invitations, replies, review outcomes; ``pbvote.ballots.notices``: voting opened, voters;
``pbvote.cycles.notices``: :func:`~pbvote.cycles.notices.notify_results_published`, for the
results domain to call when it publishes).

How an e-mail travels.  :func:`~pbvote.notifications.services.notify` writes the in-app
notification and, when the person wants e-mail, the rendered e-mail into the outbox
(:class:`~pbvote.notifications.models.OutboxEmail`) in the caller's transaction: both exist if and
only if the change that caused them is committed.  The mail worker (``pbvote worker``; ``pbvote up``
runs one) claims due e-mails, sends them through SMTP (``PBVOTE_MAIL_*``; the log when no server is
configured), marks each sent only once the server accepted it, and retries with backoff when it
did not, so an e-mail outlives a mail server that is down.
"""
