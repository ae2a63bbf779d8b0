"""Is an fp32 fine-tune the same on another CPU? Compares this folder's recipe run at seed 0 (made on this session's
CPU by `lionrepro experiments --only recipe --seeds 0 --workers 1 --out ...` in a clean worktree) with the one
committed in `results/experiments/` at COMMITTED_IN (made on another CPU, read from git: the profile has changed since):
the devices, the curves, the final weights' checksums and the scores. `python results/studies/cross-cpu/compare.py`
prints the comparison; the hypotheses are left out of this folder, their equality was checked with `cmp` when the run
was made (README.md)."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMITTED_IN = "964ce56"  # results/experiments/ made at 287e21a (lr 1e-3), the run this folder's re-makes
COMMITTED = "results/experiments/recipe/seed-0"
OURS = HERE / "recipe" / "seed-0"


def _read(text_of: Callable[[str], str]) -> dict:
    train = json.loads(text_of("train.json"))
    scores = json.loads(text_of("eval/results.json"))
    curve = [json.loads(line) for line in text_of("curve.jsonl").splitlines()]
    return {"train": train, "scores": scores, "curve": curve}


def _committed(name: str) -> str:
    return subprocess.run(
        ["git", "show", f"{COMMITTED_IN}:{COMMITTED}/{name}"], cwd=HERE, capture_output=True, text=True, check=True
    ).stdout


def main() -> None:
    ours, theirs = _read(lambda name: (OURS / name).read_text()), _read(_committed)
    for name, run in (("committed", theirs), ("this folder", ours)):
        prov = run["train"]["provenance"]
        print(f"{name}: {prov['device']} ({prov['host']}), commit {prov['commit'][:12]}, "
              f"{run['train']['result']['wall_s']:.0f} s of training")  # fmt: skip
    same_curve = [{k: v for k, v in line.items() if k != "wall_s"} for line in ours["curve"]] == [
        {k: v for k, v in line.items() if k != "wall_s"} for line in theirs["curve"]
    ]
    print(f"curves (loss, lr, gradient norm, tokens every {len(ours['curve'])} lines), wall time aside: "
          f"{'identical' if same_curve else 'DIFFERENT'}")  # fmt: skip
    same_weights = ours["train"]["result"]["weight_checksums"] == theirs["train"]["result"]["weight_checksums"]
    print(f"final weights' checksums: {'identical' if same_weights else 'DIFFERENT'}")
    same_scores = ours["scores"]["benchmarks"] == theirs["scores"]["benchmarks"]
    print(f"12-set average {ours['scores']['average_12']:.4f} against {theirs['scores']['average_12']:.4f}; "
          f"per-set scores {'identical' if same_scores else 'DIFFERENT'}")  # fmt: skip


if __name__ == "__main__":
    main()
