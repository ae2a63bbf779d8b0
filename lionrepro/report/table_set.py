"""Every table `lionrepro tables` writes, each built from the paper's data or a results file and named with its
source: the paper's Tables 1-4 as printed, Table 1 under Algorithm 1, our speed and cost measurements beside Tables
3 and 4, Table 2's layout for the tiny runs, and the claims' verdicts. A table whose results do not exist yet is left
out with a line saying what makes it."""

from __future__ import annotations

from collections.abc import Callable

from lionrepro.asr.checkpoints import evaluations
from lionrepro.asr.recipe_runs import SUMMARY, experiments_dir
from lionrepro.claims.measured import measurement_runs
from lionrepro.claims.paper_arithmetic import table1_train_plan
from lionrepro.claims.verdicts import claims_file, load_checks
from lionrepro.corpora import balanced_sampling
from lionrepro.corpora.data_record import data_record_path
from lionrepro.provenance import read_json, results_dir
from lionrepro.report.table2_measured import measured_table2
from lionrepro.report.table3_measured import is_table3_run, measured_table3
from lionrepro.report.table_rendering import (
    Table,
    claims_table,
    data_table1,
    printed_table,
    table1_balanced,
    tiny_table2,
)
from lionrepro.speed.decode_table import decode_table, newest_per_lever
from lionrepro.speed.evaluation_budget import budget_table
from lionrepro.speed.latency import speed_table
from lionrepro.speed.training_cost import cost_table


def every_table(seed: int, say: Callable[[str], None] = print, profile: str = "tiny") -> list[Table]:
    """The tables there are sources for now; `say` hears about each one left out, and why. `profile` names the
    profile in the claims' report card."""
    built = [
        printed_table("table1", "table1"),
        printed_table("table2", "table2"),
        printed_table("table3", "table3"),
        printed_table("table4", "table4"),
        table1_balanced({r: table1_train_plan(r, seed=seed) for r in balanced_sampling.READINGS}),
    ]
    built += measured_tables(say)
    record = data_record_path()
    if record.exists():
        data = read_json(record)
        prov = data["provenance"]
        source = f"{record} ({data['corpus']}, commit {prov['commit']})"
        built.append(data_table1(data["summary"], data["corpus"], source))
    else:
        say(f"{record} not found: run `lionrepro data`; tables/table1_<corpus>.* not regenerated")
    experiments = experiments_dir() / SUMMARY
    if experiments.exists():
        summary = read_json(experiments)
        prov = summary["provenance"]
        built.append(tiny_table2(summary, f"{experiments} ({prov['device']}, commit {prov['commit'][:12]})"))
    else:
        say(f"{experiments} not found: run `lionrepro experiments`; tables/table2_tiny.* not regenerated")
    evaluated = evaluations(results_dir())
    if evaluated:
        built.append(measured_table2(evaluated))
    else:
        say(
            f"no `evaluate` results of Table 2's released checkpoints under {results_dir() / 'evaluate'}: "
            "tables/table2_measured.* not regenerated (`lionrepro --profile paper evaluate --model ID`)"
        )
    timed = evaluations(results_dir(), where=is_table3_run)
    if timed:
        built.append(measured_table3(timed))
    else:
        say(
            f"no one-at-a-time `evaluate` results of Table 2's released checkpoints under {results_dir() / 'evaluate'}:"
            " tables/table3_measured.* not regenerated (`lionrepro --profile paper evaluate --model ID --batch-size 1`)"
        )
    verdicts = claims_file()
    if verdicts.exists():
        built.append(claims_table(load_checks(verdicts), str(verdicts), profile))
    else:
        say(f"{verdicts} not found: run `lionrepro claims` first; tables/claims.* not regenerated")
    return built


def measured_tables(say: Callable[[str], None] = print) -> list[Table]:
    """Our speed and cost measurements beside the paper's Tables 3 and 4, from the newest results of each kind (the
    decode levers from every GPU run, each row from the newest run that measured it)."""
    built = []
    for kind, render, title in (
        ("speed", speed_table, "Table 3 beside our latency measurement (same architectures, random weights)"),
        ("cost", cost_table, "Table 4 beside our training-throughput measurement and its projection"),
        (
            "decode",
            decode_table,
            "Table 3's protocol lever by lever, against each decoder's weight-bandwidth floor and each batch's"
            " roofline",
        ),
    ):
        runs = measurement_runs(kind)
        if not runs:
            how = (
                "benchmarks/gpu.sh on a GPU"
                if kind == "decode"
                else f"`lionrepro {kind}` (or benchmarks/gpu.sh on a GPU)"
            )
            say(f"no {kind} results: run {how}; tables/{kind}_measured.* skipped")
            continue
        if kind == "decode":  # levers were measured over several GPU runs: each row from the newest that has it
            runs = [run for run in runs if run[1].get("device_type") == "cuda"] or runs[-1:]
            headers, rows = render(newest_per_lever(runs))
            budget_headers, budget_rows = budget_table(newest_per_lever(runs))
            built.append(
                Table(
                    "evaluation_budget",
                    "What regenerating Table 2 takes: GPU-hours for the 12 test sets at the measured throughputs, disk",
                    budget_headers,
                    budget_rows,
                    "; ".join(str(path) for path, _ in runs) + "; Table 1's test hours",
                )
            )
        else:
            runs = runs[-1:]
            headers, rows = render(runs[0][1])
        source = "; ".join(
            f"{path} ({payload['provenance']['device']}, commit {payload['provenance']['commit'][:12]})"
            for path, payload in runs
        )
        built.append(Table(f"{kind}_measured", title, headers, [[str(c) for c in r] for r in rows], source))
    return built
