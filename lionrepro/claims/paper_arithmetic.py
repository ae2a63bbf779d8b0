"""The paper-arithmetic half of every claim: is the claim consistent with the paper's own numbers?

Each function recomputes what a claim rests on from the published cells (lionrepro.paper) with exact decimal
arithmetic and the paper's rounding, and returns `Check` records. An inconsistency is a finding, recorded with
the numbers on both sides; it is never hidden and never a crash.
"""

from __future__ import annotations

from decimal import Decimal

from lionrepro import paper
from lionrepro.claims.verdicts import (
    CAVEAT,
    FAILS,
    HOLDS,
    NOT_HERE,
    PAPER_ARITHMETIC,
    Check,
    claim,
    fmt,
    rounded_like,
    within_tolerance,
)
from lionrepro.corpora import balanced_sampling
from lionrepro.languages import LANGUAGES, language


def _check(claim_id: str, name: str, verdict: str, expected: str, observed: str, detail: str, **evidence) -> Check:
    return Check(claim_id, PAPER_ARITHMETIC, name, verdict, expected, observed, detail, evidence)


# --- balanced counts -------------------------------------------------------------------------------------------


def table1_consistency() -> list[Check]:
    """Table 1's printed totals against the sums of its rows and of its splits."""
    rows, printed = paper.table1(), paper.table1_printed_total()
    problems = []
    for split in paper.SPLITS:
        for unit, value_of in (
            ("samples", lambda r, s: Decimal(r.samples[s])),
            ("hours", lambda r, s: r.hours[s]),
        ):
            column = f"{split}_{unit}"
            total = sum(value_of(row, split) for row in rows)
            if total != printed[column]:
                problems.append(f"{column}: rows sum to {total}, printed {printed[column]}")
    for row in rows:
        if sum(row.samples.values()) != row.total_samples:
            problems.append(
                f"{row.key}: splits sum to {sum(row.samples.values())} samples, printed {row.total_samples}"
            )
        if sum(row.hours.values()) != row.total_hours:
            problems.append(f"{row.key}: splits sum to {sum(row.hours.values())} h, printed {row.total_hours}")
    observed = "; ".join(problems) or f"all sums match ({printed['train_samples']} train utterances)"
    return [
        _check(
            "balanced_counts",
            "Table 1 totals",
            FAILS if problems else HOLDS,
            "printed totals equal the sums of rows and of splits",
            observed,
            "Table 1 is the input of Algorithm 1 and of the cost claim; its sums are checked exactly.",
            source=paper.source("table1"),
        )
    ]


def table1_train_plan(reading: str, seed: int = 0) -> balanced_sampling.BalancedPlan:
    """Algorithm 1 applied to a manifest with Table 1's train counts (labels only: index arithmetic)."""
    counts = {(row.language.code, row.dataset): row.samples["train"] for row in paper.table1()}
    return balanced_sampling.balance(*balanced_sampling.labels_from_counts(counts), seed=seed, reading=reading)


def algorithm1_on_table1() -> list[Check]:
    train = {row.key: row.samples["train"] for row in paper.table1()}
    total_train = sum(train.values())
    shares = {}
    for row in paper.table1():
        shares[row.language.code] = shares.get(row.language.code, 0) + row.samples["train"]
    natural = ", ".join(f"{code} {fmt(Decimal(100 * n) / total_train, 1)}%" for code, n in sorted(shares.items()))
    checks, totals = [], {}
    for reading in balanced_sampling.READINGS:
        plan = table1_train_plan(reading)
        per_language = {lang.language: lang.final for lang in plan.languages}
        totals[reading] = plan.indices.size
        equal = len(set(per_language.values())) == 1
        checks.append(
            _check(
                "balanced_counts",
                f"Algorithm 1 on Table 1 ({reading} reading)",
                HOLDS if equal else FAILS,
                "equal utterances per language (25% each)",
                ", ".join(f"{code} {n}" for code, n in sorted(per_language.items()))
                + f"; N** = {plan.n_star_star}; {plan.indices.size} rows",
                f"Natural train shares: {natural}. Stage-2 factors R_l: "
                + ", ".join(f"{lang.language} {lang.replication}" for lang in plan.languages)
                + f". {fmt(Decimal(int(plan.indices.size)) / total_train)}x the {total_train} train utterances.",
                source=paper.source("table1"),
                counts=plan.counts(),
            )
        )
    checks.append(
        _check(
            "balanced_counts",
            "Algorithm 1 is unambiguous",
            CAVEAT,
            "one training-set size",
            f"union reading {totals['union']} rows, comment reading {totals['comment']} rows",
            "The loop makes a language K_l x N*_l rows after Stage 1, the comment on line 8 says N*_l; both balance "
            "the languages exactly, but the training set differs in size by "
            f"{fmt(Decimal(totals['union']) / totals['comment'])}x. The paper does not say which it ran.",
            source="Algorithm 1",
        )
    )
    return checks


