"""Read and write the pabulib ``.pb`` format (https://pabulib.org/format).

A ``.pb`` file has three sections, each a ``;``-separated CSV table with a
header line::

    META                 PROJECTS                        VOTES
    key;value            project_id;cost;...             voter_id;vote;...
    budget;100000        1;5000;...                      7;1,3;...

Fields follow CSV quoting (``"a;b"``, doubled ``""``); a UTF-8 byte-order
mark and CRLF line ends are accepted. :func:`parse` keeps the file *as
text* in a :class:`PabulibFile` - every META key (known or not), every
project and vote column, in order - so :func:`dumps` writes back the same
data (parse -> write -> parse gives an equal :class:`PabulibFile`).
:meth:`PabulibFile.to_election` then builds the typed :class:`Election`
the rules work on, scaling decimal money to integers exactly: every number
is read by :func:`pbvote.tally.amounts.parse_amount` (non-negative, decimal
notation, bounded size), so a file either gives an exact election or an error.

**Real files deviate from the format.** What the reference library
(pabutools) reads, this reader reads too, the same way, and records a
:class:`PabulibWarning` naming the line (``PabulibFile.warnings``, also on
the :class:`Election`): a vote listing a project twice counts it once; a
field that starts with a quote but is not quoted as a whole
(``"Odkupmy" i my - ...``) is read as Python's ``csv`` reader reads it; a
trailing ``;``, a row missing optional trailing fields, an empty item in a
vote list, a decimal comma in an amount, a voter id used twice, META counts
that do not match the file. Anything it cannot read unambiguously is a
:class:`PabulibError` naming the line - never a traceback.

pbvote's own META keys (the format has no field for them; other readers
ignore them): ``pbvote_rule`` and ``pbvote_parameters`` (the rule and the
parameters that reproduce a published outcome, :mod:`.published`),
``pbvote_exclusive_groups`` (groups of mutually exclusive projects,
``a,b;c,d,e``) and ``pbvote_money_scale`` (the power of ten money is
counted in, when the written amounts do not show it: 100 for cents).

Parsing is one pass over the file with the standard ``csv`` module plus a
dictionary of distinct ballots, so it is linear in the file size; the
tolerant reading of a half-quoted field is a second pass, only for a file
that has one.
"""


from .file import (
    GROUPS_KEY,
    INT_META_KEYS,
    MONEY_META_KEYS,
    SCALE_KEY,
    SECTIONS,
    WARNING_KINDS,
    PabulibError,
    PabulibFile,
    PabulibWarning,
)
from .reading import load_election, parse, read
from .writing import dumps, from_election, groups_text, write

__all__ = [
    "GROUPS_KEY", "INT_META_KEYS", "MONEY_META_KEYS", "SCALE_KEY", "SECTIONS", "WARNING_KINDS",
    "PabulibError", "PabulibFile", "PabulibWarning", "dumps", "from_election", "groups_text",
    "load_election", "parse", "read", "write",
]
