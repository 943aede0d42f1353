"""Implementation tracking: what happens to a project once a published result funds it.

Part of the results domain (it reads the live publications to know which projects are funded, and
proposals' pledges to show what residents promised).  Each funded project gets a
:class:`~pbvote.results.implementation.models.Implementation` (status, progress, dates, a public
note) with milestones and photos; a pledge made at the proposal stage is marked fulfilled with a
:class:`~pbvote.results.implementation.models.PledgeFulfilment` row here, not on the pledge itself,
because proposals sit below results and know nothing of delivery.

Modules: ``models``, ``services`` (the rules and the cycle's summary), ``forms``, ``views`` (staff
pages), ``public`` (the public page per cycle and the photos).
"""
