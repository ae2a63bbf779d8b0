"""Table 3 measured: the released checkpoints' seconds per sample on the real test sets, beside the paper's.

Read from `lionrepro --profile paper evaluate --model ID --batch-size 1` results (lionrepro.asr.decode_latency): each
model's newest evaluation that decoded one utterance at a time, as Table 3 timed its models, so every sample decodes
what the model really emits. The paper timed on one RTX PRO 4500, we on the device each run names: absolute seconds
differ with the hardware, so each row also gives its ratio to Polyglot-Lion-1.7B measured on the same device, beside
the paper's ratio (the "about 20x faster than MERaLiON" claim is one such ratio).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lionrepro import paper
from lionrepro.report.table_rendering import Table

REFERENCE = "Polyglot-Lion-1.7B"


def is_table3_run(results: dict[str, Any]) -> bool:
    """An evaluation timed as Table 3 times: every sample decoded alone."""
    return bool((results.get("latency") or {}).get("table3_protocol"))


def measured_table3(found: dict[str, tuple[Path, dict[str, Any]]]) -> Table:
    printed = {row.model: row for row in paper.table3()}
    reference = found.get(REFERENCE)
    rows = []
    for model, (_, results) in found.items():
        latency, device = results["latency"], results["provenance"]["device"]
        ours = latency["seconds_per_sample"]
        same_device = reference is not None and reference[1]["provenance"]["device"] == device
        row = printed.get(model)
        rows.append(
            [
                model,
                device,
                "-" if row is None else f"{float(row.mean_s):.4f} ± {float(row.std_s):.4f}",
                f"{ours['mean']:.4f} ± {0.0 if ours['sd'] is None else ours['sd']:.4f}",
                str(ours["n"]),
                f"{latency['generated_tokens_per_sample']['mean']:.1f}",
                "-" if row is None else f"{ours['mean'] / float(row.mean_s):.2f}",
                f"{ours['mean'] / reference[1]['latency']['seconds_per_sample']['mean']:.2f}" if same_device else "-",
                "-" if row is None else f"{float(row.mean_s / printed[REFERENCE].mean_s):.2f}",
            ]
        )
    columns = ["model", "our device", "paper s/sample (RTX PRO 4500)", "ours s/sample", "samples", "tokens/sample"]
    columns += ["ours / paper", f"ours / {REFERENCE} (same device)", f"paper / {REFERENCE}"]
    sources = "; ".join(f"{path} (batch size 1, commit {results['provenance']['commit'][:12]})" for path, results in
                        found.values())  # fmt: skip
    return Table("table3_measured", "Table 3 measured: seconds per sample of the released checkpoints on the real "
                 "test sets, one sample at a time, beside the paper", columns, rows, sources)  # fmt: skip
