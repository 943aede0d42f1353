"""Results domain, the top of the domains: counting a budget's countable ballots with the pure tally
engine, the staff preview of several rules side by side, and the open-data export (a pabulib file
that ``pbvote tally`` recounts).  Publication of results will live here too."""
