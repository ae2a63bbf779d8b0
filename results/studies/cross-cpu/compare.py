"""Is an fp32 fine-tune the same on another CPU? Compares this folder's recipe run at seed 0 (made on this session's
CPU by `lionrepro experiments --only recipe --seeds 0 --workers 1 --out ...` in a clean worktree) with the committed
one in `results/experiments/` (made on another CPU): the devices, the curves, the final weights' checksums and the
scores. `python results/studies/cross-cpu/compare.py` prints the comparison; the hypotheses are left out of this
folder, their equality was checked with `cmp` when the run was made (README.md)."""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMITTED = HERE.parents[1] / "experiments" / "recipe" / "seed-0"
OURS = HERE / "recipe" / "seed-0"


def _read(folder: Path) -> dict:
    train = json.loads((folder / "train.json").read_text())
    scores = json.loads((folder / "eval" / "results.json").read_text())
    curve = [json.loads(line) for line in (folder / "curve.jsonl").read_text().splitlines()]
    return {"train": train, "scores": scores, "curve": curve}


def main() -> None:
    ours, theirs = _read(OURS), _read(COMMITTED)
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
