"""Where it runs (a GPU): `evaluate --decoder static` writes `generate`'s hypotheses.

On a CPU the tests check the static decoder against `generate` step by step; on a GPU it also captures CUDA graphs,
reuses them from batch to batch and moves rows into smaller batches, which only a GPU exercises. This decodes the
committed tiny base on synthetic clips (tones in noise, 1-8 s: the base writes short made-up transcripts that end on
their own, or runs to its budget) through both decoders, in fp32 and bf16, and records how many hypotheses differ
and each decoder's wall time (the tiny base's times say nothing of a full-size model's speed).

Usage: python benchmarks/gpu_static_check.py OUT_DIR [--smoke]   (writes static_check_<cuda|smoke>.json)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import torch

from lionrepro.asr.backends import load_backend
from lionrepro.asr.evaluation import TokenBudget, transcribe
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.config import load_profile
from lionrepro.provenance import REPO_ROOT, provenance

BASE = REPO_ROOT / load_profile("tiny")["pretrain"]["out"] / FINAL_MODEL
RATE = 16_000


def synthetic_rows(folder: Path, count: int, seed: int = 0) -> list[dict]:
    """`count` clips of 1-8 s: a few tones of random pitch in noise, as manifest rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        duration = float(rng.uniform(1.0, 8.0))
        t = np.arange(int(duration * RATE)) / RATE
        tones = sum(np.sin(2 * np.pi * rng.uniform(120, 900) * t + rng.uniform(0, 6)) for _ in range(3))
        samples = 0.1 * tones / 3 + 0.02 * rng.standard_normal(t.shape)
        path = folder / f"clip{index:03d}.flac"
        soundfile.write(path, samples.astype(np.float32), RATE)
        rows.append({"id": f"clip{index:03d}", "dataset": "synthetic", "language": "en", "split": "test",
                     "audio": str(path), "duration": duration, "text": "x"})  # fmt: skip
    return rows


def compare(backend, rows: list[dict], batch_size: int, budget: TokenBudget, device: torch.device) -> dict:
    """Both decoders over `rows`: wall times, and the rows whose hypotheses differ."""
    out = {}
    for decoder in ("generate", "static"):
        backend.use_decoder(decoder)
        transcribe(backend, rows[:batch_size], batch_size, budget=budget, progress=False)  # warm up, capture
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out[decoder] = transcribe(backend, rows, batch_size, budget=budget, progress=False)
        if device.type == "cuda":
            torch.cuda.synchronize()
        out[f"{decoder}_wall_s"] = time.perf_counter() - start
    differ = [g["id"] for g, s in zip(out["generate"], out["static"], strict=True) if g != s]
    return {
        "rows": len(rows),
        "batch_size": batch_size,
        "differing_rows": differ,
        "hit_token_budget": sum(h["hit_token_budget"] for h in out["static"]),
        "generated_tokens": sum(h["generated_tokens"] for h in out["static"]),
        "generate_wall_s": out["generate_wall_s"],
        "static_wall_s": out["static_wall_s"],
        "static_capture_s": backend.capture_seconds,  # graphs captured so far (what `evaluate` leaves out of timings)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--smoke", action="store_true", help="on the CPU, fewer clips: checks the script runs")
    args = parser.parse_args(argv)
    if not args.smoke and not torch.cuda.is_available():
        print("no CUDA device: use --smoke for the CPU check", file=sys.stderr)
        return 2
    device = torch.device("cpu" if args.smoke else "cuda")
    args.out.mkdir(parents=True, exist_ok=True)
    clips = Path(tempfile.mkdtemp(prefix="static_check_clips_"))  # not results: made again from the seed
    rows = synthetic_rows(clips, 12 if args.smoke else 48)
    budget = TokenBudget(**load_profile("tiny")["evaluate"]["budget"])
    results = {"device": str(torch.cuda.get_device_name()) if device.type == "cuda" else "cpu", "runs": {}}
    dtypes = ("float32",) if args.smoke else ("float32", "bfloat16")
    for dtype in dtypes:
        backend = load_backend(BASE).to(device, getattr(torch, dtype))
        for batch_size in (4,) if args.smoke else (1, 16):
            run = compare(backend, rows, batch_size, budget, device)
            results["runs"][f"{dtype}, batch {batch_size}"] = run
            print(f"{dtype} batch {batch_size}: {len(run['differing_rows'])} of {run['rows']} hypotheses differ; "
                  f"generate {run['generate_wall_s']:.2f} s, static {run['static_wall_s']:.2f} s")  # fmt: skip
    results["provenance"] = provenance(stage="static_check")
    tag = "smoke" if args.smoke else "cuda"
    (args.out / f"static_check_{tag}.json").write_text(json.dumps(results, indent=2))
    shutil.rmtree(clips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
