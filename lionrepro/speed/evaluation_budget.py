"""What regenerating Table 2 costs on a GPU: each model's 12 test sets at its measured batched throughput.

Table 2 scores every model on the test splits of Table 1's 12 datasets. At a batched throughput of RTFx (audio
seconds per second), that is (test audio hours) / RTFx GPU-hours per model. The throughputs are the decode-levers
runs' (random weights decoding each clip's reference length, so a real model that stops on time runs about as
fast). `lionrepro evaluate` decodes through transformers' `generate` by default, so its budget is the `generate`
lever's; with `--decoder static` it is `EVALUATE_STATIC`'s for Qwen3-ASR (MERaLiON-2's static decoding runs the
port's eager, soft-capped attention, which no lever times: its cell stays empty); the fastest lever shows what the
compiled switches would save on top. Disk: each checkpoint in bf16 (2 bytes per parameter) and the test audio as
16 kHz 16-bit samples.
"""

from __future__ import annotations

from typing import Any

from lionrepro import paper
from lionrepro.asr import architectures
from lionrepro.speed.decode_levers import EVALUATE_STATIC

SAMPLE_BYTES_PER_SECOND = 16_000 * 2  # 16 kHz, 16-bit mono


def test_audio_hours() -> float:
    return float(sum(row.hours["test"] for row in paper.table1()))


def evaluation_budget(merged: dict[str, Any]) -> list[dict[str, Any]]:
    """Per model in `merged` (decode results, `decode_table.newest_per_lever`): its fastest lever, GPU-hours for
    the 12 test sets, and the bf16 weights' size; and the models of Table 2 each architecture stands for."""
    hours = test_audio_hours()
    rows = []
    for name, model in merged["models"].items():
        measured = {
            lever: e for lever, e in model.get("levers", {}).items() if e.get("status") == "ok" and e["batched"]
        }
        if not measured:
            continue
        lever, entry = max(measured.items(), key=lambda item: item[1]["batched"]["rtfx"])
        arch = architectures.architecture(name)
        generate = measured["generate"]["batched"]["rtfx"] if "generate" in measured else None
        timed = EVALUATE_STATIC in measured and name in architectures.POLYGLOT_OF  # what evaluate runs for Qwen3-ASR
        static = measured[EVALUATE_STATIC]["batched"]["rtfx"] if timed else None
        rows.append(
            {
                "models": [arch.paper_model] + ([arch.fine_tuned_as] if arch.fine_tuned_as else []),
                "generate_rtfx": generate,
                "generate_gpu_hours": hours / generate if generate else None,
                "static_rtfx": static,
                "static_gpu_hours": hours / static if static else None,
                "lever": lever,
                "rtfx": entry["batched"]["rtfx"],
                "gpu_hours": hours / entry["batched"]["rtfx"],
                "weights_gb": architectures.count_parameters(name) * 2 / 1e9,
            }
        )
    return rows


def budget_table(merged: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    hours = test_audio_hours()
    device = merged.get("device_name", "?")
    headers = [
        "Table 2 models",
        f"GPU-h for {hours:.1f} h of test audio, `evaluate` (generate; {device})",
        "GPU-h, `evaluate --decoder static`",
        "fastest lever",
        "GPU-h with it",
        "weights (bf16)",
    ]

    def cell(gpu_hours: float | None, rtfx: float | None) -> str:
        return "-" if gpu_hours is None else f"{gpu_hours:.2f} (RTFx {rtfx:.0f})"

    rows = [
        [
            ", ".join(r["models"]),
            cell(r["generate_gpu_hours"], r["generate_rtfx"]),
            cell(r["static_gpu_hours"], r["static_rtfx"]),
            r["lever"],
            cell(r["gpu_hours"], r["rtfx"]),
            f"{r['weights_gb']:.1f} GB",
        ]
        for r in evaluation_budget(merged)
    ]
    rows.append(["test audio, 16 kHz 16-bit", "", "", "", "", f"{hours * 3600 * SAMPLE_BYTES_PER_SECOND / 1e9:.1f} GB"])
    return headers, rows
