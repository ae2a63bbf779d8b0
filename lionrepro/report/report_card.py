"""tables/claims.md as a reader takes it in: a one-screen report card, then one short section per claim.

The card has one row per claim: its words, what the paper states, the number recomputed from the paper, the number
measured here (with the profile's device), the verdict, and one line of evidence. Which checks stand for a claim
is data (`card` in claims.toml). Every check follows in its claim's section, with its details. The CSV and LaTeX
files keep one row per check, for machines.
"""

from __future__ import annotations

import re

from tabulate import tabulate

from lionrepro.claims.staleness import made_by
from lionrepro.claims.verdicts import MEASURED, NOT_YET, PAPER_ARITHMETIC, Check, claims

_NAMED = ("model", "baseline", "system")  # who, not a number
EVIDENCE_CHARACTERS = 150


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]
    return sentence if len(sentence) <= EVIDENCE_CHARACTERS else sentence[: EVIDENCE_CHARACTERS - 1] + "…"


def _first_clause(text: str) -> str:
    """An observation's first clause: the card's column stays narrow; the claim's section has the rest."""
    head, _, rest = text.partition("; ")
    return head + (" …" if rest else "")


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def headline(claim_id: str, checks: list[Check]) -> tuple[Check | None, Check | None]:
    """The claim's paper-arithmetic check and measured check for the card (claims.toml `card`)."""
    card = claims()[claim_id]["card"]
    by_name = {(c.kind, c.name): c for c in checks if c.claim == claim_id}
    paper = by_name.get((PAPER_ARITHMETIC, card["paper"]))
    candidates = [by_name[(MEASURED, name)] for name in card["measured"] if (MEASURED, name) in by_name]
    measured = next((c for c in candidates if c.verdict != NOT_YET), candidates[0] if candidates else None)
    return paper, measured


def card_rows(checks: list[Check]) -> list[list[str]]:
    rows = []
    for claim_id, spec in claims().items():
        paper, measured = headline(claim_id, checks)
        stated = ", ".join(f"{k} {v}" for k, v in spec.get("stated", {}).items() if k not in _NAMED) or "-"
        where = measured.evidence.get("device", "") if measured else ""
        rows.append(
            [
                f"{spec['words']} (`{claim_id}`)",
                stated,
                f"{paper.observed} ({paper.verdict})" if paper else "-",
                (_first_clause(measured.observed) + (f" [{where}]" if where else "")) if measured else "-",
                measured.verdict if measured else "-",
                _first_sentence(measured.detail) if measured else "-",
            ]
        )
    return [[_cell(c) for c in row] for row in rows]


CARD_HEADERS = ["claim (paper's words)", "paper states", "recomputed from the paper", "measured here", "verdict",
                "evidence"]  # fmt: skip


def claims_markdown(checks: list[Check], profile: str) -> str:
    """The card, then a section per claim: its checks in a table and each check's details."""
    parts = [
        f"**Report card ({profile} profile)**",
        tabulate(card_rows(checks), CARD_HEADERS, tablefmt="github", disable_numparse=True),
    ]
    for claim_id, spec in claims().items():
        mine = [c for c in checks if c.claim == claim_id]
        rows = [
            [
                c.kind,
                c.name,
                c.verdict + (f" (post hoc: {c.post_hoc})" if c.post_hoc else ""),
                c.observed,
                "-" if c.value is None else f"{c.value:.4g} ± {c.tolerance:.2g}",
                made_by({"commit": c.evidence["commit"]}) if "commit" in c.evidence else "-",
            ]
            for c in mine
        ]
        headers = ["check", "name", "verdict", "observed", "value ± tolerance", "results"]
        details = "\n".join(f"- **{c.kind}, {c.name}**: expected {c.expected}. {c.detail}" for c in mine)
        parts += [
            f"## `{claim_id}`: {spec['words']}\n\nSource: {spec['source']}.",
            tabulate([[_cell(x) for x in r] for r in rows], headers, tablefmt="github", disable_numparse=True),
            details,
        ]
    return "\n\n".join(parts) + "\n"
