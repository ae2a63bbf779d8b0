"""`lionrepro pretrain-base`: the tiny profile's stand-in for a pretrained Qwen3-ASR, made from scratch.

Qwen3-ASR was trained with language tags on languages that include English, Mandarin and Malay but not Tamil, while
its tokenizer still covers Tamil script. The base is made the same way: a byte-level BPE tokenizer over the training
text of all four languages of Lion-12, the `tiny` model, trained on Lion-12's `pretrain` split (English, Mandarin and
Malay sentences that are in no Table 1 split, read by training voices only), with `language {Name}<asr_text>...`
targets. Unlike Qwen3-ASR's own training, it may add an auxiliary CTC loss on the audio encoder and SpecAugment
(`[pretrain.train]` `ctc_weight`, `spec_augment`): aids to a from-scratch start, which leave the saved checkpoint a
pure Qwen3-ASR; the fine-tunes never use them. Everything is seeded, so two runs of one commit with the same profile
and libraries on the same CPU setup give the same weights; the committed checkpoint in `models/tiny-base/` was made by
an earlier commit (its `train.json` says which) and has not been re-made since, so this command is not known to
reproduce it bit for bit. Settings: the
profile's `[pretrain]` section; its `[pretrain.train]` table holds the training settings
(`lionrepro.asr.training_loop.TrainConfig`). A profile that starts from a released checkpoint names it in
`[pretrain] base` and has nothing to pretrain.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lionrepro.asr.finetuning import run_training
from lionrepro.asr.model import build_model, build_processor, train_tokenizer
from lionrepro.config import load_profile
from lionrepro.corpora.data_record import data_summary
from lionrepro.corpora.manifest import read_manifest
from lionrepro.stages.options import add_training_arguments, training_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", type=Path, help="rows to train on (default: the data stage's pretrain split)")
    parser.add_argument("--text-manifest", type=Path, help="tokenizer text (default: the data stage's train split)")
    add_training_arguments(parser)


def _manifests(args: argparse.Namespace) -> tuple[Path, Path]:
    """(rows to train on, text for the tokenizer): the command line's, else the data stage's."""
    if args.manifest and args.text_manifest:
        return args.manifest, args.text_manifest
    manifests = data_summary()["manifests"]
    if "pretrain" not in manifests and not args.manifest:
        raise SystemExit(
            "the data stage built no `pretrain` split: run `lionrepro data --pretrain` (with [data] "
            "pretrain_per_language > 0) or pass --manifest"
        )
    return args.manifest or Path(manifests["pretrain"]), args.text_manifest or Path(manifests["train"])


def run(args: argparse.Namespace) -> int:
    return pretrain(load_profile(args.profile), args)


def pretrain(profile: dict, args: argparse.Namespace) -> int:
    """`run` on a profile already loaded: a study trains variants of the profile's `[pretrain]` this way."""
    section = profile["pretrain"]
    if "base" in section:
        print(f"profile {profile['name']!r} starts from the released {section['base']}: nothing to pretrain")
        return 2
    config = training_config(section["train"], args, profile, tags=True)
    manifest, text_manifest = _manifests(args)
    texts = sorted({row["text"] for row in read_manifest(text_manifest)})
    processor = build_processor(train_tokenizer(texts, section["tokenizer_vocab"]))
    model = build_model(section["model"], processor, seed=config.seed)
    languages = set(profile["data"]["pretrain_languages"])  # a --manifest with Tamil rows is still trained without
    rows = [row for row in read_manifest(manifest) if row["language"] in languages]
    out = args.out or Path(section["out"])
    return run_training(
        config,
        model,
        processor,
        rows,
        out,
        profile,
        stage="pretrain-base",
        manifest=str(manifest),
        text_manifest=str(text_manifest),
        languages=sorted(languages),
        tokenizer_vocab=section["tokenizer_vocab"],
        tokenizer_texts=len(texts),
        architecture=section["model"],
    )
