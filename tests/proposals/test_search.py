"""Proposal search: words, not substrings; every word; the last one as a prefix; accents and case
ignored; typed operators are only text.  The same results on SQLite (FTS5) and PostgreSQL (GIN):
both are checked against one reference, the rule written out in Python (run the module on each)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.proposals.search import normalise, query_words
from pbvote.proposals.services import ProposalQuery, search_statement

CORPUS = [
    ("Trees on Elm Street", "Twenty trees along the street for shade."),
    ("Street lights", "Brighter lights on Mill Street."),
    ("Tree house in the park", "A wooden house up a tree for children."),
    ("Łódź cycling lanes", "Ścieżki rowerowe: zażółć gęślą jaźń."),
    ("Café on the square", "A naïve idea: coffee, cake and 3D-printed benches."),
    ("Straße festival", "Music; \"quotes\" and NEAR(odd words) * AND OR NOT."),
    ("Library garden", "Vegetables for everyone at the library."),
    ("Skatepark", "Ramps for skateboards, a treetop walk nearby."),
]


@pytest.fixture
def corpus(make_cycle, make_proposal):
    cycle = make_cycle()
    for title, body in CORPUS:
        make_proposal(cycle, status="submitted", title=title).body = body
    make_proposal(cycle, status="draft", title="Secret tree").body = "Not public."
    db.session.commit()
    return cycle


def found(cycle, text: str) -> list[str]:
    return [p.title for p in db.session.scalars(search_statement(cycle, ProposalQuery(text=text)))]


def reference(text: str) -> set[str]:
    """The rule, in Python: every word of the query is a word of the proposal, the last one may
    also be the start of one; a query without words finds nothing; no query, everything."""
    if not text.strip():
        return {title for title, _body in CORPUS}
    words = query_words(text)
    if not words:
        return set()
    titles = set()
    for title, body in CORPUS:
        mine = normalise(title + " " + body).split()
        if all(w in mine for w in words[:-1]) and any(m.startswith(words[-1]) for m in mine):
            titles.add(title)
    return titles


def test_a_word_is_not_found_inside_another(corpus):
    titles = set(found(corpus, "tree"))
    assert {"Trees on Elm Street", "Tree house in the park", "Skatepark"} == titles  # trees, tree, treetop
    assert "Street lights" not in titles
    assert set(found(corpus, "street")) == {"Trees on Elm Street", "Street lights"}
    assert found(corpus, "reet") == []


def test_every_word_must_match_and_the_last_may_be_a_prefix(corpus):
    assert found(corpus, "street lights") == ["Street lights"]
    assert found(corpus, "mill lig") == ["Street lights"]
    assert found(corpus, "lig mill") == []  # only the last word is a prefix
    assert set(found(corpus, "libr")) == {"Library garden"}


def test_accents_case_and_strokes_are_ignored(corpus):
    assert found(corpus, "lodz") == ["Łódź cycling lanes"]
    assert found(corpus, "ŁÓDŹ") == ["Łódź cycling lanes"]
    assert found(corpus, "zazolc gesla jazn") == ["Łódź cycling lanes"]
    assert found(corpus, "sciezki") == ["Łódź cycling lanes"]
    assert found(corpus, "naive cafe") == ["Café on the square"]
    assert found(corpus, "strasse") == ["Straße festival"]


def test_title_matches_come_first(corpus):
    # "tree" is in the title of two, and only in the description (treetop) of the skatepark.
    titles = found(corpus, "tree")
    assert titles[-1] == "Skatepark" and set(titles[:2]) == {"Trees on Elm Street", "Tree house in the park"}


@pytest.mark.parametrize("text", [
    '"', '"tree', 'tree"', "tree*", "*", "NEAR(tree street)", "tree AND street", "tree OR", "NOT tree",
    "title:tree", "{search_title}: tree", "'); DROP TABLE proposals; --", "tree & street | !x", "tree:*",
    "^tree", "a:b", "\\", "%_", "((", "…", "\u0000"[:0] + "-tree", "@@@",
])
def test_query_syntax_is_only_text(corpus, text):
    assert set(found(corpus, text)) == reference(text)


def test_a_query_without_words_finds_nothing(corpus):
    assert found(corpus, "!!! *** ???") == []
    # An empty query is no search at all: every public proposal.
    assert len(found(corpus, "  ")) == len(CORPUS)


def test_the_index_follows_edits_and_deletions(corpus):
    proposal = db.session.scalars(db.select(Proposal).where(Proposal.title == "Skatepark")).one()
    proposal.title = "Skate plaza"
    proposal.body = "Ramps and rails."
    db.session.commit()
    assert found(corpus, "plaza") == ["Skate plaza"] and "Skate plaza" not in found(corpus, "treetop")
    db.session.delete(proposal)
    db.session.commit()
    assert found(corpus, "plaza") == []
    hidden = db.session.scalars(db.select(Proposal).where(Proposal.status == ProposalStatus.DRAFT)).one()
    assert hidden.search_title == "secret tree"  # the words are stored, drafts are filtered out


def test_the_list_page_searches(client, corpus):
    page = client.get(f"/cycles/{corpus.slug}/proposals?q=tree").get_data(as_text=True)
    assert "Tree house in the park" in page and "Street lights" not in page
    assert client.get(f"/cycles/{corpus.slug}/proposals?q=%22NEAR(*").status_code == 200


WORDS = st.sampled_from(["tree", "TREES", "street", "stre", "lódz", "lodz", "cafe", "naïve", "3d", "house",
                         "NEAR", "AND", "OR", "NOT", "the", "a", "ścieżki", "strasse", "straße", "lights", "t"])
PUNCTUATION = st.text(alphabet='"*():^{}-+\'\\%_&|!:. ', max_size=4)
QUERIES = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(WORDS, PUNCTUATION), max_size=6).map(" ".join),
    st.lists(st.one_of(WORDS, PUNCTUATION), max_size=6).map("".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=QUERIES)
def test_random_queries_never_fail_and_follow_the_rule(corpus, text):
    text = text.replace("\x00", "")  # a request never carries NUL (pbvote/nul_guard.py)
    assert set(found(corpus, text)) == reference(text)