# --- no language tags ------------------------------------------------------------------------------------------


def no_language_tags() -> list[Check]:
    return [
        _check(
            "no_language_tags",
            "published numbers",
            NOT_HERE,
            "-",
            "-",
            "not measured here: no number in the paper describes the training targets or prompts; the claim is "
            "checked on our own run's tokenized targets (measured half).",
        )
    ]


# --- average error and competitiveness -------------------------------------------------------------------------


def table2_averages() -> list[Check]:
    spec = claim("average_error")
    tolerance, threshold = Decimal(spec["tolerance"]), Decimal(spec["exclusion_threshold"])
    checks = []
    for row in paper.table2():
        cells = list(row.cells.values())
        mean_all = sum(cells) / len(cells)
        kept = [cell for cell in cells if cell <= threshold]
        mean_rule = sum(kept) / len(kept)
        excluded = [column for column, cell in row.cells.items() if cell > threshold]
        if rounded_like(mean_rule, row.avg) == row.avg:
            verdict, how = HOLDS, "equals the mean under the caption's rule"
        elif abs(mean_rule - row.avg) <= tolerance:
            verdict, how = (
                CAVEAT,
                f"is within {tolerance} of the mean under the caption's rule (rounding of the cells)",
            )
        else:
            verdict = FAILS
            if rounded_like(mean_all, row.avg) == row.avg:
                how = "matches the mean of all 12 cells: the excluded cells were averaged in"
            elif abs(mean_all - row.avg) <= tolerance:
                how = "is within rounding of the mean of all 12 cells: the excluded cells were averaged in"
            else:
                how = "matches neither the mean under the caption's rule nor the mean of all 12 cells"
        checks.append(
            _check(
                "average_error",
                f"Table 2 average of {row.model}",
                verdict,
                f"printed avg {row.avg}",
                f"mean of the {len(kept)} cells <= {threshold}%: {fmt(mean_rule)}; mean of all 12: {fmt(mean_all)}",
                f"The printed average {how}."
                + (f" Cells over {threshold}%: {', '.join(excluded)}." if excluded else ""),
                source=paper.source("table2"),
            )
        )
    stated = spec["stated"]
    printed = paper.error_row(stated["model"]).avg
    checks.append(
        _check(
            "average_error",
            "abstract's average",
            HOLDS if Decimal(stated["average"]) == printed else FAILS,
            f"{stated['model']}: {stated['average']} (abstract)",
            f"Table 2 prints {printed}",
            "The abstract's number against Table 2's.",
            source=paper.source("table2"),
        )
    )
    return checks


