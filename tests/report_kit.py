"""What the report wing's tests share: a synthetic `lionrepro experiments` results folder in the summary's layout of
several seeds (asr.recipe_runs), so that those tests hold whichever layout the committed results are in. Every number
is chosen here; the means and standard deviations come from the stage's own `pooled`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lionrepro import paper
from lionrepro.asr.recipe_runs import ALL_SEEDS, BASE, SUMMARY, pooled, seed_dir

SEEDS = [0, 1, 2]
COLUMNS = [b.column for b in paper.BENCHMARKS]
PROVENANCE = {"commit": "a" * 40, "device": "cpu: synthetic", "created_utc": "2026-01-01T00:00:00Z", "profile": "tiny"}
EN_LS = {0: 39.61, 1: 41.71, 2: 43.81}  # recipe's en_LS per seed: "41.71 ± 2.10"
SHARE = {0: 0.85, 1: 0.88, 2: 0.91}  # recipe's share in the spoken language per seed: "88.0 ± 3.0"
CUT_AT_BUDGET = {("recipe", 2): 1}  # hypotheses stopped at the token budget (a looping decode), by run and seed


def scores(out: Path, benchmarks: dict[str, float], share: float, cut: int = 0) -> dict[str, Any]:
    """One evaluation's entry (asr.recipe_runs.scores): per benchmark, per language and the 12-set average; its
    results.json holds the decoding record's count of `cut` hypotheses stopped at the token budget."""
    (out / "eval").mkdir(parents=True, exist_ok=True)
    record = {"decoding": {"hit_token_budget": cut}}
    (out / "eval" / "results.json").write_text(json.dumps(record), encoding="utf-8")
    codes = sorted({b.language.code for b in paper.BENCHMARKS if b.column in benchmarks})
    per_language = {code: [v for c, v in benchmarks.items() if c.startswith(f"{code}_")] for code in codes}
    languages = {code: sum(values) / len(values) for code, values in per_language.items()}
    return {
        "results": str(out / "eval" / "results.json"),
        "average_12": sum(benchmarks.values()) / 12 if len(benchmarks) == 12 else None,
        "languages": languages,
        "benchmarks": benchmarks,
        "implicit_lid": {"overall": share, "per_language": dict.fromkeys(codes, share), "counts": {}},
    }


def _trained(root: Path, name: str, seed: int, benchmarks: dict[str, float], share: float) -> dict[str, Any]:
    """A seed's entry, with its train.json and curve.jsonl written where the stage writes them; the recipe's seed 2
    has one hypothesis cut at the token budget (CUT_AT_BUDGET)."""
    out = seed_dir(root, name, seed)
    out.mkdir(parents=True)
    (out / "train.json").write_text(json.dumps({"provenance": PROVENANCE, "result": {}}), encoding="utf-8")
    points = [{"step": step, "loss": 5.0 / step + seed} for step in (10, 20, 30)]
    (out / "curve.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points), encoding="utf-8")
    evaluation = scores(out, benchmarks, share, CUT_AT_BUDGET.get((name, seed), 0))
    return {"checkpoint": str(out / "model"), "train_record": str(out / "train.json"), "train_wall_s": 1.0,
            "steps": 30, "stopped_by": "steps", **evaluation}  # fmt: skip


def experiments(results: Path) -> dict[str, Any]:
    """Write `<results>/experiments/` (the summary, each seed's train.json and curve.jsonl) and return the summary:
    the base evaluated once; `recipe` at three seeds (en_LS and the share as EN_LS and SHARE); `natural` at three
    seeds without ms_Fleurs (a partial copy of the corpora: no 12-set average)."""
    root = results / "experiments"
    base = {ALL_SEEDS: scores(root / BASE, dict.fromkeys(COLUMNS, 50.0), 0.9876)}
    recipe = {
        str(s): _trained(root, "recipe", s, {c: EN_LS[s] if c == "en_LS" else 20.0 + s for c in COLUMNS}, SHARE[s])
        for s in SEEDS
    }
    partial = [c for c in COLUMNS if c != "ms_Fleurs"]
    natural = {
        str(s): _trained(root, "natural", s, {c: 30.0 + i + s for i, c in enumerate(partial)}, 0.5) for s in SEEDS
    }
    summary = {
        "provenance": PROVENANCE,
        "inputs": {},
        "seeds": SEEDS,
        "wall_s": 1.0,
        "runs": {
            BASE: {"what": "the base checkpoint, not fine-tuned", "checkpoint": "base", "seeds": base, **pooled(base)},
            "recipe": {"what": "the recipe", "rows": "balanced", "tags": False, "seeds": recipe, **pooled(recipe)},
            "natural": {"what": "natural rows", "rows": "train", "tags": False, "seeds": natural, **pooled(natural)},
        },
        "comparisons": {},
    }
    (root / SUMMARY).write_text(json.dumps(summary), encoding="utf-8")
    return summary
