"""What Stage 1 of Algorithm 1 does on Lion-12: the recipe (both stages) against Stage 2 alone.

On the tiny profile natural proportions beat the recipe on Tamil (results/experiments/, three seeds). Both give Tamil
about a quarter of the training rows (Table 1's Tamil is a quarter of its utterances), so the two differ on Tamil only
in how those rows are split between its four datasets: natural proportions follow the datasets' sizes, Stage 1 gives
each dataset the same share (its 47-utterance FLEURS repeated 30 times). This study trains a third system, Algorithm 1
with Stage 1 skipped (`lionrepro balance --reading none`: languages equalised, each language's datasets in their
natural proportions), with the recipe's settings at the recipe's three seeds, and sets it beside the recipe and
natural proportions from `results/experiments/`, per language and per test set.

    python results/studies/stage1-ablation/study.py run      # resumable; two jobs at a time
    python results/studies/stage1-ablation/study.py report   # summary.json, README.md

Run it from the root of a clean checkout (a `git worktree`) with Lion-12 built (`results/data/`), so that the results'
provenance names a clean commit; `--out` (default: this script's folder) may be in another checkout. The rows'
manifest (`rows.jsonl`, not committed) is remade from Lion-12's training manifest and the profile's seed; its counts
(`rows.counts.json`) are committed, and so are the runs' records and hypotheses (not their weights). The base's
scores are copied from `results/experiments/base/eval/` into `base/eval/` (reused by the run, not committed twice).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
RUN = "stage2-only"
ROWS = "rows.jsonl"
COMPARED = ("recipe", "natural")  # the profile's runs this one is set beside, from results/experiments/


def _setup() -> tuple[dict[str, Any], dict[str, Any], Path]:
    from lionrepro.asr.recipe_runs import base_option
    from lionrepro.config import load_profile
    from lionrepro.corpora.data_record import data_summary

    profile = load_profile("tiny")
    base, _ = base_option(profile)
    return profile, data_summary(), Path(base)


def run(out: Path, workers: int) -> None:
    """Write Stage 2's rows from Lion-12's training manifest, then train and score them at the profile's seeds."""
    from lionrepro.asr.recipe_runs import BASE, run_all
    from lionrepro.asr.training_loop import TrainConfig
    from lionrepro.corpora.balanced_sampling import NO_STAGE1, describe, write_balanced_manifest

    profile, data, base = _setup()
    if not (out / BASE / "eval").exists():  # the base's scores, reused (the same inputs), not made or committed twice
        shutil.copytree(REPO / "results" / "experiments" / BASE / "eval", out / BASE / "eval")
    plan, _ = write_balanced_manifest(
        [Path(data["manifests"]["train"])], out / ROWS, reading=NO_STAGE1, seed=profile["seed"], profile="tiny"
    )
    print("\n".join(describe(plan)))
    recipe = profile["experiments"]["runs"]["recipe"]
    what = "Algorithm 1 without Stage 1: languages equalised, each language's datasets in natural proportions; no tags"
    runs = {RUN: {**recipe, "what": what}}

    def config_of(run: dict[str, Any], seed: int) -> TrainConfig:
        settings = {**profile["train"], "seed": seed, "tags": run["tags"], "max_minutes": 0.0}
        return TrainConfig.from_section(settings, progress=False)

    entries = run_all(
        runs, [RUN], config_of, profile, base, out, {**data, "balanced_manifest": str(out / ROWS)},
        seeds=profile["experiments"]["seeds"], workers=workers, device="cpu", progress=True,
    )  # fmt: skip
    (out / "runs.json").write_text(json.dumps(entries[RUN], indent=2) + "\n")


