"""The `lionrepro` command: one subcommand per stage, each a thin wrapper over its module's `run(args)`.

Only the chosen stage's module is imported, so a light stage starts in a moment; a stage whose dependencies are
missing on this machine is still listed, and says what is missing when it is asked for.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator

from lionrepro.config import load_profile
from lionrepro.errors import UserError
from lionrepro.provenance import RESULTS_VARIABLE

# subcommand -> (module, one-line help), in pipeline order. Each module defines `add_arguments(parser)` and
# `run(args) -> int`.
STAGES: dict[str, tuple[str, str]] = {
    "data": ("lionrepro.stages.data", "build or load the corpora and write per-split manifests"),
    "balance": ("lionrepro.stages.balance", "apply Algorithm 1 to training manifests"),
    "pretrain-base": ("lionrepro.stages.pretrain_base", "train the tiny profile's base model (en, zh, ms; with tags)"),
    "train": ("lionrepro.stages.train", "fine-tune from a base checkpoint on the balanced manifest"),
    "evaluate": ("lionrepro.stages.evaluate", "decode a test manifest with a checkpoint and score it"),
    "experiments": ("lionrepro.stages.experiments", "the recipe and its ablations from one base, scored side by side"),
    "speed": ("lionrepro.stages.speed", "latency and throughput of the architectures, side by side"),
    "cost": ("lionrepro.stages.cost", "training throughput and projected GPU-hours and dollars"),
    "tables": ("lionrepro.stages.tables", "regenerate tables/ from the paper's data and results files"),
    "claims": ("lionrepro.stages.claims", "check every claim (pytest replication/ -m claims)"),
    "report": ("lionrepro.stages.report", "execute the notebooks against results/: HTML and PNG figures"),
}


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` stage's module is imported (the others may pull in torch or eSpeak NG)."""
    parser = argparse.ArgumentParser(
        prog="lionrepro", description="Replication harness for Polyglot-Lion (arXiv 2603.16184): one stage per command."
    )
    parser.add_argument("--profile", default="tiny", help="tiny (default), paper, or a path to a profile .toml")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for name, (module_name, help_text) in STAGES.items():
        stage_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name != chosen:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:  # the stage's dependencies are missing: say so when it is asked for
            stage_parser.set_defaults(_unavailable=f"stage {name!r} cannot run here: {error}")
            continue
        module.add_arguments(stage_parser)
        stage_parser.set_defaults(_run=module.run)
    return parser


@contextlib.contextmanager
def _results_of(profile: dict) -> Iterator[None]:
    """Each profile's outputs in its own `results_dir` (a paper run never touches the tiny results), unless
    $LIONREPRO_RESULTS says otherwise; for this call only."""
    if RESULTS_VARIABLE in os.environ:
        yield
        return
    os.environ[RESULTS_VARIABLE] = profile.get("results_dir", "results")
    try:
        yield
    finally:
        os.environ.pop(RESULTS_VARIABLE, None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if arg in STAGES), None)
    args = build_parser(chosen).parse_args(argv)
    if getattr(args, "_unavailable", None):
        print(args._unavailable, file=sys.stderr)
        return 2
    try:
        profile = load_profile(args.profile)  # every stage, whether or not it reads the profile, refuses an unknown one
        with _results_of(profile):
            return int(args._run(args) or 0)
    except (UserError, FileNotFoundError) as error:  # what was asked for cannot be had: one line, no traceback
        print(f"lionrepro {args.stage}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
