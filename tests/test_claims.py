"""The claims machinery: verdict records, the regression gate, the paper's rounding, and claims as data."""

import dataclasses
import json
from decimal import Decimal

import pytest

from lionrepro.claims import measured as measured_claims
from lionrepro.claims import paper_arithmetic
from lionrepro.claims.verdicts import (
    CAVEAT,
    FAILS,
    HOLDS,
    MEASURED,
    NOT_YET,
    PAPER_ARITHMETIC,
    Check,
    claims,
    load_checks,
    regressions,
    rounded_like,
    write_claims,
)


def _check(verdict: str, name: str = "x", claim: str = "speedup") -> Check:
    return Check(claim, PAPER_ARITHMETIC, name, verdict, "e", "o", "d")


def test_every_claim_has_words_source_evidence_and_both_halves():
    for claim_id, spec in claims().items():
        assert spec["words"] and spec["source"] and spec["evidence"], claim_id
        assert claim_id in paper_arithmetic.CHECKS and claim_id in measured_claims.CHECKS, claim_id
        if any("tolerance" in key for key in spec):
            assert "tolerance_reason" in spec, f"{claim_id}: a tolerance needs its reason"


def test_paper_arithmetic_checks_are_paper_arithmetic_and_measured_ones_measured():
    for claim_id in claims():
        assert {c.kind for c in paper_arithmetic.CHECKS[claim_id]()} == {PAPER_ARITHMETIC}
        assert {c.kind for c in measured_claims.CHECKS[claim_id]()} == {MEASURED}


def test_a_verdict_falling_below_the_reference_is_a_regression():
    assert regressions([_check(CAVEAT)], [_check(HOLDS)])
    assert regressions([_check(FAILS)], [_check(CAVEAT)])
    assert not regressions([_check(HOLDS)], [_check(CAVEAT)])
    assert not regressions([_check(CAVEAT)], [_check(CAVEAT)])


def test_a_value_that_leaves_the_reference_tolerance_is_a_regression_even_with_the_same_verdict():
    reference = [dataclasses.replace(_check(HOLDS), value=-11.6, tolerance=5.7, tolerance_source="an interval")]
    inside = [dataclasses.replace(_check(HOLDS), value=-6.0)]
    outside = [dataclasses.replace(_check(HOLDS), value=-5.8)]
    assert not regressions(inside, reference)
    (problem,) = regressions(outside, reference)
    assert "value -11.6 -> -5.8 (+5.8), beyond the reference's tolerance of 5.7 (an interval)" in problem
    assert "lionrepro claims --accept" in problem
    assert not regressions(outside, [_check(HOLDS)])  # a reference without a tolerance gates the verdict only


def test_a_check_that_disappears_is_a_regression_and_unmeasured_never_outranks_measured():
    assert regressions([], [_check(HOLDS)])
    assert regressions([_check(NOT_YET)], [_check(FAILS)])
    assert not regressions([_check(FAILS)], [_check(NOT_YET)])


def test_unknown_verdicts_and_claims_are_refused():
    with pytest.raises(ValueError, match="verdict"):
        _check("fine")
    with pytest.raises(KeyError, match="claim"):
        _check(HOLDS, claim="faster")


def test_rounding_follows_the_printed_precision_half_up():
    assert rounded_like(Decimal("19.4123"), Decimal("20")) == Decimal("19")
    assert rounded_like(Decimal("14.3125"), Decimal("14.32")) == Decimal("14.31")
    assert rounded_like(Decimal("0.105"), Decimal("0.10")) == Decimal("0.11")
    assert rounded_like(Decimal("2.0152"), Decimal("2.02")) == Decimal("2.02")


def test_written_checks_round_trip_with_provenance_and_duplicates_are_refused(tmp_path):
    path = tmp_path / "claims.json"
    write_claims([_check(HOLDS, "a"), _check(CAVEAT, "b")], path, seed=0)
    payload = json.loads(path.read_text())
    assert payload["provenance"]["seed"] == 0 and "commit" in payload["provenance"]
    assert [c.name for c in load_checks(path)] == ["a", "b"]
    with pytest.raises(ValueError, match="twice"):
        write_claims([_check(HOLDS, "a"), _check(HOLDS, "a")], tmp_path / "other.json")
    assert not (tmp_path / "other.json").exists()


def test_a_profile_without_reference_verdicts_records_ungated_but_tiny_must_have_them(tmp_path):
    import os
    import subprocess
    import sys

    from lionrepro.provenance import REPO_ROOT, RESULTS_VARIABLE

    def claims(profile: str) -> subprocess.CompletedProcess:
        env = os.environ | {RESULTS_VARIABLE: str(tmp_path / profile), "HF_HUB_OFFLINE": "1"}
        command = [sys.executable, "-m", "lionrepro.stages.cli", "--profile", profile, "claims"]
        return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)

    paper = claims("paper")
    assert paper.returncode == 0, paper.stdout[-2000:] + paper.stderr[-2000:]
    assert "recorded, not gated" in paper.stdout and (tmp_path / "paper/claims.json").exists()
    tiny = claims("tiny")
    assert tiny.returncode != 0 and "the claims gate needs committed reference verdicts" in tiny.stdout
