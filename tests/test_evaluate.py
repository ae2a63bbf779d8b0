"""Evaluation: batched decoding gives exactly the one-at-a-time hypotheses, in the input order; the scores
aggregate as the paper does (per dataset, per language, mean over the 12 test sets); results and provenance are
written."""

import json

import numpy as np
import pytest
import torch

from lionrepro import paper
from lionrepro.asr import finetune_format
from lionrepro.asr.backends.qwen3_asr import Qwen3ASR
from lionrepro.asr.evaluation import (
    HYPOTHESES_FILE,
    RESULTS_FILE,
    TokenBudget,
    _cut,
    decode,
    evaluate,
    length_sorted_batches,
    summarize,
)
from lionrepro.asr.model import build_model, build_processor, save_checkpoint, train_tokenizer
from lionrepro.corpora.audio import from_array, write_flac
from lionrepro.corpora.lion12.text import vocabulary
from lionrepro.corpora.manifest import write_manifest
from lionrepro.stages.cli import main

# Varied lengths (one under the feature extractor's 0.5 s minimum) so that batches need padding on both sides.
DURATIONS = (1.7, 0.4, 2.9, 1.1, 2.2, 0.8, 2.6, 1.4, 0.6, 2.0)
SMALL_BUDGET = TokenBudget(per_second=6.0, extra=4)  # rows stop at 6-21 tokens: different budgets in each batch


