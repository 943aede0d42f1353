"""Paper ballots at community sessions (part of the ballots domain): sessions and their volunteers,
printed sheets with serials, keyboard-first double entry, the discrepancy queue, reconciliation, the
voter register that keeps one person to one ballot across paper, kiosk and online, and the
session's kiosk.  The design: ``docs/paper.md``."""
