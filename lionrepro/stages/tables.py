"""`lionrepro tables`: regenerate tables/ from the paper's data and the results files, and nothing else."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionrepro.claims.measured import measurement_runs
from lionrepro.claims.paper_arithmetic import table1_train_plan
from lionrepro.claims.verdicts import claims_file, load_checks
from lionrepro.corpora import balanced_sampling as balance
from lionrepro.provenance import git_commit, read_json, results_dir
from lionrepro.report import table_rendering as tables


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("tables"), help="output folder (default: tables/)")
    parser.add_argument("--seed", type=int, default=0, help="seed of Algorithm 1 for the balanced Table 1")


def run(args: argparse.Namespace) -> int:
    commit = git_commit()
    built = [
        tables.printed_table("table1", "table1"),
        tables.printed_table("table2", "table2"),
        tables.printed_table("table3", "table3"),
        tables.printed_table("table4", "table4"),
        tables.table1_balanced({r: table1_train_plan(r, seed=args.seed) for r in balance.READINGS}),
    ]
    built += measured_tables()
    experiments = results_dir() / "experiments" / "summary.json"
    if experiments.exists():
        summary = read_json(experiments)
        prov = summary["provenance"]
        built.append(tables.tiny_table2(summary, f"{experiments} ({prov['device']}, commit {prov['commit'][:12]})"))
    else:
        print(f"{experiments} not found: run `lionrepro experiments`; tables/table2_tiny.* not regenerated")
    verdicts = claims_file()
    if verdicts.exists():
        built.append(tables.claims_table(load_checks(verdicts), str(verdicts)))
    else:
        print(f"{verdicts} not found: run `lionrepro claims` first; tables/claims.* not regenerated")
    for table in built:
        for path in tables.write_table(table, args.out, commit):
            print(f"wrote {path}")
    return 0


def measured_tables() -> list[tables.Table]:
    """Our speed and cost measurements beside the paper's Tables 3 and 4, from the newest results of each kind."""
    from lionrepro.speed.latency import speed_table
    from lionrepro.speed.training_cost import (
        cost_table,  # torch and transformers: only when there are results to render
    )

    built = []
    for kind, render, title in (
        ("speed", speed_table, "Table 3 beside our latency measurement (same architectures, random weights)"),
        ("cost", cost_table, "Table 4 beside our training-throughput measurement and its projection"),
    ):
        runs = measurement_runs(kind)
        if not runs:
            print(f"no {kind} results: run `lionrepro {kind}` (or benchmarks/gpu.sh on a GPU); tables/{kind}.* skipped")
            continue
        path, payload = runs[-1]
        headers, rows = render(payload)
        source = f"{path} ({payload['provenance']['device']}, commit {payload['provenance']['commit'][:12]})"
        built.append(tables.Table(f"{kind}_measured", title, headers, [[str(c) for c in r] for r in rows], source))
    return built
