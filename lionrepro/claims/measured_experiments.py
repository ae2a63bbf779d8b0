"""The measured halves of the claims that rest on the tiny experiments: no language tags, average error, competitive.

They read `<results>/experiments/summary.json` (`lionrepro experiments`) and the files it names: every seed's
training record (its supervised targets), every seed's evaluation (the inference prompt, the hypotheses' languages) and
the comparisons, bootstraps over seeds and test utterances. Each verdict uses every seed: rates are means over seeds, a
difference between two runs is called one only when its interval excludes zero, and the gate's tolerances are those
intervals, which hold the seeds' spread (issue 13). Every verdict states the numbers it rests on.
"""

from __future__ import annotations

import math
import statistics
from decimal import Decimal
from pathlib import Path
from typing import Any

from lionrepro.asr.recipe_runs import SUMMARY, experiments_dir
from lionrepro.claims.staleness import command
from lionrepro.claims.verdicts import CAVEAT, FAILS, HOLDS, MEASURED, Check, claim, fmt, pending
from lionrepro.languages import LANGUAGES, names_a_language
from lionrepro.provenance import read_json

RECIPE, BASE, NATURAL, TAGS, CONTROL = "recipe", "base", "natural", "tags", "control"


def _seeds(run: dict[str, Any]) -> list[dict[str, Any]]:
    """A run's seed entries (the base's one evaluation counts as one)."""
    return list(run["seeds"].values())


def _hypotheses(run: dict[str, Any]) -> int:
    """Test hypotheses over all of a run's seeds."""
    return sum(read_json(Path(seed["results"]))["decoding"]["utterances"] for seed in _seeds(run))


def _summary() -> tuple[Path, dict[str, Any]] | None:
    path = experiments_dir() / SUMMARY
    return (path, read_json(path)) if path.exists() else None


def _evidence(path: Path, summary: dict[str, Any], *runs: str) -> dict[str, Any]:
    prov = summary["provenance"]
    return {
        "summary": str(path),
        "commit": prov["commit"],
        "device": prov["device"],
        "created": prov["created_utc"],
        **{run: [seed["results"] for seed in _seeds(summary["runs"][run])] for run in runs if run in summary["runs"]},
    }


def _missing(claim_id: str, names: tuple[str, ...], summary: dict[str, Any] | None, *runs: str) -> list[Check] | None:
    """`not measured yet` checks when the experiments (or the runs these checks need) have not run."""
    if summary is None:
        return [pending(claim_id, name, f"no experiments summary: run {command('experiments')}") for name in names]
    absent = [run for run in runs if run not in summary["runs"]]
    if absent:
        return [pending(claim_id, name, f"runs {absent} missing: run {command('experiments')}") for name in names]
    partial = {run: summary["runs"][run].get("missing_benchmarks") for run in runs}
    partial = {run: sets for run, sets in partial.items() if sets or summary["runs"][run].get("average_12", 0) is None}
    if partial:  # a 12-set average needs all 12 test sets (the data stage found only some)
        needs = f"runs scored without all 12 test sets ({partial}): run {command('data')} with every corpus"
        return [pending(claim_id, name, needs) for name in names]
    return None


BOOTSTRAP_TOLERANCE = "half the 95% interval of the bootstrap over seeds and test utterances (the seeds' spread)"


def _moved(stat: dict[str, Any]) -> dict[str, Any]:
    """A difference as the gate compares it: the point estimate, allowed to move by half its bootstrap interval."""
    return {"value": stat["difference"], "tolerance": (stat["high"] - stat["low"]) / 2,
            "tolerance_source": BOOTSTRAP_TOLERANCE}  # fmt: skip


SHARE_TOLERANCE = "half the 95% normal interval of the seeds' mean share: between seeds, and of the hypotheses' count"


