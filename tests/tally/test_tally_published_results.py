"""Files whose META rule we implement reproduce the published ``selected``."""

import pytest

from pbvote.tally import FILE_RULES, rule_for_file, run_rule


def test_meta_rule_reproduces_published_selection(shared_file, shared):
    pb, election = shared(shared_file)
    meta_rule = pb.meta_dict.get("rule", "")
    published = pb.selected()
    if meta_rule not in FILE_RULES or published is None:
        pytest.skip(f"META rule {meta_rule!r} not implemented or no selected column")
    rule, options = rule_for_file(meta_rule)
    outcome = run_rule(election, rule, **options)
    assert sorted(outcome.selected) == sorted(published)


def test_every_city_with_an_implemented_rule_is_checked(shared_dir, shared):
    checked = []
    for path in sorted(shared_dir.glob("*.pb")):
        pb, _ = shared(path.name)
        if pb.meta_dict.get("rule") in FILE_RULES and pb.selected() is not None:
            checked.append(path.name)
    # greedy (6 files counted with their variants), greedy-threshold, equalshares/add1
    assert len(checked) >= 9, checked
