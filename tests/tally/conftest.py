"""Fixtures for the tally engine tests: the shared pabulib files and their
reference outcomes (``../shared/pabulib`` next to the repository, or
``$PBVOTE_PABULIB_DIR``)."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def pabulib_dir() -> Path | None:
    env = os.environ.get("PBVOTE_PABULIB_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "pabulib"
    return path if (path / "pabutools_outcomes.json").is_file() else None


@functools.lru_cache(maxsize=None)
def reference() -> dict:
    d = pabulib_dir()
    if d is None:
        return {}
    return {f["file"]: f for f in json.loads((d / "pabutools_outcomes.json").read_text())["files"]}


@functools.lru_cache(maxsize=None)
def exact_reference() -> dict:
    d = pabulib_dir()
    if d is None:
        return {}
    lines = (d / "exact_mes_outcomes.jsonl").read_text().splitlines()
    return {r["file"]: r for r in map(json.loads, filter(None, lines))}


@functools.lru_cache(maxsize=None)
def load(name: str):
    """A shared file parsed once per session: ``(PabulibFile, Election)``."""
    from pbvote.tally import pabulib

    pb = pabulib.read(pabulib_dir() / name)
    return pb, pb.to_election()


def shared_files() -> list[str]:
    d = pabulib_dir()
    return sorted(p.name for p in d.glob("*.pb")) if d else []


NO_DATA = "shared pabulib files not found (../shared/pabulib or $PBVOTE_PABULIB_DIR)"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long reference runs (CI runs them; -m 'not slow' skips)")


@pytest.fixture
def shared_dir() -> Path:
    d = pabulib_dir()
    if d is None:
        pytest.skip(NO_DATA)
    return d


@pytest.fixture
def shared():
    """``shared(name) -> (PabulibFile, Election)``, parsed once per session."""
    if pabulib_dir() is None:
        pytest.skip(NO_DATA)
    return load


@pytest.fixture
def references():
    """``(pabutools reference by file, exact MES reference by file)``."""
    return reference(), exact_reference()


# add1 runs that take at most about a second here (the others are marked slow)
FAST_ADD1 = {
    "Netherlands_Amsterdam_621.pb", "Poland_Wieliczka_2023_Green_Budget.pb", "Poland_Lodz_2022.pb",
    "Netherlands_Assen_2024.pb", "Worldwide_Mechanical_Turk_Knapsack_7.pb",
    "Switzerland_Zurich_D10.pb", "Switzerland_Zurich_S5R.pb", "Poland_Swiecie_2023.pb",
    "Poland_Czestochowa_2024_Lisiniec.pb", "Poland_Krakow_2021_Mistrzejowice.pb",
    "Poland_Katowice_2023.pb", "Poland_Wroclaw_2015_150_-_500.pb",
    "US_Stanford_Dataset_PB_Cambridge_2015_vote_knapsacks.pb",
}
REFERENCE_RULES = (
    "greedy_cost_sat", "greedy_card_sat", "maxwelfare_cost_sat", "maxwelfare_card_sat",
    "mes_cost", "mes_cost_greedy", "mes_cost_add1", "mes_cost_add1_greedy", "mes_card",
    "phragmen", "greedy_points", "maxwelfare_points", "mes_points", "mes_points_greedy",
)


def pytest_generate_tests(metafunc):
    names = metafunc.fixturenames
    if "shared_file" in names:
        files = shared_files()
        metafunc.parametrize("shared_file", files or [pytest.param(None, marks=pytest.mark.skip(NO_DATA))])
    if "reference_case" in names:
        cases = []
        ref, exact = reference(), exact_reference()
        for name in shared_files():
            rules = {rule: entry for rule, entry in ref.get(name, {}).get("rules", {}).items()
                     if entry.get("status") == "ok"}
            for rule, entry in exact.get(name, {}).items():
                if isinstance(entry, dict) and "selected" in entry:
                    rules.setdefault(rule, entry)  # pabutools did not finish: exact reference
            for rule in REFERENCE_RULES:
                if rule not in rules:
                    continue
                slow = "add1" in rule and name not in FAST_ADD1
                marks = [pytest.mark.slow] if slow else []
                cases.append(pytest.param((name, rule), id=f"{name[:-3]}-{rule}", marks=marks))
        metafunc.parametrize("reference_case", cases or [pytest.param(None, marks=pytest.mark.skip(NO_DATA))])