def _share_tolerance(shares: list[float], n: int) -> float:
    """Half the 95% normal interval of the mean of `shares` (one per seed) over `n` hypotheses in all, in percentage
    points: the variance of a mean over seeds (their sample variance over their number; none from a single seed) plus
    that of a proportion of `n` draws."""
    mean = sum(shares) / len(shares)
    between = statistics.variance(shares) / len(shares) if len(shares) > 1 else 0.0
    return 100 * 1.96 * math.sqrt(between + max(mean * (1 - mean), 1e-12) / n)


def _interval(stat: dict[str, Any]) -> str:
    return f"{fmt(stat['difference'])} points (95% CI {fmt(stat['low'])} to {fmt(stat['high'])})"


def no_language_tags() -> list[Check]:
    names = ("training targets", "inference prompt", "implicit language identification")
    found = _summary()
    missing = _missing("no_language_tags", names, found and found[1], RECIPE, TAGS)
    if missing:
        return missing
    path, summary = found
    recipe, tags = summary["runs"][RECIPE], summary["runs"][TAGS]
    seeds = _seeds(recipe)
    checked = [read_json(Path(seed["train_record"]))["provenance"]["training_targets"] for seed in seeds]
    tagged = read_json(Path(_seeds(tags)[0]["train_record"]))["provenance"]["training_targets"]
    naming = sum(targets["naming_a_language"] for targets in checked)
    untagged = all(targets["tags"] is False for targets in checked)
    prefixes = sorted({prefix for targets in checked for prefix in targets["prefixes"]})
    prompts = sorted({read_json(Path(seed["results"]))["decoding"]["prompt"] for seed in seeds})
    forced = [prompt for prompt in prompts if names_a_language(prompt)]
    lid, tagged_share = recipe["implicit_lid"], tags["implicit_lid"]["overall"]
    threshold = Decimal(claim("no_language_tags")["implicit_lid_share"])
    share = Decimal(str(lid["overall"]))
    per_language = ", ".join(f"{code} {fmt(100 * v, 1)}%" for code, v in sorted(lid["per_language"].items()))
    per_seed = ", ".join(f"{fmt(100 * seed['implicit_lid']['overall'], 1)}%" for seed in seeds)
    evidence = _evidence(path, summary, RECIPE, TAGS) | {"train_records": [seed["train_record"] for seed in seeds]}
    return [
        Check(
            "no_language_tags",
            MEASURED,
            names[0],
            HOLDS if naming == 0 and untagged else FAILS,
            "no supervised target names a language",
            f"{naming} of {checked[0]['rows']} distinct targets name a language, over {len(seeds)} seeds; "
            f"prefixes {prefixes}",
            "Decoded from the labels the loss sees (every distinct row of the recipe's training manifest), in each "
            "seed's training record. The language-tag ablation's targets, checked the same way, name a language in "
            f"{tagged['naming_a_language']} of {tagged['rows']}: the check tells the two apart.",
            evidence,
            value=naming,
            tolerance=0,
            tolerance_source="counted exactly",
        ),
        Check(
            "no_language_tags",
            MEASURED,
            names[1],
            FAILS if forced else HOLDS,
            "the inference prompt names no language (nothing forced)",
            " | ".join(repr(prompt) for prompt in prompts),
            f"The generation prompt of the recipe's evaluations ({len(seeds)} seeds); the model writes the "
            "`language X<asr_text>` prefix itself.",
            evidence,
            value=len(forced),
            tolerance=0,
            tolerance_source="exact",
        ),
        Check(
            "no_language_tags",
            MEASURED,
            names[2],
            HOLDS if share >= threshold else FAILS,
            f"at least {fmt(100 * threshold, 0)}% of hypotheses written in the spoken language",
            f"{fmt(100 * share, 1)}%, mean of {len(seeds)} seeds ({per_seed}); per language {per_language}",
            f"{claim('no_language_tags')['implicit_lid_reason']}. Script for Mandarin and Tamil, lingua between "
            f"English and Malay (lionrepro.asr.language_id). The language-tag ablation: "
            f"{fmt(100 * tagged_share, 1)}%; the base, "
            f"never trained on Tamil: {fmt(100 * summary['runs'][BASE]['implicit_lid']['overall'], 1)}%.",
            evidence,
            value=100 * lid["overall"],
            tolerance=_share_tolerance([seed["implicit_lid"]["overall"] for seed in seeds], _hypotheses(recipe)),
            tolerance_source=SHARE_TOLERANCE,
        ),
    ]


