"""Table 3's protocol lever by lever, as a table: per model and lever, the batch-1 latency and its floor, the batched
throughput and its roofline, merged over every GPU run so that each row comes from the newest run that measured it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lionrepro.speed.latency import paper_latency


def newest_per_lever(runs: list[tuple[Any, dict[str, Any]]]) -> dict[str, Any]:
    """One results dict holding each (model, lever) from the newest of `runs` (oldest first) that measured it, each
    entry naming its run (`source`) and batching: a later run of some models or levers hides none of the others."""
    merged: dict[str, Any] = {"device_name": runs[-1][1].get("device_name", "?"), "models": {}}
    for source, run in runs:
        for name, model in run["models"].items():
            target = merged["models"].setdefault(name, {"levers": {}})
            target.update({k: v for k, v in model.items() if k != "levers"})
            for lever, entry in model.get("levers", {}).items():
                target["levers"][lever] = entry | {"source": str(source), "settings": run["settings"]}
    return merged


def decode_table(results: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Per model and lever: s/sample at batch 1, ms per token, times the published and measured floors, RTFx (with
    its batching), and the run it comes from when the results merge several (`newest_per_lever`)."""
    device = results.get("device_name", results.get("device_type", "?"))
    headers = [
        "model",
        "paper s/sample (RTX PRO 4500)",
        "lever",
        f"s/sample, batch 1 ({device})",
        "ms/token",
        "x floor (published)",
        "x floor (copy)",
        "RTFx (batching)",
        "batched x floor: prefill, decode; RTFx ceiling",
        "run",
    ]
    rows: list[list[Any]] = []
    for name, model in results["models"].items():
        paper_s = paper_latency(model.get("paper_model", ""))
        paper_cell = f"{paper_s['mean']:.4f} ± {paper_s['std']:.4f}" if paper_s else "-"
        for lever, entry in model.get("levers", {}).items():
            source = Path(entry["source"]).parent.name if "source" in entry else "-"
            if entry["status"] != "ok":
                rows.append([name, paper_cell, lever, f"error: {entry['error']}", "", "", "", "", "", source])
                continue
            over = entry["over_floor"]
            settings = entry.get("settings", results.get("settings", {}))
            order = "sorted" if settings.get("sort_batches") else "as drawn"
            batched = entry["batched"]
            throughput, roofline = "batch 1 only", "-"
            if batched:
                throughput = f"{batched['rtfx']:.0f} ({settings.get('batches', 1)} x {batched['batch_size']}, {order})"
                roofline = _against_floors_cell(batched.get("against_floors", {}))
                if "rtfx" in batched.get("pipelined", {}):
                    throughput += f"; pipelined {batched['pipelined']['rtfx']:.0f}"
            rows.append(
                [
                    name,
                    paper_cell,
                    lever,
                    f"{entry['latency_s']['mean']:.4f} ± {entry['latency_s']['std']:.4f}",
                    f"{entry['per_token_s'] * 1e3:.3f}",
                    f"{over['published']:.2f}" if "published" in over else "-",
                    f"{over['measured_copy']:.2f}",
                    throughput,
                    roofline,
                    source,
                ]
            )
        if model.get("status") == "error":
            rows.append([name, paper_cell, "-", f"error: {model['error']}", "", "", "", "", "", "-"])
    return headers, rows


def _against_floors_cell(against: dict[str, Any]) -> str:
    """The batched runs against their floors on the published basis, or on the measured one where the device has no
    published figures (labelled); "-" for runs made before floors were recorded."""
    for basis, label in (("published", ""), ("measured", " (measured)")):
        if against.get(basis):
            v = against[basis]
            return f"{v['prefill']:.1f}, {v['decode']:.1f}; {v['rtfx_ceiling']:.0f}{label}"
    return "-"
