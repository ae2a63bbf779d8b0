"""The measured half of every claim: does our own run reproduce it? Read from results files, never typed.

Each function returns `Check` records built only from results files that stages wrote (with their provenance).
Where the stage that measures a claim has not run, or does not exist yet, the check says `not measured yet` and
what would measure it: it never passes.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from lionrepro import paper
from lionrepro.asr import architectures
from lionrepro.asr.recipe_runs import SUMMARY, experiments_dir
from lionrepro.claims import measured_checkpoints, measured_experiments
from lionrepro.claims.staleness import command, post_hoc
from lionrepro.claims.verdicts import (
    CAVEAT,
    FAILS,
    HOLDS,
    MEASURED,
    NOT_HERE,
    Check,
    claim,
    fmt,
    pending,
    rounded_like,
    within_tolerance,
)
from lionrepro.corpora.data_record import data_record_path
from lionrepro.corpora.manifest import manifest_fingerprint, read_manifest
from lionrepro.provenance import REPO_ROOT, read_json, results_dir


def _shares(counts: Counter) -> str:
    total = sum(counts.values())
    return ", ".join(f"{key} {fmt(100 * n / total, 1)}%" for key, n in sorted(counts.items()))


def _rows_record(run: dict[str, Any]) -> str:
    """The training record that says what rows a run trained on: its first seed's (every seed trains on the same
    rows)."""
    return next(iter(run["seeds"].values()))["train_record"]


def _recipe_manifest() -> tuple[Path, dict[str, Any]] | str:
    """The balanced manifest the recipe run trained on, with its record, found where its record says or where the
    data stage put it, and recognised by its content fingerprint; else why it cannot be had here."""
    summary_path = experiments_dir() / SUMMARY
    if not summary_path.exists():
        return f"{summary_path} not found: run {command('experiments')}"
    summary = read_json(summary_path)
    if "recipe" not in summary["runs"] or not summary.get("inputs", {}).get("manifests"):
        return f"{summary_path} holds no recipe run with its inputs: run {command('experiments')}"
    record = read_json(Path(_rows_record(summary["runs"]["recipe"])))
    wanted = summary["inputs"]["manifests"]["balanced"]
    candidates = [Path(record["provenance"]["manifest"])]
    if data_record_path().exists():
        candidates.append(Path(read_json(data_record_path())["balanced_manifest"]))
    for path in candidates:
        if path.exists() and manifest_fingerprint(path) == wanted:
            return path, record
    return f"the manifest the recipe trained on ({wanted[:12]}) is not on this machine: run {command('data')}"


def balanced_counts() -> list[Check]:
    """Count the balanced manifest the recipe trained on, row by row, per language and per dataset."""
    names = ("balanced training manifest", "datasets equal within each language after Stage 1")
    found = _recipe_manifest()
    if isinstance(found, str):
        return [pending("balanced_counts", name, found) for name in names]
    manifest, record = found
    balanced = read_manifest(manifest)
    summary = read_json(experiments_dir() / SUMMARY)
    natural_run = summary["runs"].get("natural")
    natural = Counter(read_json(Path(_rows_record(natural_run)))["rows_per_language"]) if natural_run else None
    per_language = Counter(row["language"] for row in balanced)
    counts = read_json(manifest.with_suffix(".counts.json"))
    evidence = {
        "manifest": str(manifest),
        "recipe_record": _rows_record(summary["runs"]["recipe"]),
        "commit": summary["provenance"]["commit"],
    }
    if dict(per_language) != record["rows_per_language"]:
        raise ValueError(f"{manifest} counts {dict(per_language)}, the recipe's record {record['rows_per_language']}")
    unequal = {
        lang["language"]: sorted({d["after_stage1"] for d in counts["datasets"] if d["language"] == lang["language"]})
        for lang in counts["languages"]
    }
    spread = 0 if counts["reading"] == "union" else 1  # the comment reading splits N*_l over K_l: equal to within one
    unequal = {code: sizes for code, sizes in unequal.items() if max(sizes) - min(sizes) > spread}
    return [
        Check(
            "balanced_counts",
            MEASURED,
            names[0],
            HOLDS if len(set(per_language.values())) == 1 else FAILS,
            "equal utterances per language (25% each)",
            ", ".join(f"{code} {n}" for code, n in sorted(per_language.items())) + f"; {len(balanced)} rows",
            f"Counted in the manifest the recipe trained on, as its record also counts it ({counts['reading']} "
            f"reading, seed {counts['seed']}). "
            + (
                f"Natural shares of the {sum(natural.values())} training utterances (the `natural` run's): "
                f"{_shares(natural)}."
                if natural
                else ""
            ),
            evidence,
            value=len(balanced),
            tolerance=0,
            tolerance_source="counted exactly",
        ),
        Check(
            "balanced_counts",
            MEASURED,
            names[1],
            FAILS if unequal else HOLDS,
            "every dataset of a language holds N*_l rows after Stage 1"
            if counts["reading"] == "union"
            else "every dataset of a language holds N*_l / K_l rows, to within one",
            "; ".join(f"{code}: {sizes}" for code, sizes in unequal.items()) or "equal in every language",
            "From the counts that Algorithm 1 recorded with the manifest.",
            evidence,
            value=len(unequal),
            tolerance=0,
            tolerance_source="counted exactly",
        ),
    ]


SPREAD = "the spread of the committed runs on the device the verdict rests on; 10% where there is only one run"


def _spread(runs: list[tuple[Path, dict[str, Any]]], value_of: Any, value: float) -> float:
    """How far a value may move: max - min over the runs on the latest run's device type, at least 10% of the value
    when a single run gives no spread."""
    kind = runs[-1][1].get("device_type")
    values = [v for _, run in runs if run.get("device_type") == kind and (v := value_of(run)) is not None]
    spread = max(values) - min(values) if len(values) > 1 else 0.0
    return spread if spread > 0 else 0.1 * abs(value)


def _train_split_gpu_hours(run: dict[str, Any]) -> float | None:
    """GPU-hours for one epoch of Table 1's train split at a cost run's measured Qwen3-ASR-1.7B throughput."""
    model = run["models"].get("qwen3-asr-1.7b", {})
    if model.get("status") != "ok":
        return None
    return run["train_split_hours"] / model["audio_hours_per_hour"]


def measurement_runs(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    """Results files of one kind ("speed", "cost" or "decode"): the committed GPU runs (results/measured/*/, read by
    every profile) and this profile's own (<results>/<kind>_<device>.json), CPU runs first, then GPU runs, each
    oldest first. The last is the one a verdict rests on: the newest GPU run when there is one, since the paper
    measured on GPUs; the others are named beside it."""
    # every profile's: random weights time the same in each; named relative to here, as results files are
    committed = Path(os.path.relpath(REPO_ROOT / "results" / "measured"))
    paths = sorted(committed.glob(f"*/{kind}_cuda.json")) + sorted(results_dir().glob(f"{kind}_*.json"))
    runs = [(path, read_json(path)) for path in paths]
    runs.sort(key=lambda run: (run[1].get("device_type") == "cuda", run[1]["provenance"]["created_utc"]))
    return runs


def _source(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    prov = payload["provenance"]
    return {"results": str(path), "device": prov["device"], "commit": prov["commit"], "created": prov["created_utc"]}


def _where(payload: dict[str, Any]) -> str:
    device = payload["provenance"]["device"]
    if payload.get("device_type") == "cuda":
        return f"measured on {device}, full depth"
    return f"a CPU measurement ({device}), depth-extrapolated to full depth"


def speedup() -> list[Check]:
    spec = claim("speedup")
    target, tolerance = Decimal(spec["stated"]["speedup"]), Decimal(spec["relative_tolerance"])
    runs = measurement_runs("speed")
    names = {size: f"latency ratio MERaLiON-2-10B-ASR / {model}" for size, model in architectures.POLYGLOT_OF.items()}
    if not runs:
        return [
            pending("speedup", name, f"no speed results: run {command('speed')} or benchmarks/gpu.sh")
            for name in names.values()
        ]
    path, latest = runs[-1]
    checks = []
    for size, name in names.items():
        ratio = latest["ratios"][f"meralion_over_{size}"]["measured"]
        seen = [run["ratios"][f"meralion_over_{size}"]["measured"] for _, run in runs if run is not latest]
        seen = [fmt(r) for r in seen if r is not None]
        models = latest["models"]
        if ratio is None:
            checks.append(
                Check(
                    "speedup",
                    MEASURED,
                    name,
                    NOT_HERE,
                    f"about {target}x",
                    "-",
                    f"not measured here: the measurement failed or was unreliable ({path})",
                    _source(path, latest),
                )
            )
            continue
        decimal_ratio = Decimal(str(ratio))
        verdict = within_tolerance(decimal_ratio, target, tolerance)
        meralion, qwen = models[architectures.MERALION], models[size]
        paper_ratio = latest["ratios"][f"meralion_over_{size}"]["paper_table3_polyglot_lion"]
        rtfx = meralion["throughput"]["rtfx"], qwen["throughput"]["rtfx"]
        checks.append(
            Check(
                "speedup",
                MEASURED,
                name,
                verdict,
                f"about {target}x (Table 3: {fmt(paper_ratio)}x)",
                f"{fmt(meralion['latency_s']['mean'], 4)} / {fmt(qwen['latency_s']['mean'], 4)} s = {fmt(ratio)}x",
                f"Same architectures with random weights, {_where(latest)}: {latest['dtype']}, {latest['attention']} "
                f"attention, {latest['decoding']}, {latest['settings']['new_tokens']} new tokens, batch 1, "
                f"clips like the paper's test sets. Batched throughput (RTFx) {fmt(rtfx[0], 1)} vs {fmt(rtfx[1], 1)}: "
                f"{fmt(rtfx[1] / rtfx[0])}x. "
                + (f"Other runs: {', '.join(seen)}x. " if seen else "")
                + "With one framework and one decoding loop for every model, the architecture alone gives this ratio; "
                "a larger ratio in the paper would come from how each model was served, which the paper does not "
                f"say. From {path}.",
                _source(path, latest),
                value=ratio,
                tolerance=_spread(runs, lambda run, s=size: run["ratios"][f"meralion_over_{s}"]["measured"], ratio),
                tolerance_source=SPREAD,
            )
        )
    return checks + protocol_speedup(target, tolerance)


def protocol_speedup(target: Decimal, tolerance: Decimal) -> list[Check]:
    """The same ratio under Table 3's own protocol (each clip decodes its reference's length) with decoding that is
    not launch-bound (static cache, each step a CUDA graph replay), from the newest decode-levers run."""
    runs = [run for run in measurement_runs("decode") if run[1].get("device_type") == "cuda"]
    names = {
        size: f"latency ratio MERaLiON-2-10B-ASR / {model}, Table 3's protocol, CUDA-graph decoding"
        for size, model in architectures.POLYGLOT_OF.items()
    }
    if not runs:
        return [
            pending("speedup", name, "no GPU decode results: run benchmarks/gpu.sh on a GPU") for name in names.values()
        ]

    def ratio(run: dict[str, Any], size: str, lever: str) -> float | None:
        pair = [run["models"].get(m, {}).get("levers", {}).get(lever, {}) for m in (architectures.MERALION, size)]
        if any(entry.get("status") != "ok" for entry in pair):
            return None
        return pair[0]["latency_s"]["mean"] / pair[1]["latency_s"]["mean"]

    checks = []
    for size, name in names.items():
        both = [run for run in runs if ratio(run[1], size, "graph") is not None]  # timed side by side, one run
        if not both:
            checks.append(pending("speedup", name, "no GPU decode run timed both models with the graph lever"))
            continue
        path, latest = both[-1]
        value, eager = ratio(latest, size, "graph"), ratio(latest, size, "generate")
        lat = {m: latest["models"][m]["levers"]["graph"]["latency_s"]["mean"] for m in (architectures.MERALION, size)}
        checks.append(
            Check(
                "speedup",
                MEASURED,
                name,
                within_tolerance(Decimal(str(value)), target, tolerance),
                f"about {target}x",
                f"{fmt(lat[architectures.MERALION], 4)} / {fmt(lat[size], 4)} s = {fmt(value)}x",
                f"Same architectures with random weights, measured on {latest['device_name']}, {latest['dtype']}: "
                f"{len(latest['protocol']['clips'])} clips shaped like the test sets, each decoding its reference's "
                "length (assumed tokens per second of speech), static KV cache with each step replayed as a CUDA "
                f"graph. Through transformers' generate instead: {fmt(eager) if eager else '-'}x. "
                + (
                    f"Other runs: {', '.join(fmt(v) for _, r in runs[:-1] if (v := ratio(r, size, 'graph')))}x. "
                    if len(runs) > 1
                    else ""
                )
                + f"From {path}.",
                _source(path, latest),
                value=value,
                tolerance=_spread(both, lambda run, s=size: ratio(run, s, "graph"), value),
                tolerance_source=SPREAD,
            )
        )
    return checks


def model_size() -> list[Check]:
    stated = claim("model_size")["stated"]
    target = Decimal(stated["times_larger"])
    runs = measurement_runs("speed")
    name = "exact parameter counts"
    if not runs:
        return [pending("model_size", name, f"no speed results (they record the exact counts): run {command('speed')}")]
    path, latest = runs[-1]
    params = latest["params"]
    big, small = params["meralion-2-10b-asr"], params["qwen3-asr-1.7b"]
    ratio = Decimal(big) / Decimal(small)
    return [
        Check(
            "model_size",
            MEASURED,
            name,
            HOLDS if rounded_like(ratio, target) == target else FAILS,
            f"{target}x ({stated['baseline']} over {stated['model']})",
            f"{big:,} / {small:,} = {fmt(ratio)}x",
            "Counted on the meta device from the architectures at their published configurations (tied embeddings "
            f"once). Qwen3-ASR-0.6B: {params['qwen3-asr-0.6b']:,} ({fmt(Decimal(big) / params['qwen3-asr-0.6b'])}x). "
            "The nominal sizes in the models' names (10B, 1.7B) give the paper's ratio; the exact counts do not: "
            f"Qwen3-ASR-1.7B holds {fmt(Decimal(small) / 10**9)}B parameters with its audio encoder.",
            _source(path, latest),
            value=float(ratio),
            tolerance=0,
            tolerance_source="counted exactly",
        )
    ]


def _balanced_hours(reading: str) -> Decimal:
    """Audio hours in one epoch of Algorithm 1's output over Table 1's train split (each dataset's mean length)."""
    from lionrepro.claims.paper_arithmetic import table1_train_plan

    plan = table1_train_plan(reading)
    mean_hours = {(r.language.code, r.dataset): r.hours["train"] / r.samples["train"] for r in paper.table1()}
    return sum(mean_hours[(d.language, d.dataset)] * d.final for d in plan.datasets)


def cost() -> list[Check]:
    stated = claim("cost")["stated"]
    ours = paper.cost_row(stated["system"])
    runs = measurement_runs("cost")
    name = "training throughput against the paper's budget"
    if not runs:
        return [pending("cost", name, f"no cost results: run {command('cost')} or benchmarks/gpu.sh")]
    path, latest = runs[-1]
    model = latest["models"]["qwen3-asr-1.7b"]
    if model["status"] != "ok":
        return [
            Check(
                "cost",
                MEASURED,
                name,
                NOT_HERE,
                "-",
                "-",
                f"not measured here: {model['error']}",
                _source(path, latest),
            )
        ]
    rate = Decimal(str(model["audio_hours_per_hour"]))
    budget = ours.gpu_count * ours.training_time_hours
    price = ours.estimated_cost_usd / budget
    epochs = {
        "train split": Decimal(str(latest["train_split_hours"])),
        **{f"balanced, {reading} reading": _balanced_hours(reading) for reading in ("union", "comment")},
    }
    needed = {label: hours / rate for label, hours in epochs.items()}
    fits = all(gpu_hours <= budget for gpu_hours in needed.values())
    return [
        Check(
            "cost",
            MEASURED,
            name,
            CAVEAT if fits else FAILS,
            f"one epoch of Qwen3-ASR-1.7B fine-tuning fits {budget} GPU-hours (${ours.estimated_cost_usd})",
            "; ".join(
                f"{label}: {fmt(epochs[label], 1)} h audio -> {fmt(hours)} GPU-h ({fmt(budget / hours, 1)} epochs in "
                f"{budget} h, ${fmt(hours * price)} per epoch)"
                for label, hours in needed.items()
            ),
            f"Training throughput {fmt(rate, 1)} audio hours per hour ({_where(latest)}; {latest['precision']}, "
            f"AdamW, batch {model['batch_size']}, MFU {fmt(100 * model['mfu'], 1) if model['mfu'] else '-'}%). "
            f"Dollars at the paper's implied ${fmt(price, 4)}/GPU-h. Caveat: measured on this device, not the "
            "paper's RTX PRO 6000, and the paper does not say how many epochs it ran; the $81 is 48 h of rental, "
            + (
                "which our throughput shows to be ample for one epoch of each reading."
                if fits
                else "which our throughput shows to be too little for one epoch of "
                + ", ".join(label for label, hours in needed.items() if hours > budget)
                + "."
            )
            + f" From {path}.",
            _source(path, latest),
            value=float(needed["train split"]),
            tolerance=_spread(runs, lambda run: _train_split_gpu_hours(run), float(needed["train split"])),
            tolerance_source=SPREAD,
        )
    ]


def _marked(measure: Callable[[], list[Check]]) -> Callable[[], list[Check]]:
    """`measure`, its checks marked post hoc where they entered the repository after the results they read."""

    def checks() -> list[Check]:
        return [
            dataclasses.replace(check, post_hoc=post_hoc(check.name, check.evidence["commit"]))
            if "commit" in check.evidence
            else check
            for check in measure()
        ]

    return checks


CHECKS = {
    claim_id: _marked(measure)
    for claim_id, measure in {
        "balanced_counts": balanced_counts,
        "no_language_tags": measured_experiments.no_language_tags,
        "average_error": lambda: measured_experiments.average_error() + measured_checkpoints.evaluated_average(),
        "competitive": lambda: measured_experiments.competitive() + measured_checkpoints.evaluated_competitive(),
        "speedup": speedup,
        "cost": cost,
        "model_size": model_size,
    }.items()
}