def average_error() -> list[Check]:
    names = ("recipe against the base, 12 test sets", "recipe against the base, Tamil", "worst language")
    found = _summary()
    missing = _missing("average_error", names, found and found[1], BASE, RECIPE, NATURAL)
    if missing:
        return missing
    path, summary = found
    runs, comparisons = summary["runs"], summary["comparisons"]
    versus_base, versus_natural = comparisons[f"{RECIPE}-vs-{BASE}"], comparisons[f"{RECIPE}-vs-{NATURAL}"]
    evidence = _evidence(path, summary, BASE, RECIPE, NATURAL)
    tolerance = Decimal(claim("average_error")["measured_tolerance"])
    overall, tamil = versus_base["average_12"], versus_base["languages"]["ta"]
    worse = {code: stat for code, stat in versus_base["languages"].items() if stat["difference"] > float(tolerance)}
    control = runs.get(CONTROL)
    control_note = (
        f" The control (same budget, no Tamil) averages {fmt(control['average_12'])}: extra training alone."
        if control
        else ""
    )
    recipe_worst = max(runs[RECIPE]["languages"], key=runs[RECIPE]["languages"].get)
    natural_worst = max(runs[NATURAL]["languages"], key=runs[NATURAL]["languages"].get)
    worst_stat = versus_natural["languages"][natural_worst]
    recipe_worst_value, natural_worst_value = (
        runs[RECIPE]["languages"][recipe_worst],
        runs[NATURAL]["languages"][natural_worst],
    )
    return [
        Check(
            "average_error",
            MEASURED,
            names[0],
            _better(overall, worse),
            "the recipe lowers the 12-set average below the base's, no language more than "
            f"{fmt(tolerance, 0)} points worse",
            f"{fmt(overall['b'])} against the base's {fmt(overall['a'])}: {_interval(overall)}",
            "Mean of the 12 test sets' corpus-level rates (Table 2's aggregation) on Lion-12's held-out sentences and "
            "voices. "
            + (
                "More than the tolerance worse than the base: "
                + ", ".join(
                    f"{LANGUAGES[c].name} +{fmt(w['difference'])} ({'' if w['significant'] else 'not '}significant)"
                    for c, w in worse.items()
                )
                + "."
                if worse
                else "No language more than the tolerance worse than the base."
            )
            + _within_tolerance_but_worse(versus_base["languages"], worse)
            + control_note,
            evidence,
            **_moved(overall),
        ),
        Check(
            "average_error",
            MEASURED,
            names[1],
            _better(tamil, {}),
            "Tamil, which the base never heard, is learned",
            f"{fmt(tamil['b'])} against the base's {fmt(tamil['a'])}: {_interval(tamil)}",
            "Mean WER of the four Tamil test sets.",
            evidence,
            **_moved(tamil),
        ),
        Check(
            "average_error",
            MEASURED,
            names[2],
            HOLDS if recipe_worst_value < natural_worst_value and worst_stat["significant"] else FAILS,
            "balancing lowers the worst language's error (against natural proportions)",
            f"recipe's worst {LANGUAGES[recipe_worst].name} {fmt(recipe_worst_value)}; natural proportions' worst "
            f"{LANGUAGES[natural_worst].name} {fmt(natural_worst_value)}; recipe minus natural on "
            f"{LANGUAGES[natural_worst].name}: {_interval(worst_stat)}",
            "What Algorithm 1 is for: no language left behind. Natural proportions' 12-set average is "
            f"{fmt(runs[NATURAL]['average_12'])} against the recipe's {fmt(runs[RECIPE]['average_12'])}.",
            evidence,
            **_moved(worst_stat),
        ),
        _starved(runs, versus_natural, evidence),
    ]