def _clip(index: int, duration: float) -> np.ndarray:
    """A different sound per row (tones and noise), so that a random model answers each row differently."""
    rng = np.random.default_rng(index)
    t = np.arange(int(16_000 * duration)) / 16_000
    tones = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(100, 4_000, size=3))
    return (0.2 * tones / 3 + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A seeded random `tiny` model with a tokenizer trained on Lion-12 words of all four languages."""
    texts = [" ".join(vocabulary(code, 120)[i : i + 6]) for code in ("en", "zh", "ta", "ms") for i in range(0, 114, 6)]
    processor = build_processor(train_tokenizer(texts, vocab_size=600))
    return build_model("tiny", processor, seed=0).eval(), processor


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audio")
    result = []
    for i, duration in enumerate(DURATIONS):
        path = folder / f"clip{i}.flac"
        write_flac(path, from_array(_clip(i, duration), 16_000))
        code = ("en", "zh", "ta", "ms")[i % 4]
        result.append(
            {
                "id": f"u{i}",
                "dataset": "D",
                "language": code,
                "split": "test",
                "audio": str(path),
                "duration": duration,
                "text": "x",
            }
        )
    return result


def test_batched_decoding_gives_exactly_the_one_at_a_time_hypotheses(tiny, rows):
    model, processor = tiny
    alone = decode(model, processor, rows, batch_size=1, budget=SMALL_BUDGET, progress=False)
    batched = decode(model, processor, rows, batch_size=4, budget=SMALL_BUDGET, progress=False)
    assert [h["id"] for h in batched] == [r["id"] for r in rows]  # the input order, not the length order
    assert batched == alone
    assert len({h["raw_output"] for h in alone}) > len(rows) // 2, "rows must differ, or the order is not tested"


def test_each_row_of_a_batch_gets_exactly_the_inputs_it_gets_alone(tiny, rows):
    """Prompts left-padded, features right-padded and masked; the next-token logits agree with decoding alone.

    (Without asr_format's hop padding and feature masking, a short clip's last mel frames change by up to ~0.9 in a
    batch and its logits by ~5e-3 on this model: enough to flip a near-tie.)"""
    model, processor = tiny
    batch = finetune_format.generation_batch(rows, processor)
    with torch.inference_mode():
        together = model(**batch).logits[:, -1]
        for i, row in enumerate(rows):
            alone = finetune_format.generation_batch([row], processor)
            prompt, frames = alone["input_ids"].shape[1], alone["input_features"].shape[-1]
            assert torch.equal(batch["input_ids"][i, -prompt:], alone["input_ids"][0])
            assert batch["attention_mask"][i].tolist() == [0] * (batch["input_ids"].shape[1] - prompt) + [1] * prompt
            assert torch.equal(batch["input_features"][i, :, :frames], alone["input_features"][0])
            assert torch.equal(batch["input_features_mask"][i, :frames], alone["input_features_mask"][0])
            assert not batch["input_features_mask"][i, frames:].any()
            torch.testing.assert_close(together[i], model(**alone).logits[0, -1], rtol=0, atol=1e-5)


def test_each_row_stops_at_its_own_budget(tiny, rows):
    model, processor = tiny
    hypotheses = decode(model, processor, rows, batch_size=len(rows), budget=SMALL_BUDGET, progress=False)
    for row, h in zip(rows, hypotheses, strict=True):
        if h["hit_token_budget"]:
            tokens = processor.tokenizer(h["raw_output"], add_special_tokens=False)["input_ids"]
            assert len(tokens) <= SMALL_BUDGET(row["duration"])


def test_batches_are_longest_first_and_cover_every_row_once():
    rows = [{"duration": d} for d in (1.0, 3.0, 2.0, 3.0, 0.5)]
    assert length_sorted_batches(rows, 2) == [[1, 3], [2, 0], [4]]
    with pytest.raises(ValueError, match="at least 1"):
        length_sorted_batches(rows, 0)


def test_a_row_is_cut_at_its_first_stop_token_or_its_budget():
    assert _cut([5, 6, 2, 7, 2], budget=10, stop_ids=[2]) == ([5, 6], False)
    assert _cut([5, 6, 7, 8, 2], budget=3, stop_ids=[2]) == ([5, 6, 7], True)
    assert _cut([2, 9], budget=3, stop_ids=[2]) == ([], False)  # an empty hypothesis


def test_token_budget_grows_with_the_audio():
    assert TokenBudget(per_second=20.0, extra=12)(1.01) == 12 + 21


def _hyp(code, dataset, reference, hypothesis, written):
    return {
        "language": code,
        "dataset": dataset,
        "reference": reference,
        "hypothesis": hypothesis,
        "written_language": written,
    }


def _made_up_set():
    """One utterance per benchmark; each dataset's error rate is known by hand."""
    rows = []
    for b in paper.BENCHMARKS:
        code = b.language.code
        if code == "zh":  # CER over 4 characters: one substitution = 25%
            rows.append(_hyp(code, b.dataset, "我们今天", "我们明天", "zh"))
        elif code == "ta":  # 2 words, both wrong = 100%; the hypothesis is in Han script
            rows.append(_hyp(code, b.dataset, "நான் இந்த", "我们", "zh"))
        else:  # 4 words, one deleted = 25%; the last Malay hypothesis is empty
            empty = b.column == "ms_Fleurs"
            rows.append(
                _hyp(
                    code, b.dataset, "red green blue black", "" if empty else "red green blue", None if empty else code
                )
            )
    return rows


def test_scores_aggregate_as_the_paper_does():
    rows = _made_up_set()
    rows.append(_hyp("en", "LibriSpeech", "cat dog", "cat dog", "en"))  # a second LibriSpeech utterance
    results = summarize(rows)
    assert results["datasets"]["en/LibriSpeech"]["error_rate"] == pytest.approx(100 / 6)  # corpus level: 1 of 6
    assert results["datasets"]["ms/FLEURS"]["error_rate"] == pytest.approx(100.0)
    rates = {"en": [100 / 6, 25], "zh": [25] * 4, "ta": [100] * 4, "ms": [25, 100]}
    for code, values in rates.items():
        assert results["languages"][code]["average"] == pytest.approx(np.mean(values)), code
    assert results["languages"]["en"]["pooled"] == pytest.approx(100 * 2 / 10)
    assert results["benchmarks"]["zh_AISH3"] == pytest.approx(25)
    assert results["average_12"] == pytest.approx((100 / 6 + 25 + 4 * 25 + 4 * 100 + 25 + 100) / 12)
    assert results["missing_benchmarks"] == []
    # the same hypotheses under asr-evalkit's normaliser, side by side (these plain lowercase words score alike)
    parity = results["evalkit_normaliser"]
    assert set(parity["benchmarks"]) == set(results["benchmarks"])
    assert parity["average_12"] == pytest.approx(results["average_12"])
    lid = results["implicit_lid"]
    assert lid["per_language"] == pytest.approx({"en": 1.0, "zh": 1.0, "ta": 0.0, "ms": 0.5})
    assert lid["overall"] == pytest.approx((3 + 4 + 0 + 1) / 13)


def test_the_12_set_average_needs_all_12_sets():
    rows = [r for r in _made_up_set() if r["dataset"] != "SLR65"]
    results = summarize(rows)
    assert results["average_12"] is None
    assert results["missing_benchmarks"] == ["ta_SLR65"]


def test_evaluate_writes_raw_hypotheses_and_results_with_provenance(tiny, rows, tmp_path):
    model, processor = tiny
    results = evaluate(
        Qwen3ASR(model, processor),
        rows,
        tmp_path,
        batch_size=3,
        budget=SMALL_BUDGET,
        progress=False,
        checkpoint="random tiny",
        manifest="made up",
        seed=0,
    )
    written = [json.loads(line) for line in (tmp_path / HYPOTHESES_FILE).read_text().splitlines()]
    assert [h["id"] for h in written] == [r["id"] for r in rows]
    assert {"raw_output", "predicted_language", "hypothesis", "written_language"} <= set(written[0])
    on_disk = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert on_disk["provenance"]["checkpoint"] == "random tiny" and on_disk["provenance"]["seed"] == 0
    assert on_disk["decoding"]["utterances"] == len(rows) and on_disk["decoding"]["utterances_per_second"] > 0
    assert set(results["datasets"]) == {"en/D", "zh/D", "ta/D", "ms/D"}
    assert results["average_12"] is None  # made-up datasets are none of Table 2's


def test_the_evaluate_stage_decodes_a_manifest_with_a_saved_checkpoint(tiny, rows, tmp_path):
    model, processor = tiny
    save_checkpoint(model, processor, tmp_path / "ckpt")
    write_manifest(tmp_path / "test.jsonl", rows[:3])
    out = tmp_path / "eval"
    args = ["evaluate", "--checkpoint", str(tmp_path / "ckpt"), "--manifest", str(tmp_path / "test.jsonl")]
    assert main([*args, "--out", str(out), "--batch-size", "2", "--device", "cpu", "--quiet"]) == 0
    results = json.loads((out / RESULTS_FILE).read_text())
    assert results["provenance"]["checkpoint"] == str(tmp_path / "ckpt")
    assert results["decoding"]["batch_size"] == 2 and results["decoding"]["utterances"] == 3
    assert len((out / HYPOTHESES_FILE).read_text().splitlines()) == 3
