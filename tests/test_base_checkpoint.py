"""The committed base checkpoint (`[pretrain] out`): it loads, its record says how it was made, and it transcribes.

The clips are Lion-12 test utterances of the tiny profile's own plan (sentences never trained on), rendered here by
eSpeak NG, three per dataset. The base was trained on English, Mandarin and Malay with language tags, so it should
name those languages in its prefix and never name Tamil, which it never heard; its error rates are measured by
`lionrepro experiments` on the whole test split, not here.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from lionrepro.asr.evaluation import TokenBudget, decode
from lionrepro.asr.finetuning import RECORD
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL, NOT_RESULT_AFFECTING
from lionrepro.config import load_profile
from lionrepro.corpora.lion12.build import Lion12Config
from lionrepro.corpora.lion12.plan import first_per_dataset, plan
from lionrepro.corpora.lion12.synth import render_rows
from lionrepro.languages import language
from lionrepro.provenance import REPO_ROOT

PROFILE = load_profile("tiny")
BASE = REPO_ROOT / PROFILE["pretrain"]["out"]
PER_DATASET = 3


@pytest.fixture(scope="module")
def hypotheses(tmp_path_factory):
    utterances = first_per_dataset(plan(Lion12Config.from_profile(PROFILE).plan_config()), "test", PER_DATASET)
    rows = render_rows(utterances, tmp_path_factory.mktemp("clips"))
    model, processor = load_checkpoint(BASE / FINAL_MODEL)
    budget = TokenBudget(**PROFILE["evaluate"]["budget"])
    return decode(model.eval(), processor, rows, PROFILE["evaluate"]["batch_size"], budget=budget, progress=False)


def test_the_record_says_how_the_base_was_made():
    record = json.loads((BASE / RECORD).read_text())
    assert record["result"]["steps"] == PROFILE["pretrain"]["train"]["steps"]
    made_with = record["provenance"]["config"]
    for key, value in PROFILE["pretrain"]["train"].items():  # the profile says how the committed base was made
        if key not in NOT_RESULT_AFFECTING:
            assert made_with[key] == value, key
    assert record["result"]["stopped_by"] == "steps"
    assert sorted(record["rows_per_language"]) == sorted(PROFILE["data"]["pretrain_languages"])
    assert (
        record["provenance"]["training_targets"]["naming_a_language"]
        == record["provenance"]["training_targets"]["rows"]
    )


def test_the_base_names_its_three_languages_and_never_tamil(hypotheses):
    named = defaultdict(list)
    for h in hypotheses:
        named[h["language"]].append(h["predicted_language"])
    for code in PROFILE["data"]["pretrain_languages"]:
        right = sum(1 for name in named[code] if name and language(name).code == code)
        assert right >= 0.75 * len(named[code]), (code, named[code])
    assert all(name is None or language(name).code != "ta" for names in named.values() for name in names)


def test_the_base_writes_transcripts(hypotheses):
    transcribed = [h for h in hypotheses if h["language"] != "ta" and h["hypothesis"]]
    assert len(transcribed) >= 0.9 * sum(1 for h in hypotheses if h["language"] != "ta")
