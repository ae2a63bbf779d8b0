"""The measured half of the number claims in the paper profile: the released checkpoints, evaluated here.

`lionrepro --profile paper evaluate --model knoveleng/polyglot-lion-1.7b` (and MERaLiON's) write results that
`asr.checkpoints.evaluations` finds. The 12-set average under asr-evalkit's normaliser is set against Table 2's
number (the tolerance is argued in claims.toml), and Polyglot-Lion-1.7B against MERaLiON-2-10B-ASR evaluated the
same way. Our own normaliser's average is reported beside, never compared with the paper's: a few points between
normalisers are not a difference between models. The tiny profile has no released checkpoints: these checks are the
paper profile's.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from lionrepro.asr.checkpoints import evaluations, hub_ids
from lionrepro.claims.staleness import PROFILE_VARIABLE
from lionrepro.claims.verdicts import CAVEAT, FAILS, HOLDS, MEASURED, Check, claim, fmt, pending
from lionrepro.provenance import results_dir


def applies() -> bool:
    return os.environ.get(PROFILE_VARIABLE, "tiny") != "tiny"


def _needs(*models: str) -> str:
    commands = "; ".join(f"`lionrepro --profile paper evaluate --model {hub_ids()[m][0]}`" for m in models)
    return f"evaluate the released checkpoint{'s' if len(models) > 1 else ''}: {commands}"


def _source(path: Path, results: dict[str, Any]) -> dict[str, Any]:
    prov = results["provenance"]
    return {"results": str(path), "device": prov["device"], "commit": prov["commit"], "created": prov["created_utc"]}


def _describe(model: str, results: dict[str, Any]) -> str:
    prov, ours = results["provenance"], results["average_12"]
    source = prov.get("model", {})
    return (
        f"{model} ({source.get('model')}, revision {source.get('revision') or 'local folder'}) on {prov['device']}, "
        f"{results.get('decoding', {}).get('utterances', '?')} utterances; our normaliser's average "
        f"{fmt(ours) if ours is not None else '-'} (not compared)"
    )


def evaluated_average() -> list[Check]:
    spec = claim("average_error")
    model, target = spec["stated"]["model"], Decimal(spec["stated"]["average"])
    name = f"{model} evaluated here, 12-set average under asr-evalkit's normaliser"
    if not applies():
        return []
    found = evaluations(results_dir()).get(model)
    if found is None:
        return [pending("average_error", name, _needs(model))]
    path, results = found
    average = results["evalkit_normaliser"]["average_12"]
    if average is None:
        return [pending("average_error", name, f"{path} lacks test sets {results['missing_benchmarks']}")]
    tolerance = Decimal(spec["evaluated_tolerance"])
    gap = abs(Decimal(str(average)) - target)
    verdict = HOLDS if gap <= tolerance else CAVEAT if gap <= 2 * tolerance else FAILS
    return [
        Check(
            "average_error",
            MEASURED,
            name,
            verdict,
            f"{target} (within {tolerance})",
            fmt(average),
            f"{_describe(model, results)}. From {path}.",
            _source(path, results),
            value=average,
            tolerance=float(tolerance),
            tolerance_source=spec["evaluated_tolerance_reason"],
        )
    ]


def evaluated_competitive() -> list[Check]:
    spec = claim("competitive")
    model, baseline = spec["stated"]["model"], spec["stated"]["baseline"]
    name = f"{model} against {baseline}, both evaluated here"
    if not applies():
        return []
    found = evaluations(results_dir())
    if model not in found or baseline not in found:
        return [pending("competitive", name, _needs(*(m for m in (model, baseline) if m not in found)))]
    (path, ours), (_, theirs) = found[model], found[baseline]
    a, b = ours["evalkit_normaliser"]["average_12"], theirs["evalkit_normaliser"]["average_12"]
    if a is None or b is None:
        return [pending("competitive", name, "both evaluations need all 12 test sets")]
    tolerance = Decimal(spec["relative_tolerance"])
    relative = (Decimal(str(a)) - Decimal(str(b))) / Decimal(str(b))
    return [
        Check(
            "competitive",
            MEASURED,
            name,
            HOLDS if relative <= tolerance else FAILS,
            f"at most {tolerance:%} worse than {baseline}",
            f"{fmt(a)} vs {fmt(b)} ({fmt(float(relative) * 100)}%)",
            f"{_describe(model, ours)}; {_describe(baseline, theirs)}. Same manifests, same normaliser. From {path}.",
            _source(path, ours),
            value=float(relative),
        )
    ]
