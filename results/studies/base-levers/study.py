"""Issue 13's study of levers on the tiny base (`lionrepro pretrain-base`), at equal steps: baseline, auxiliary CTC,
SpecAugment. Each lever is the profile's `[pretrain]` with a few `[pretrain.train]` settings changed and a shorter
schedule; every `--every` steps a checkpoint is kept and scored on Lion-12's test split (the held-out sentences and
voices of `results/experiments/`), so the curves show when each lever starts to transcribe.

    python results/studies/base-levers/study.py run [--steps N] [--every K] [LEVER ...]   # resumable
    python results/studies/base-levers/study.py report                                     # summary.json, README.md

Run it from a clean checkout (a `git worktree`) so that the results' provenance names a clean commit; `--out` (default:
this script's folder) may be in another checkout. Training resumes from its last checkpoint; a checkpoint already
scored is not scored again. Torch uses `--threads` threads (2 by default; 1 is faster on cores that others share).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# lever -> the [pretrain.train] settings it sets (the others are the profile's); the baseline turns every aid off
SPEC_AUGMENT = {"freq_masks": 2, "freq_width": 27, "time_masks": 2, "time_width": 0.05}
LEVERS: dict[str, dict[str, Any]] = {
    "baseline": {"ctc_weight": 0.0, "spec_augment": {}},
    "ctc0.3": {"ctc_weight": 0.3, "spec_augment": {}},
    "ctc0.3-specaugment": {"ctc_weight": 0.3, "spec_augment": SPEC_AUGMENT},
}
LANGUAGES = ("en", "zh", "ms", "ta")
REPO = HERE.parents[2]
# the committed base and its scores on the same test split, for reference; and the earlier bases, each read from the
# last commit that held it with its scores: issue 5's (8,000 steps, no aids), then session 5's (8,000 steps, CTC 0.3)
COMMITTED_BASE = REPO / "models" / "tiny-base"
EARLIER_BASES = {"issue 5's base": ("9611a34", "none"), "8,000-step CTC base": ("c9c9b4c", "CTC 0.3")}
COMMITTED_BASE_EVAL = REPO / "results" / "experiments" / "base" / "eval"


def _profile(lever: str, steps: int, every: int) -> dict[str, Any]:
    from lionrepro.config import load_profile

    profile = copy.deepcopy(load_profile("tiny"))
    train = profile["pretrain"]["train"]
    train.update(LEVERS[lever], steps=steps, checkpoint_every=every, keep_checkpoints=10**6)
    return profile


def _manifests(profile: dict[str, Any]) -> dict[str, Path]:
    from lionrepro.corpora.lion12.build import Lion12Config, build

    return build(Lion12Config.from_profile(profile)).manifests


def run(lever: str, steps: int, every: int, out: Path, threads: int) -> None:
    import torch

    from lionrepro.asr.evaluation import score_checkpoint
    from lionrepro.asr.training_loop import CHECKPOINTS
    from lionrepro.stages.pretrain_base import pretrain

    torch.set_num_threads(threads)
    profile = _profile(lever, steps, every)
    manifests = _manifests(profile)
    folder = out / lever
    args = argparse.Namespace(
        manifest=manifests["pretrain"],
        text_manifest=manifests["train"],
        out=folder,
        steps=None,
        max_minutes=None,
        lr=None,
        batch_size=None,
        seed=None,
        device="cpu",
        quiet=True,
    )
    print(f"== {lever}: {steps} steps into {folder}", flush=True)
    if pretrain(profile, args) != 0:
        raise SystemExit(f"{lever}: training failed")
    for checkpoint in sorted((folder / CHECKPOINTS).glob("step-*")):
        target = folder / "eval" / checkpoint.name
        if (target / "results.json").exists():
            continue
        results = score_checkpoint(
            checkpoint,
            manifests["test"],
            target,
            profile,
            seed=profile["seed"],
            device="cpu",
            progress=False,
            stage="base-levers study",
            lever=lever,
        )
        scores = {code: round(results["languages"][code]["average"], 1) for code in LANGUAGES}
        print(f"   {checkpoint.name}: {scores}", flush=True)


def _row(lever: str, folder: Path, evaluation: Path, step: int | None = None) -> dict[str, Any]:
    step = step if step is not None else int(evaluation.name.removeprefix("step-"))
    return _scored(lever, (folder / "curve.jsonl").read_text(), (evaluation / "results.json").read_text(), step)


def _git_show(commit: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{commit}:{path}"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def _committed_row(lever: str, commit: str) -> dict[str, Any]:
    """The base committed at `commit` as the experiments of that commit scored it, read from git."""
    record = json.loads(_git_show(commit, "models/tiny-base/train.json"))
    curve = _git_show(commit, "models/tiny-base/curve.jsonl")
    results = _git_show(commit, "results/experiments/base/eval/results.json")
    return _scored(lever, curve, results, record["result"]["steps"])


def _scored(lever: str, curve_text: str, results_text: str, step: int) -> dict[str, Any]:
    results = json.loads(results_text)
    curve = [json.loads(line) for line in curve_text.splitlines()]
    near = [line for line in curve if line["step"] <= step]
    window = [line for line in near if line["step"] > step - 100]  # the attention loss, over the last 100 steps
    return {
        "lever": lever,
        "step": step,
        **{code: results["languages"][code]["average"] for code in LANGUAGES},
        "average_12": results["average_12"],
        "in_spoken_language": results["implicit_lid"]["overall"],
        "attention_loss": statistics.fmean(line["loss"] for line in window) if window else None,
        "ctc_loss": statistics.fmean(line["ctc_loss"] for line in window)
        if window and "ctc_loss" in window[0]
        else None,
        "train_wall_s": near[-1]["wall_s"] if near else None,
        "commit": results["provenance"]["commit"],
    }


def report(out: Path) -> None:
    rows, records = [], {}
    for name, (commit, aids) in EARLIER_BASES.items():
        old = json.loads(_git_show(commit, "models/tiny-base/train.json"))
        rows.append(_committed_row(name, commit))
        records[name] = {
            "steps": old["result"]["steps"],
            "wall_s": old["result"]["wall_s"],
            **({"commit": old["provenance"]["commit"]} if not old["provenance"]["commit"].endswith("dirty") else {}),
            "settings": {"model": f"models/tiny-base at {commit}", "aids": aids},
        }
    if (COMMITTED_BASE_EVAL / "results.json").exists():
        record = json.loads((COMMITTED_BASE / "train.json").read_text())
        steps = record["result"]["steps"]
        rows.append(_row("committed base", COMMITTED_BASE, COMMITTED_BASE_EVAL, steps))
        records["committed base"] = {
            "steps": steps,
            "wall_s": record["result"]["wall_s"],
            "commit": record["provenance"]["commit"],
            "settings": {
                "model": "models/tiny-base",
                "ctc_weight": record["provenance"]["config"]["ctc_weight"],
                "batch_size": record["provenance"]["config"]["batch_size"],
                "processes": record["result"].get("world_size", 1),
                "scored_in": "results/experiments/base/eval",
            },  # fmt: skip
        }
    for lever in LEVERS:
        folder = out / lever
        if not (folder / "eval").exists():
            continue
        rows += [_row(lever, folder, evaluation) for evaluation in sorted((folder / "eval").glob("step-*"))]
        if (folder / "train.json").exists():
            record = json.loads((folder / "train.json").read_text())
            records[lever] = {
                "steps": record["result"]["steps"],
                "wall_s": record["result"]["wall_s"],
                "commit": record["provenance"]["commit"],
                "settings": LEVERS[lever],
            }
    (out / "summary.json").write_text(json.dumps({"runs": records, "checkpoints": rows}, indent=2) + "\n")
    (out / "README.md").write_text(_readme(rows, records))
    _plot(rows, out / "curves.png")


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Held-out error rate against steps, one panel per language, one line per lever."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(1, len(LANGUAGES), figsize=(4 * len(LANGUAGES), 3.2), sharex=True)
    for axis, code in zip(axes, LANGUAGES, strict=True):
        for lever in ("committed base", *LEVERS):
            points = [(row["step"], row[code]) for row in rows if row["lever"] == lever]
            if points:
                axis.plot(*zip(*points, strict=True), marker="*" if lever == "committed base" else "o", label=lever)
        axis.set_title(f"{code} ({'CER' if code == 'zh' else 'WER'} %)")
        axis.set_xlabel("step")
        axis.axhline(20 if code != "ta" else 90, color="grey", linestyle=":", linewidth=1)
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _differences(rows: list[dict[str, Any]]) -> list[str]:
    """Each lever minus the baseline at the same step, per language (negative: fewer errors)."""
    baseline = {row["step"]: row for row in rows if row["lever"] == "baseline"}
    columns = ["lever", "step", *(f"{code} - baseline" for code in LANGUAGES)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        if row["lever"] == "baseline" or row["step"] not in baseline:
            continue
        cells = [row["lever"], str(row["step"]), *(f"{row[c] - baseline[row['step']][c]:+.1f}" for c in LANGUAGES)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines if len(lines) > 2 else []


def _fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _readme(rows: list[dict[str, Any]], records: dict[str, Any]) -> str:
    columns = ["lever", "step", "en WER", "zh CER", "ms WER", "ta WER", "12-set avg", "in spoken lang. %"]
    columns += ["attention loss", "CTC loss", "train wall s"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [
            row["lever"],
            str(row["step"]),
            *(_fmt(row[code]) for code in LANGUAGES),
            _fmt(row["average_12"]),
            _fmt(100 * row["in_spoken_language"]),
            _fmt(row["attention_loss"], 2),
            _fmt(row["ctc_loss"], 2),
            _fmt(row["train_wall_s"], 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    runs = "\n".join(
        f"- `{lever}`: {json.dumps(r['settings'])}, {r['steps']} steps in {r['wall_s']:.0f} s"
        + (f", commit {r['commit'][:12]}" if "commit" in r else " (made from uncommitted code, as its record says)")
        for lever, r in records.items()
    )
    return f"""# Levers on the tiny base (issue 13), at equal steps