def _starved(runs: dict[str, Any], versus_natural: dict[str, Any], evidence: dict[str, Any]) -> Check:
    """The language natural proportions give the fewest rows, chosen from the training records before any score."""
    shares = read_json(Path(_seeds(runs[NATURAL])[0]["train_record"]))["rows_per_language"]  # every seed's rows
    code = min(shares, key=shares.get)
    stat = versus_natural["languages"][code]
    total = sum(shares.values())
    return Check(
        "average_error",
        MEASURED,
        "the language natural proportions starve",
        HOLDS if stat["significant"] and stat["difference"] < 0 else FAILS,
        "balancing lowers the error of the language with the smallest natural share",
        f"{LANGUAGES[code].name} ({fmt(100 * shares[code] / total, 1)}% of natural rows, 25% balanced): "
        f"{fmt(stat['b'])} balanced against {fmt(stat['a'])} natural: {_interval(stat)}",
        "Algorithm 1's purpose in the paper's words: equal utterances per language, so that no language is "
        "under-represented; the language is the one with the fewest training rows, known before training.",
        evidence,
        **_moved(stat),
    )


def _within_tolerance_but_worse(languages: dict[str, dict[str, Any]], worse: dict[str, Any]) -> str:
    """The languages the bootstrap finds significantly worse than the base by less than the tolerance: they leave the
    verdict as it is, and the reader sees how near the tolerance they are."""
    near = {c: w for c, w in languages.items() if c not in worse and w["significant"] and w["difference"] > 0}
    if not near:
        return ""
    listed = ", ".join(f"{LANGUAGES[c].name} +{fmt(w['difference'])}" for c, w in near.items())
    return f" Significantly worse than the base within the tolerance: {listed}."


def _better(stat: dict[str, Any], worse: dict[str, Any]) -> str:
    """Holds when `b` is significantly lower than `a` (with a caveat when some language got worse)."""
    if not (stat["significant"] and stat["difference"] < 0):
        return FAILS
    return CAVEAT if worse else HOLDS


def competitive() -> list[Check]:
    names = ("recipe against the language-tag ablation, non-inferiority",)
    found = _summary()
    missing = _missing("competitive", names, found and found[1], RECIPE, TAGS)
    if missing:
        return missing
    path, summary = found
    stat = summary["comparisons"][f"{RECIPE}-vs-{TAGS}"]["average_12"]
    spec = claim("competitive")
    tolerance = Decimal(spec["relative_tolerance"])
    allowed = Decimal(str(stat["a"])) * tolerance
    upper, point = Decimal(str(stat["high"])), Decimal(str(stat["difference"]))
    verdict = HOLDS if upper <= allowed else CAVEAT if point <= allowed else FAILS
    why = {
        HOLDS: "the whole interval lies inside the margin",
        CAVEAT: "the point estimate lies inside the margin, the interval's upper end outside: the test sets cannot "
        "tell",
        FAILS: "the point estimate lies outside the margin",
    }[verdict]
    paper_average = claim("average_error")["stated"]["average"]
    return [
        Check(
            "competitive",
            MEASURED,
            names[0],
            verdict,
            f"the recipe's 12-set average at most {fmt(100 * tolerance, 0)}% above the tagged ablation's "
            f"({spec['measured_rule']})",
            f"{fmt(stat['b'])} without tags against {fmt(stat['a'])} with: {_interval(stat)}; allowed +{fmt(allowed)}",
            f"{why[0].upper()}{why[1:]}. The tiny analogue of {paper_average} against "
            f"{spec['stated']['baseline_average']} ({spec['stated']['model']} against {spec['stated']['baseline']}): "
            "what omitting the tags costs at equal data and budget (the paper's comparison is against a different, "
            "larger model).",
            _evidence(path, summary, RECIPE, TAGS),
            **_moved(stat),
        )
    ]