def _shares(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each test set's dataset's share of the training rows, % (keyed by Table 2's column)."""
    from lionrepro.paper import BENCHMARKS

    counts = Counter((row["language"], row["dataset"]) for row in rows)
    return {b.column: 100 * counts[b.language.code, b.dataset] / len(rows) for b in BENCHMARKS}


def _hypotheses(folders: list[Path]) -> list[list[dict[str, Any]]]:
    from lionrepro.asr.evaluation import HYPOTHESES_FILE, read_hypotheses

    return [read_hypotheses(folder / "eval" / HYPOTHESES_FILE) for folder in folders]


def _differences(a: list[list[dict]], b: list[list[dict]], settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """b - a per language and per test set, with the profile's bootstrap over seeds and test utterances (as
    `lionrepro experiments` compares runs: lionrepro.claims.bootstrap), a test set's alone on its own rows."""
    from lionrepro.claims.bootstrap import paired_bootstrap
    from lionrepro.paper import BENCHMARKS

    def only(seeds: list[list[dict]], language: str, dataset: str) -> list[list[dict]]:
        return [[r for r in rows if (r["language"], r["dataset"]) == (language, dataset)] for rows in seeds]

    found = paired_bootstrap(a, b, **settings)["languages"]
    for bench in BENCHMARKS:
        key = (bench.language.code, bench.dataset)
        found[bench.column] = paired_bootstrap(only(a, *key), only(b, *key), **settings)["languages"][key[0]]
    return found


def _system(name: str, entry: dict[str, Any], rows: list[dict[str, Any]] | None) -> dict[str, Any]:
    per_seed = list(entry["seeds"].values())
    return {
        "system": name,
        "what": entry["what"],
        "seeds": sorted(entry["seeds"]),
        "benchmarks": entry["benchmarks"],
        "benchmarks_sd": (entry["sd"] or {}).get("benchmarks"),
        "languages": entry["languages"],
        "average_12": entry["average_12"],
        "average_12_sd": (entry["sd"] or {}).get("average_12"),
        "in_spoken_language": entry["implicit_lid"]["overall"],
        "train_minutes": statistics.fmean(s["train_wall_s"] for s in per_seed) / 60 if "train_wall_s" in per_seed[0]
        else None,
        "training_shares": None if rows is None else _shares(rows),
    }  # fmt: skip


def report(out: Path) -> None:
    from lionrepro.config import load_profile
    from lionrepro.corpora.data_record import data_summary
    from lionrepro.corpora.manifest import read_manifest
    from lionrepro.provenance import read_json

    experiments = json.loads((REPO / "results" / "experiments" / "summary.json").read_text())
    ours = json.loads((out / "runs.json").read_text())
    settings = load_profile("tiny")["experiments"]["bootstrap"]
    data = data_summary()
    rows = {
        "recipe": read_manifest(Path(data["balanced_manifest"])),
        "natural": read_manifest(Path(data["manifests"]["train"])),
        RUN: read_manifest(out / ROWS),
    }
    runs = experiments["runs"]
    systems = [_system("base", runs["base"], None)]
    systems += [_system(name, runs[name], rows[name]) for name in COMPARED]
    systems.append(_system(RUN, ours, rows[RUN]))
    folders = {name: [REPO / "results" / "experiments" / name / f"seed-{s}" for s in runs[name]["seeds"]]
               for name in COMPARED}  # fmt: skip
    folders[RUN] = [out / RUN / f"seed-{s}" for s in ours["seeds"]]
    hypotheses = {name: _hypotheses(paths) for name, paths in folders.items()}
    comparisons = {
        f"{RUN}-minus-{name}": _differences(hypotheses[name], hypotheses[RUN], settings) for name in COMPARED
    }
    records = [read_json(folder / "train.json")["provenance"] for folder in folders[RUN]]
    made = {"commits": sorted({r["commit"] for r in records}), "devices": sorted({r["device"] for r in records})}
    summary = {"made": made, "systems": systems, "comparisons": comparisons, "bootstrap": settings}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "README.md").write_text(_readme(summary))


def _cell(mean: float | None, sd: float | None = None) -> str:
    if mean is None:
        return ""
    return f"{mean:.1f}" if sd is None else f"{mean:.1f} ± {sd:.1f}"


def _difference(entry: dict[str, Any]) -> str:
    low, high = entry["low"], entry["high"]
    mark = " *" if entry["significant"] else ""
    return f"{entry['difference']:+.1f} [{low:+.1f}, {high:+.1f}]{mark}"


def _readme(summary: dict[str, Any]) -> str:
    from lionrepro.paper import BENCHMARKS

    columns = [b.column for b in BENCHMARKS]
    languages = ("en", "zh", "ms", "ta")

    def table(header: list[str], body: list[list[str]]) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in body])

    shares = table(
        ["system", *columns],
        [[s["system"], *(_cell(s["training_shares"][c]) for c in columns)] for s in summary["systems"]
         if s["training_shares"]],
    )  # fmt: skip
    errors = table(
        ["system", "seeds", *columns, *languages, "12-set avg", "in spoken lang. %", "train min"],
        [
            [
                s["system"],
                ", ".join(s["seeds"]),
                *(_cell(s["benchmarks"][c], (s["benchmarks_sd"] or {}).get(c)) for c in columns),
                *(_cell(s["languages"][code]) for code in languages),
                _cell(s["average_12"], s["average_12_sd"]),
                _cell(100 * s["in_spoken_language"]),
                _cell(s["train_minutes"]),
            ]
            for s in summary["systems"]
        ],
    )
    differences = table(
        ["difference", *languages, *columns],
        [[name, *(_difference(c[k]) for k in (*languages, *columns))] for name, c in summary["comparisons"].items()],
    )
    made = summary["made"]
    boot = summary["bootstrap"]
    return f"""# Stage 1 of Algorithm 1, ablated on Lion-12

Generated by `study.py report` from `runs.json` and the runs' records in this folder and from `results/experiments/`
(base, recipe, natural proportions); `study.py` says why and how. `{RUN}`: Algorithm 1 with Stage 1 skipped
(languages equalised by Stage 2, each language's datasets in their natural proportions), fine-tuned from the committed
base with the tiny profile's `[train]` settings at the recipe's seeds. Made at commit(s)
{", ".join(c[:12] for c in made["commits"])} on {"; ".join(made["devices"])}.

## Share of the training rows per test set's dataset, %

{shares}

## Error per test set (WER; CER for Mandarin), mean ± sd over seeds

{errors}

## Differences, {RUN} minus each system (points; [{100 * boot["level"]:.0f}% interval]; * the interval excludes 0)

Two-level bootstrap over the seeds and the test utterances ({boot["resamples"]} resamples), as `lionrepro experiments`
compares its runs; a language's difference is the mean over its test sets, each test set's is bootstrapped on its
own rows.

{differences}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--out", type=Path, default=HERE)
    go.add_argument("--workers", type=int, default=2)
    summary = sub.add_parser("report")
    summary.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    if args.command == "run":
        run(args.out, args.workers)
    report(args.out)


if __name__ == "__main__":
    main()
