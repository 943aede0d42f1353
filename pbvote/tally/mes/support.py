"""Who supports what, as every MES engine reads it, and what one election needs
to run MES at any share (:class:`Setup`)."""

from __future__ import annotations

from operator import itemgetter

from ..profile import Profile, Q


def _gather(light: list[int]):
    """A function ``cls -> tuple(cls[g] for g in light)`` running at C speed."""
    if len(light) > 1:
        return itemgetter(*light)
    if light:
        g = light[0]
        return lambda cls: (cls[g],)
    return lambda cls: ()


class Support:
    """Per project, the groups of identical ballots that support it.

    ``parts[c]`` lists ``(utility, light, heavy, classes_of)``: one entry
    for approval-style utilities, one per points value otherwise; ``light``
    are the groups of a single voter (counted at C speed with ``Counter``),
    ``heavy`` the ``(group, weight)`` pairs of larger groups, and
    ``classes_of(cls)`` the tuple ``cls[g] for g in light``, gathered at C
    speed by an ``itemgetter`` built once.
    """

    def __init__(self, profile: Profile, utility: str):
        self.points = points = utility == "points"
        self.n_groups = len(profile.groups)
        self.parts: list[list[tuple[int, list, list]]] = [[] for _ in range(profile.m)]
        self.total_utility = [0] * profile.m
        if not points:
            lights, heavies = profile.split_supporters()
            for c in range(profile.m):
                if profile.approvals[c]:
                    self.parts[c].append((1, lights[c], heavies[c], _gather(lights[c])))
                    self.total_utility[c] = profile.approvals[c]
            return
        split: dict[tuple[int, int], tuple[list, list]] = {}
        for g, (projects, _, w) in enumerate(profile.groups):
            for c, u in zip(projects, profile.scores(g)):
                if u <= 0:
                    continue
                light, heavy = split.setdefault((c, u), ([], []))
                if w == 1:
                    light.append(g)
                else:
                    heavy.append((g, w))
        for (c, u), (light, heavy) in sorted(split.items()):
            self.parts[c].append((u, light, heavy, _gather(light)))
            self.total_utility[c] += u * (len(light) + sum(w for _, w in heavy))

    @classmethod
    def of(cls, profile: Profile, utility: str) -> "Support":
        """Built once per election and kind of utility (cached on the profile)."""
        key = ("mes-support", utility == "points")
        if key not in profile.cache:
            profile.cache[key] = cls(profile, utility)
        return profile.cache[key]


class Setup:
    """One election, utility and tie-break, ready for MES runs at any share.

    ``tie[c]``: project ``c``'s rank in the tie-break order; ``mult[c]``: what
    a voter's payment per unit of ``rho`` is multiplied by (the cost for
    ``cost`` utilities, else 1); ``free``: supported projects that cost
    nothing (funded first, in tie-break order); ``alive``: the projects MES
    considers; ``base``: the equal share, budget / number of voters.
    """

    def __init__(self, profile: Profile, utility: str, tie_break: str):
        self.profile = profile
        self.utility = utility
        self.tie = profile.tie_rank(tie_break)
        self.support = Support.of(profile, utility)
        self.mult = list(profile.costs) if utility == "cost" else [1] * profile.m
        self.free, self.alive = [], []
        for c in range(profile.m):
            if not self.support.parts[c]:
                continue  # nobody supports it
            (self.free if profile.costs[c] == 0 else self.alive).append(c)
        self.free.sort(key=self.tie.__getitem__)
        n = profile.n_voters
        self.base = Q(profile.budget) / n if n else Q(0)

    def outcome(self, order: list[int]) -> tuple[bool, bool]:
        """``(over budget, exhaustive)`` of a funded ``order``: the two tests of add1."""
        costs, budget = self.profile.costs, self.profile.budget
        spent = sum(costs[c] for c in order)
        if spent > budget:
            return True, False
        chosen = set(order)
        return False, all(spent + costs[c] > budget for c in self.alive if c not in chosen)