def competitive() -> list[Check]:
    spec = claim("competitive")
    stated, tolerance = spec["stated"], Decimal(spec["relative_tolerance"])
    ours, theirs = paper.error_row(stated["model"]), paper.error_row(stated["baseline"])

    def verdict(gap: Decimal, base: Decimal) -> str:
        return HOLDS if gap <= 0 else CAVEAT if gap <= tolerance * base else FAILS

    gap = ours.avg - theirs.avg
    wins = [b.column for b in paper.BENCHMARKS if ours.cells[b.column] < theirs.cells[b.column]]
    checks = [
        _check(
            "competitive",
            "12-benchmark average against the baseline",
            verdict(gap, theirs.avg),
            f"{stated['model']} at most {fmt(100 * tolerance, 0)}% above {stated['baseline']} ({theirs.avg})",
            f"{ours.avg} vs {theirs.avg}: {'+' if gap > 0 else ''}{gap} points ({fmt(100 * gap / theirs.avg)}%)",
            f"{stated['model']} is lower on {len(wins)} of 12 benchmarks ({', '.join(wins)}). The abstract quotes "
            f"the baseline as {stated['baseline_average']}; Table 2 prints {theirs.avg}. {spec['tolerance_reason']}.",
            source=paper.source("table2"),
        )
    ]
    for code in LANGUAGES:
        columns = [b.column for b in paper.BENCHMARKS if b.language.code == code]
        mine = sum(ours.cells[c] for c in columns) / len(columns)
        base = sum(theirs.cells[c] for c in columns) / len(columns)
        checks.append(
            _check(
                "competitive",
                f"{language(code).name} average",
                verdict(mine - base, base),
                f"at most {fmt(100 * tolerance, 0)}% above the baseline",
                f"{fmt(mine)} vs {fmt(base)} ({fmt(100 * (mine - base) / base)}%)",
                f"Mean over {', '.join(columns)}.",
                source=paper.source("table2"),
            )
        )
    return checks


# --- speed -----------------------------------------------------------------------------------------------------


def speedup() -> list[Check]:
    spec = claim("speedup")
    stated, tolerance = spec["stated"], Decimal(spec["relative_tolerance"])
    target = Decimal(stated["speedup"])
    baseline = paper.latency_row(stated["baseline"])
    checks = []
    for model in ("Polyglot-Lion-1.7B", "Polyglot-Lion-0.6B"):
        row = paper.latency_row(model)
        ratio = baseline.mean_s / row.mean_s
        checks.append(
            _check(
                "speedup",
                f"Table 3 ratio {stated['baseline']} / {model}",
                within_tolerance(ratio, target, tolerance),
                f"about {target}x",
                f"{baseline.mean_s} / {row.mean_s} = {fmt(ratio)}x",
                f"{spec['tolerance_reason']}.",
                source=paper.source("table3"),
            )
        )
    ours = paper.latency_row(stated["model"])
    quoted = [(stated["model_seconds"], ours.mean_s), (stated["baseline_seconds"], baseline.mean_s)]
    mismatches = [f"{q} vs {t}" for q, t in quoted if rounded_like(t, Decimal(q)) != Decimal(q)]
    checks.append(
        _check(
            "speedup",
            "abstract's seconds per sample",
            FAILS if mismatches else HOLDS,
            f"{stated['model_seconds']} and {stated['baseline_seconds']} s/sample (abstract)",
            f"Table 3: {ours.mean_s} and {baseline.mean_s}",
            "; ".join(mismatches) or "Table 3's means round to the abstract's numbers.",
            source=paper.source("table3"),
        )
    )
    for size in ("1.7B", "0.6B"):
        tuned, base = paper.latency_row(f"Polyglot-Lion-{size}"), paper.latency_row(f"Qwen3-ASR-{size}")
        difference = tuned.mean_s - base.mean_s
        within_noise = abs(difference) <= max(tuned.std_s, base.std_s)
        checks.append(
            _check(
                "speedup",
                f"fine-tuning keeps the {size} architecture's speed",
                HOLDS if difference == 0 else CAVEAT if within_noise else FAILS,
                "same architecture, same latency",
                f"Polyglot-Lion {tuned.mean_s} vs Qwen3-ASR {base.mean_s} s ({fmt(tuned.mean_s / base.mean_s)}x)",
                "Fine-tuning changes weights, not the architecture, so a difference comes from output length or "
                f"noise; it is {'within' if within_noise else 'beyond'} one standard deviation "
                f"({tuned.std_s} / {base.std_s}). Against the untuned model the speed-up is "
                f"{fmt(baseline.mean_s / base.mean_s)}x.",
                source=paper.source("table3"),
            )
        )
    return checks


# --- cost ------------------------------------------------------------------------------------------------------


