"""`lionrepro claims`: run the claims suite (pytest replication/ -m claims), which writes results/claims.json."""

from __future__ import annotations

import argparse
import os
import shutil

from lionrepro.claims.staleness import PROFILE_VARIABLE
from lionrepro.claims.verdicts import ACCEPTING, claims_file, reference_file
from lionrepro.provenance import REPO_ROOT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept",
        action="store_true",
        help="after the run, make its verdicts the committed reference that later runs may not fall below",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")


def run(args: argparse.Namespace) -> int:
    import pytest

    os.environ[PROFILE_VARIABLE] = args.profile  # replication/test_results_are_fresh.py checks against it
    if args.accept and args.pytest_args:
        print("--accept makes the whole claims run the reference: run it without pytest arguments")
        return 2
    if args.accept:
        os.environ[ACCEPTING] = "1"
    status = pytest.main(
        [str(REPO_ROOT / "replication"), "-m", "claims", "-rs", "-s" if args.accept else "-q", *args.pytest_args]
    )
    if args.accept:
        if status != 0:
            print("claims run failed: the reference is left as it was")
            return int(status)
        reference_file().parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(claims_file(), reference_file())
        print(f"accepted {claims_file()} as {reference_file()}")
    return int(status)