Generated by `study.py report` from the files in this folder (every number below comes from a `results.json`,
`curve.jsonl` or `train.json` here); `study.py` says how they were made. Each lever is `lionrepro pretrain-base`
with the profile's `[pretrain]` settings except the schedule's length and the listed settings, trained on Lion-12's
`pretrain` split (English, Mandarin, Malay; no Tamil) and scored on Lion-12's test split, mean of each language's test
sets (WER; CER for Mandarin). The first rows are the earlier committed bases, each read with its scores from git at
the last commit that held it: issue 5's base (an 8,000-step schedule without these aids, made on Lion-12 generator 2's
audio; commit 9611a34) and session 5's (the 8,000-step schedule with CTC at 0.3; commit c9c9b4c); then the committed
base (`models/tiny-base/`, its `train.json` says how it was made: a global batch is `batch_size` x `processes`) as
`results/experiments/base/eval/` scored it on the same test split. Issue 13's targets are at most 20 on en, zh and
ms, and Tamil at least 90 (the base never hears Tamil). The attention loss is the mean of the curve's lines over the
100 steps before the checkpoint, the same quantity with or without CTC; the CTC loss is per target token.

Runs:
{runs}

{chr(10).join(lines)}

Each lever against the baseline at the same step (error-rate points; negative: fewer errors):

{chr(10).join(_differences(rows))}

![held-out error rate against steps](curves.png)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("levers", nargs="*", help=f"some of {', '.join(LEVERS)} (default: all)")
    go.add_argument("--steps", type=int, default=4000)
    go.add_argument("--every", type=int, default=1000)
    go.add_argument("--out", type=Path, default=HERE)
    go.add_argument("--threads", type=int, default=2, help="torch threads (1 on a machine that others share)")
    summary = sub.add_parser("report")
    summary.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    if args.command == "run":
        unknown = sorted(set(args.levers) - set(LEVERS))
        if unknown:
            parser.error(f"unknown levers {unknown}; known: {', '.join(LEVERS)}")
        for lever in args.levers or LEVERS:
            run(lever, args.steps, args.every, args.out, args.threads)
    report(args.out)


if __name__ == "__main__":
    main()
