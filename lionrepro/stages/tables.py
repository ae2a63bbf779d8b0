"""`lionrepro tables`: regenerate tables/ from the paper's data and the results files, and nothing else."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionrepro.config import load_profile
from lionrepro.provenance import git_commit
from lionrepro.report.table_rendering import write_table
from lionrepro.report.table_set import every_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="output folder (default: the profile's tables_dir)")
    parser.add_argument("--seed", type=int, default=0, help="seed of Algorithm 1 for the balanced Table 1")


def run(args: argparse.Namespace) -> int:
    commit = git_commit()
    profile = load_profile(args.profile)
    out = args.out or Path(profile.get("tables_dir", "tables"))  # each profile its own folder
    for table in every_table(args.seed, profile=profile["name"]):
        for path in write_table(table, out, commit):
            print(f"wrote {path}")
    return 0
