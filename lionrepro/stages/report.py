"""`lionrepro report`: execute every notebook in notebooks/ against the results files and write each as HTML with its
figures embedded, each figure as a PNG, and notebooks/report.json (what was run, at which commit, from which files).

A failing cell fails the command (exit 1, the notebook and cell named); the outputs are committed like tables/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lionrepro.config import load_profile
from lionrepro.report.notebooks import NOTEBOOKS_DIR, NotebookFailed, run_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="output folder (default: the profile's report_dir, notebooks/)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, help="folder of the notebooks to execute")


def run(args: argparse.Namespace) -> int:
    args.out = args.out or Path(load_profile(args.profile).get("report_dir", NOTEBOOKS_DIR))  # each profile its own
    try:
        done = run_report(args.out, args.notebooks)
    except NotebookFailed as error:
        print(f"lionrepro report: {error}", file=sys.stderr)
        return 1
    if not done:
        print(f"lionrepro report: no notebooks in {args.notebooks}", file=sys.stderr)
        return 1
    print(f"wrote {args.out / 'report.json'}: {len(done)} notebooks, {sum(len(e.figures) for e in done)} figures")
    return 0