def cost() -> list[Check]:
    stated = claim("cost")["stated"]
    ours, theirs = paper.cost_row(stated["system"]), paper.cost_row(stated["baseline"])
    checks = []
    quoted = [
        (stated["cost_usd"], ours.estimated_cost_usd),
        (stated["baseline_cost_usd"], theirs.estimated_cost_usd),
    ]
    mismatches = [f"{q} vs {t}" for q, t in quoted if Decimal(q) != t]
    checks.append(
        _check(
            "cost",
            "abstract's dollars",
            FAILS if mismatches else HOLDS,
            f"${stated['cost_usd']} and ${stated['baseline_cost_usd']}",
            f"Table 4: ${ours.estimated_cost_usd} and ${theirs.estimated_cost_usd}",
            "; ".join(mismatches) or "The abstract's numbers are Table 4's.",
            source=paper.source("table4"),
        )
    )
    ratio = theirs.estimated_cost_usd / ours.estimated_cost_usd
    target = Decimal(stated["times_cheaper"])
    checks.append(
        _check(
            "cost",
            "times cheaper",
            HOLDS if rounded_like(ratio, target) == target else FAILS,
            f"{target}x",
            f"{theirs.estimated_cost_usd} / {ours.estimated_cost_usd} = {fmt(ratio)}x",
            "The cost ratio at the paper's rounding.",
            source=paper.source("table4"),
        )
    )
    gpu_hours = {row.system: row.gpu_count * row.training_time_hours for row in (ours, theirs)}
    rates = {row.system: row.estimated_cost_usd / gpu_hours[row.system] for row in (ours, theirs)}
    checks.append(
        _check(
            "cost",
            "implied price per GPU-hour",
            CAVEAT,
            "cost = GPUs x hours x a rental price",
            "; ".join(f"{row.gpu_model}: ${fmt(rates[row.system], 4)}/GPU-h" for row in (ours, theirs)),
            f"Neither price is printed (Table 4 cites RunPod.io); both costs assume {ours.training_time_hours} h. "
            f"GPU-hours: {gpu_hours[ours.system]} vs {gpu_hours[theirs.system]} "
            f"({fmt(gpu_hours[theirs.system] / gpu_hours[ours.system])}x); "
            f"price ratio {fmt(rates[theirs.system] / rates[ours.system])}x.",
            source=paper.source("table4"),
        )
    )
    table1 = paper.table1_printed_total()
    matches = {k: v for k, v in table1.items() if k.endswith("_hours") and v == ours.training_data_hours}
    checks.append(
        _check(
            "cost",
            "training data hours",
            HOLDS if "train_hours" in matches else CAVEAT,
            f"Table 4's {ours.training_data_hours} h equals Table 1's train hours ({table1['train_hours']})",
            f"equals Table 1's {', '.join(matches) or 'no total'}",
            "Table 4 states the training data in hours; Table 1 splits it into train, valid and test. "
            + (
                f"{ours.training_data_hours} h includes the valid and test splits; the training split is "
                f"{table1['train_hours']} h."
                if "train_hours" not in matches
                else "They agree."
            ),
            source=f"{paper.source('table1')}; {paper.source('table4')}",
        )
    )
    return checks


# --- model size ------------------------------------------------------------------------------------------------


def model_size() -> list[Check]:
    stated = claim("model_size")["stated"]
    big, small = paper.error_row(stated["baseline"]).params, paper.error_row(stated["model"]).params
    ratio = paper.published_size(big) / paper.published_size(small)
    target = Decimal(stated["times_larger"])
    return [
        _check(
            "model_size",
            "ratio of the published sizes",
            HOLDS if rounded_like(ratio, target) == target else FAILS,
            f"{target}x",
            f"{big} / {small} = {fmt(ratio)}x",
            "From Table 2's parameter column, the names' nominal sizes; exact counts are the measured half.",
            source=paper.source("table2"),
        )
    ]


CHECKS = {
    "balanced_counts": lambda: table1_consistency() + algorithm1_on_table1(),
    "no_language_tags": no_language_tags,
    "average_error": table2_averages,
    "competitive": competitive,
    "speedup": speedup,
    "cost": cost,
    "model_size": model_size,
}
