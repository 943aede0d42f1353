"""Results domain, the top of the domains: counting a budget's countable ballots with the pure tally
engine, the staff preview of several rules side by side, the open-data export (a pabulib file that
``pbvote tally`` recounts), publication and the public results, the JSON API, and implementation
tracking of the funded projects (:mod:`pbvote.results.implementation`)."""
