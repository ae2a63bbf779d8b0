"""The measured half of every claim: does our own run reproduce it? Read from results files, never typed.

Each function returns `Check` records built only from results files that stages wrote (with their provenance).
Where the stage that measures a claim has not run, or does not exist yet, the check says `not measured yet` and
what would measure it: it never passes.
"""

from __future__ import annotations

from lionrepro.claims import MEASURED, NOT_YET, Check


def pending(claim_id: str, name: str, needs: str) -> Check:
    return Check(claim_id, MEASURED, name, NOT_YET, "-", "-", f"not measured yet: {needs}")


CHECKS = {
    "balanced_counts": lambda: [
        pending("balanced_counts", "balanced training manifest", "needs the Lion-12 manifests (issue 4)")
    ],
    "no_language_tags": lambda: [
        pending("no_language_tags", "training targets and prompts", "needs the tiny fine-tuning run (issue 5)")
    ],
    "average_error": lambda: [
        pending("average_error", "12-benchmark average", "needs the tiny fine-tuning and evaluation (issue 5)")
    ],
    "competitive": lambda: [
        pending("competitive", "recipe against the language-tag ablation", "needs the tiny ablations (issue 5)")
    ],
    "speedup": lambda: [pending("speedup", "latency ratio", "needs `lionrepro speed` (issue 3)")],
    "cost": lambda: [pending("cost", "projected training cost", "needs `lionrepro cost` (issue 3)")],
    "model_size": lambda: [pending("model_size", "exact parameter counts", "needs `lionrepro speed` (issue 3)")],
}
