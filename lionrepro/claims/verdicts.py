"""Claims as data, checks as records, and the verdict file every report is built from.

A claim (lionrepro/claims/claims.toml) is checked twice where possible: against the paper's own numbers (paper
arithmetic) and against our measured run. Each check is a `Check` record; `results/claims.json` holds them all,
written atomically with provenance. `regressions` compares verdicts with committed reference results, which is
what makes the claims a CI gate.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lionrepro.provenance import provenance, read_json, results_dir, write_json_atomic

HOLDS = "holds"
CAVEAT = "holds with caveat"
FAILS = "does not hold"
NOT_HERE = "not measured here"
NOT_YET = "not measured yet"
# Rank for regression gating: a check may not move down this list. Unmeasured checks rank lowest.
VERDICT_RANK = {HOLDS: 3, CAVEAT: 2, FAILS: 1, NOT_HERE: 0, NOT_YET: 0}

# Set by `lionrepro claims --accept`: the gate reports regressions instead of failing, so that a reviewed change of
# verdicts can become the new reference.
ACCEPTING = "LIONREPRO_ACCEPTING"
PAPER_ARITHMETIC = "paper arithmetic"
MEASURED = "measured"


def claims_file() -> Path:
    """The verdicts of the last claims run."""
    return results_dir() / "claims.json"


def reference_file() -> Path:
    """Committed verdicts that no claims run may fall below (the CI gate); `lionrepro claims --accept` updates it."""
    return results_dir() / "reference" / "claims.json"


@cache
def claims() -> dict[str, dict[str, Any]]:
    """Every claim by id, as written in claims.toml."""
    text = resources.files("lionrepro.claims").joinpath("claims.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def claim(claim_id: str) -> dict[str, Any]:
    if claim_id not in claims():
        raise KeyError(f"unknown claim {claim_id!r}; known: {sorted(claims())}")
    return claims()[claim_id]


@dataclass(frozen=True)
class Check:
    """One check of one claim: what was expected, what was observed, and the verdict with its reason."""

    claim: str
    kind: str  # PAPER_ARITHMETIC or MEASURED
    name: str  # what this check looks at, unique within its claim and kind
    verdict: str
    expected: str
    observed: str
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)  # source files, table cells, or results files used
    # A measured check's number, and how far a later run's may move from the reference's before the gate fails
    value: float | None = None
    tolerance: float | None = None
    tolerance_source: str = ""  # where the tolerance comes from (the spread of seeds or runs, an interval, exactness)
    post_hoc: str = ""  # non-empty (why) when the check entered the repository after the results it reads

    def __post_init__(self) -> None:
        if self.verdict not in VERDICT_RANK:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        if self.claim not in claims():
            raise KeyError(f"unknown claim {self.claim!r}")

    @property
    def key(self) -> str:
        return f"{self.claim} / {self.kind} / {self.name}"


def pending(claim_id: str, name: str, needs: str) -> Check:
    """A measured check whose results do not exist yet: it says what would measure it, and never passes."""
    return Check(claim_id, MEASURED, name, NOT_YET, "-", "-", f"not measured yet: {needs}")


def rounded_like(value: Decimal, printed: Decimal) -> Decimal:
    """`value` rounded half-up to as many decimals as `printed` shows: the paper's own rounding."""
    return value.quantize(Decimal(1).scaleb(printed.as_tuple().exponent), rounding=ROUND_HALF_UP)


def within_tolerance(value: Decimal, target: Decimal, relative_tolerance: Decimal) -> str:
    """The verdict on a number against the paper's: HOLDS when it rounds to the target at the target's printed
    precision, CAVEAT within the claim's relative tolerance, else FAILS."""
    if rounded_like(value, target) == target:
        return HOLDS
    return CAVEAT if abs(value - target) <= relative_tolerance * target else FAILS


def fmt(value: Decimal | float, places: int = 2) -> str:
    return f"{Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)}"


def write_claims(checks: list[Check], path: Path, **provenance_fields: Any) -> dict[str, Any]:
    """Write every check, sorted by key, with provenance; refuse duplicate keys (each check is recorded once)."""
    keys = [check.key for check in checks]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"checks recorded twice: {duplicates}")
    payload = {
        "provenance": provenance(**provenance_fields),
        "checks": [asdict(check) for check in sorted(checks, key=lambda c: c.key)],
    }
    write_json_atomic(path, payload)
    return payload


def load_checks(path: Path) -> list[Check]:
    return [Check(**entry) for entry in read_json(path)["checks"]]


def regressions(current: list[Check], reference: list[Check]) -> list[str]:
    """Checks whose verdict ranks below the reference's, checks whose value left the reference's tolerance, and
    reference checks no longer reported; each says how to accept the change deliberately."""
    now = {check.key: check for check in current}
    accept = "if deliberate: `lionrepro claims --accept`, and review results/reference/claims.json in the commit"
    problems = []
    for ref in reference:
        if ref.key not in now:
            problems.append(f"{ref.key}: in the reference ({ref.verdict}) but no longer checked")
            continue
        check = now[ref.key]
        if VERDICT_RANK[check.verdict] < VERDICT_RANK[ref.verdict]:
            problems.append(f"{ref.key}: {ref.verdict} -> {check.verdict} ({check.detail}); {accept}")
        if ref.value is not None and ref.tolerance is not None and check.value is not None:
            moved = check.value - ref.value
            if abs(moved) > ref.tolerance + 1e-9:
                problems.append(
                    f"{ref.key}: value {ref.value:.4g} -> {check.value:.4g} ({moved:+.4g}), beyond the reference's "
                    f"tolerance of {ref.tolerance:.4g} ({ref.tolerance_source}); {accept}"
                )
    return problems
