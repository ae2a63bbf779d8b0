"""The claims session: every replication test records its checks here; the session writes results/claims.json.

`gate` is the CI gate: a check whose verdict falls below the committed reference (results/reference/claims.json)
fails its test, so a change that makes a claim regress cannot land.
"""

from __future__ import annotations

import os

import pytest

from lionrepro.claims.staleness import PROFILE_VARIABLE
from lionrepro.claims.verdicts import (
    ACCEPTING,
    NOT_YET,
    Check,
    claims_file,
    load_checks,
    reference_file,
    regressions,
    write_claims,
)

os.environ["HF_HUB_OFFLINE"] = "1"
_RECORDED: list[Check] = []


def _gated_profile() -> bool:
    """The tiny profile (CI's) must have committed reference verdicts; another profile has none until its first
    run is accepted (`lionrepro --profile paper claims --accept`), and is recorded ungated until then."""
    return os.environ.get(PROFILE_VARIABLE, "tiny") == "tiny"


@pytest.fixture(scope="session")
def reference() -> list[Check]:
    path = reference_file()
    if path.exists():
        return load_checks(path)
    if _gated_profile() and not os.environ.get(ACCEPTING):
        pytest.fail(f"{path} is missing: the claims gate needs committed reference verdicts")
    return []


@pytest.fixture
def gate(reference):
    """Record checks for results/claims.json, fail on any that regressed against the reference, and show the
    measured halves that have no results yet as skipped with their reason (never as passed)."""

    def record(checks: list[Check]) -> list[Check]:
        assert checks, "a claim module produced no checks"
        _RECORDED.extend(checks)
        mine = {check.key for check in checks}
        relevant = [ref for ref in reference if ref.key in mine or _same_group(ref, checks)]
        problems = regressions(checks, relevant)
        if os.environ.get(ACCEPTING):  # `lionrepro claims --accept`: report what the new reference gives up
            for problem in problems:
                print(f"accepting a regression: {problem}")
        else:
            assert not problems, "claims regressed:\n" + "\n".join(problems)
        waiting = [check for check in checks if check.verdict == NOT_YET]
        if waiting:
            pytest.skip("; ".join(f"{check.name}: {check.detail}" for check in waiting))
        return checks

    return record


def _same_group(ref: Check, checks: list[Check]) -> bool:
    return any(ref.claim == check.claim and ref.kind == check.kind for check in checks)


def pytest_sessionfinish(session, exitstatus):
    """Write every recorded check. A run that recorded checks but left some of the reference out (a deselected
    claim module) fails, naming them: the gate must not shrink silently. Under `lionrepro claims --accept`, which
    refuses pytest arguments and so always runs every claim module, a missing check is one removed on purpose."""
    if not _RECORDED:
        return
    recorded = {check.key for check in _RECORDED}
    reference = load_checks(reference_file()) if reference_file().exists() else []
    missing = sorted(ref.key for ref in reference if ref.key not in recorded)
    write_claims(_RECORDED, claims_file(), pytest_exit_status=int(exitstatus), missing_reference_checks=missing)
    if not reference_file().exists() and not os.environ.get(ACCEPTING):
        profile = os.environ.get(PROFILE_VARIABLE, "tiny")
        print(f"\nno reference verdicts at {reference_file()}: recorded, not gated; "
              f"`lionrepro --profile {profile} claims --accept` makes this run the reference")  # fmt: skip
    if missing and os.environ.get(ACCEPTING):  # a whole run under --accept: these checks are gone on purpose
        print("\naccepting the removal of reference checks no longer made:\n" + "\n".join(f"  {k}" for k in missing))
    elif missing:
        print("\nreference checks not recorded in this run (their claim modules were deselected or failed early):")
        print("\n".join(f"  {key}" for key in missing))
        session.exitstatus = 1
