"""The launch-free decoding path of issue 12's speed goals: a static cache, explicit masks and positions, the step
replayable as a CUDA graph. On the CPU the steps run eagerly and must emit exactly the tokens of transformers'
greedy `generate` (left-padded batches included), for each family; the graph itself is exercised by the GPU script,
which checks it against these eager steps."""

from __future__ import annotations

import json
import runpy
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from lionrepro.asr import architectures
from lionrepro.asr.decode_step_pieces import fused_pieces
from lionrepro.asr.static_decoding import OPTIONS, StaticGreedyDecoder, prompt_masks
from lionrepro.speed.decode_levers import (
    EVALUATE_STATIC,
    LEVERS,
    PIPELINED,
    DecodeSettings,
    lever_options,
    run_decode,
)
from lionrepro.speed.decode_table import decode_table
from lionrepro.speed.evaluation_budget import budget_table, evaluation_budget
from lionrepro.speed.evaluation_budget import test_audio_hours as audio_hours_of_test_sets
from lionrepro.speed.pipelined_batches import decode_pipelined
from lionrepro.speed.table3_protocol import FRAMING_TOKENS, TOKENS_PER_SECOND, protocol_clips, reference_tokens

TINY = architectures.TINY.name


@pytest.mark.parametrize("durations", [[3.2], [2.0, 5.5, 3.1]], ids=["one", "left-padded"])
def test_static_decoding_emits_the_tokens_of_generate(tiny_qwen, durations):
    inputs = architectures.make_inputs(TINY, durations, seed=3)
    expected = architectures.generate_fixed(tiny_qwen, inputs, 7)
    decoder = StaticGreedyDecoder(tiny_qwen, inputs, 7, graph=False)
    assert torch.equal(decoder(), expected)
    assert torch.equal(decoder(), expected)  # a second call resets the cache in place and decodes the same


def test_a_single_token_and_a_nonsense_length(tiny_qwen):
    inputs = architectures.make_inputs(TINY, [1.0])
    assert torch.equal(
        StaticGreedyDecoder(tiny_qwen, inputs, 1, graph=False)(), architectures.generate_fixed(tiny_qwen, inputs, 1)
    )
    with pytest.raises(ValueError, match="at least 1"):
        StaticGreedyDecoder(tiny_qwen, inputs, 0, graph=False)


def test_grouped_query_decode_attention_decodes_the_same(tiny_qwen):
    assert tiny_qwen.config.text_config.num_key_value_heads < tiny_qwen.config.text_config.num_attention_heads
    inputs = architectures.make_inputs(TINY, [2.0, 4.5, 3.0], seed=2)
    plain = StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False)()
    assert torch.equal(StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False, gqa=True)(), plain)
    assert tiny_qwen.config.text_config._attn_implementation == "sdpa"  # restored after the steps


def test_merged_projections_decode_the_same_and_are_removed_after(tiny_qwen):
    inputs = architectures.make_inputs(TINY, [2.0, 4.5, 3.0], seed=6)
    plain = StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False)()
    merged = StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False, gqa=True, merged=True)
    assert merged.merged.groups == 2 * tiny_qwen.config.text_config.num_hidden_layers  # attention + MLP per layer
    assert torch.equal(merged(), plain)
    assert not any("forward" in vars(m) for m in tiny_qwen.modules())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["whisper-large-v3-turbo", "meralion-2-10b-asr"])
def test_static_decoding_matches_generate_for_the_other_families(name):
    model = architectures.build(name, num_layers_override=(1, 1))
    inputs = architectures.make_inputs(name, [2.0, 4.0], seed=1)
    expected = architectures.generate_fixed(model, inputs, 4)
    assert torch.equal(StaticGreedyDecoder(model, inputs, 4, graph=False)(), expected)
    assert torch.equal(StaticGreedyDecoder(model, inputs, 4, graph=False, gqa=True)(), expected)
    assert torch.equal(StaticGreedyDecoder(model, inputs, 4, graph=False, gqa=True, merged=True)(), expected)


@pytest.mark.slow
def test_merged_projections_under_the_compiled_pieces_compile_once_for_every_layer(tiny_qwen):
    from torch._dynamo.utils import counters

    inputs = architectures.make_inputs(TINY, [2.0, 3.0], seed=5)
    plain = StaticGreedyDecoder(tiny_qwen, inputs, 5, graph=False)()
    graphs = {}
    for merged in (False, True):
        torch._dynamo.reset()
        counters.clear()
        decoder = StaticGreedyDecoder(tiny_qwen, inputs, 5, graph=False, fused=True, gqa=True, merged=merged)
        assert torch.equal(decoder(), plain)
        graphs[merged] = counters["stats"]["unique_graphs"]
    assert graphs[True] == graphs[False]  # not one more compile per layer
    assert not any("forward" in vars(m) or "lionrepro_gate_up" in vars(m)["_buffers"] for m in tiny_qwen.modules())


@pytest.mark.slow
def test_fused_pieces_decode_the_same_and_are_removed_after(tiny_qwen):
    inputs = architectures.make_inputs(TINY, [2.0, 3.0], seed=5)
    plain = StaticGreedyDecoder(tiny_qwen, inputs, 5, graph=False)()
    assert torch.equal(StaticGreedyDecoder(tiny_qwen, inputs, 5, graph=False, fused=True)(), plain)
    assert not any("forward" in vars(m) for m in tiny_qwen.modules())  # the compiled forwards are gone
    with fused_pieces(tiny_qwen):
        assert any("forward" in vars(m) for m in tiny_qwen.modules())


def test_prompt_masks_never_let_a_real_token_see_padding_and_no_row_is_empty():
    valid = torch.tensor([[False, True, True], [True, True, True]])
    mask, key_valid = prompt_masks(valid, 5)
    assert mask.shape == (2, 1, 3, 5)
    assert key_valid.tolist() == [[False, True, True, False, False], [True, True, True, False, False]]
    first = mask[0, 0]
    assert first[0].tolist() == [True, False, False, False, False]  # the padding query sees only itself
    assert first[2].tolist() == [False, True, True, False, False]  # a real query: real keys up to itself
    assert mask.any(-1).all()


def test_table3_clips_carry_their_language_and_reference_length():
    clips = protocol_clips(40)
    assert len(clips) == 40 and clips == protocol_clips(40)
    assert {c.language for c in clips} == set(TOKENS_PER_SECOND)
    for clip in clips:
        assert clip.tokens == FRAMING_TOKENS + round(TOKENS_PER_SECOND[clip.language] * clip.duration_s)
    assert reference_tokens("ta", 6.0) > reference_tokens("en", 6.0)


def test_a_decode_run_records_every_lever_and_a_failure_without_stopping(monkeypatch):
    settings = DecodeSettings(
        models=(TINY,), fused_models=(), device="cpu", dtype="float32", clips=2, batch_size=2, max_tokens=3
    )
    results = run_decode(settings, log=lambda _: None)
    entry = results["models"][TINY]
    ran = {"generate", "graph", EVALUATE_STATIC}
    assert set(entry["levers"]) == ran  # graph+fused only where asked for, and said so
    assert entry["levers"][EVALUATE_STATIC]["graphs_match_eager"] is True  # on a GPU: graphs against eager steps
    assert set(entry["levers_not_run"]) == set(DecodeSettings.levers) - ran
    assert set(DecodeSettings.levers) <= set(LEVERS) and not any("compiled" in lever for lever in DecodeSettings.levers)
    assert entry["graph_matches_eager"] is True
    for lever in entry["levers"].values():
        assert lever["status"] == "ok" and lever["batched"]["rtfx"] > 0 and len(lever["per_clip"]) == 2
        against = lever["batched"]["against_floors"]
        assert against["published"] is None  # no datasheet figures for a CPU
        assert against["measured"]["rtfx_ceiling"] > lever["batched"]["rtfx"] and against["measured"]["prefill"] > 1
    assert entry["batch_floors"][0]["prefill_flops"] > 0
    assert all(c["tokens"] <= 3 for c in results["protocol"]["clips"])
    headers, rows = decode_table(results)
    assert len(rows) == 3 and len(headers) == len(rows[0])

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("lionrepro.speed.decode_levers.StaticGreedyDecoder.decode", broken)
    failed = run_decode(settings, log=lambda _: None)["models"][TINY]
    assert failed["levers"]["generate"]["status"] == "ok"
    assert "out of memory" in failed["levers"]["graph"]["error"]


def _decode_run(meralion_s: float, qwen_s: float, created: str) -> dict:
    lever = {"status": "ok", "latency_s": {"mean": qwen_s}}
    models = {name: {"levers": {"graph": lever, "generate": lever}} for name in architectures.POLYGLOT_OF}
    models[architectures.MERALION] = {"levers": {"graph": {"status": "ok", "latency_s": {"mean": meralion_s}}}}
    models[architectures.MERALION]["levers"]["generate"] = models[architectures.MERALION]["levers"]["graph"]
    return {
        "kind": "decode",
        "device_type": "cuda",
        "device_name": "H200",
        "dtype": "bfloat16",
        "protocol": {"clips": [{}] * 10},
        "models": models,
        "provenance": {"device": "cuda: H200", "commit": "abc", "created_utc": created},
    }


def test_the_speedup_claim_reads_the_newest_gpu_decode_run(tmp_path, monkeypatch):
    from decimal import Decimal

    from lionrepro.claims import measured
    from lionrepro.claims.verdicts import FAILS, HOLDS, NOT_YET
    from lionrepro.provenance import RESULTS_VARIABLE, write_json_atomic

    monkeypatch.setattr(measured, "REPO_ROOT", tmp_path)  # the committed GPU runs: results/measured/*/
    monkeypatch.setenv(RESULTS_VARIABLE, str(tmp_path / "results"))
    committed = tmp_path / "results/measured"
    assert {c.verdict for c in measured.protocol_speedup(Decimal(20), Decimal("0.1"))} == {NOT_YET}
    write_json_atomic(committed / "a/decode_cuda.json", _decode_run(2.0, 1.0, "2026-01-01T00:00:00Z"))
    write_json_atomic(committed / "b/decode_cuda.json", _decode_run(2.0, 0.1, "2026-02-01T00:00:00Z"))
    checks = measured.protocol_speedup(Decimal(20), Decimal("0.1"))
    assert [c.verdict for c in checks] == [HOLDS, HOLDS]  # the newer run: 20x
    assert checks[0].value == pytest.approx(20.0) and "Other runs: 2.00x" in checks[0].detail
    write_json_atomic(committed / "c/decode_cuda.json", _decode_run(2.0, 0.5, "2026-03-01T00:00:00Z"))
    assert {c.verdict for c in measured.protocol_speedup(Decimal(20), Decimal("0.1"))} == {FAILS}
    partial = _decode_run(2.0, 0.1, "2026-04-01T00:00:00Z")
    del partial["models"][architectures.MERALION]  # a newer run without MERaLiON: the side-by-side one counts
    write_json_atomic(committed / "d/decode_cuda.json", partial)
    assert {c.verdict for c in measured.protocol_speedup(Decimal(20), Decimal("0.1"))} == {FAILS}


def test_the_evaluation_budget_divides_the_test_audio_by_each_models_throughput():
    from lionrepro.speed.decode_table import newest_per_lever

    older, newer = _decode_run(2.0, 1.0, "a"), _decode_run(2.0, 1.0, "b")
    for run, rtfx in ((older, 100.0), (newer, 400.0)):
        run["settings"] = {"batch_size": 64}
        for model in run["models"].values():
            for lever in model["levers"]:
                model["levers"][lever] = model["levers"][lever] | {"batched": {"rtfx": rtfx, "batch_size": 64}}
    del newer["models"][architectures.MERALION]  # a later run of some models hides none of the others
    static = {"status": "ok", "latency_s": {"mean": 0.5}, "batched": {"rtfx": 800.0, "batch_size": 64}}
    newer["models"]["qwen3-asr-1.7b"]["levers"][EVALUATE_STATIC] = static
    merged = newest_per_lever([("runs/old/decode_cuda.json", older), ("runs/new/decode_cuda.json", newer)])
    rows = {tuple(r["models"]): r for r in evaluation_budget(merged)}
    hours = audio_hours_of_test_sets()
    assert hours == pytest.approx(99.2, abs=0.05)  # Table 1's 12 test splits
    assert rows[("Qwen3-ASR-0.6B", "Polyglot-Lion-0.6B")]["gpu_hours"] == pytest.approx(hours / 400)
    assert rows[("Qwen3-ASR-1.7B", "Polyglot-Lion-1.7B")]["lever"] == EVALUATE_STATIC  # the fastest
    assert rows[("MERaLiON-2-10B-ASR",)]["gpu_hours"] == pytest.approx(hours / 100)
    assert rows[("Qwen3-ASR-1.7B", "Polyglot-Lion-1.7B")]["static_gpu_hours"] == pytest.approx(hours / 800)
    older["models"][architectures.MERALION]["levers"][EVALUATE_STATIC] = static
    merged = newest_per_lever([("runs/old/decode_cuda.json", older), ("runs/new/decode_cuda.json", newer)])
    # MERaLiON's static evaluation runs other attention than the timed lever's: no GPU-hours claimed for it
    assert {tuple(r["models"]): r for r in evaluation_budget(merged)}[("MERaLiON-2-10B-ASR",)]["static_rtfx"] is None
    headers, table = budget_table(merged)
    assert len(table) == len(rows) + 1 and all(len(r) == len(headers) for r in table)


@pytest.mark.slow
def test_the_whole_step_compiled_decodes_the_same_and_compiles_once_per_shape(tiny_qwen):
    from torch._dynamo.utils import counters

    for merged in (False, True):
        torch._dynamo.reset()
        counters.clear()
        graphs = []
        for seconds in (2.0, 3.5):  # two prompts of different lengths, one cache length
            inputs = architectures.make_inputs(TINY, [seconds], seed=4)
            plain = StaticGreedyDecoder(tiny_qwen, inputs, 5, graph=False)()
            compiled = StaticGreedyDecoder(
                tiny_qwen, inputs, 5, graph=False, compiled=True, gqa=True, merged=merged, cache_length=80
            )
            assert torch.equal(compiled(), plain)
            graphs.append(counters["stats"]["unique_graphs"])
        assert graphs[0] >= 1 and graphs[1] == graphs[0]  # the second prompt reused the compiled step


@pytest.mark.slow
def test_the_tuned_compile_decodes_the_same_beside_the_untuned_one(tiny_qwen):
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    inputs = architectures.make_inputs(TINY, [2.0], seed=4)
    plain = StaticGreedyDecoder(tiny_qwen, inputs, 5, graph=False)()
    graphs = []
    for tuned in (False, True, False):  # one process holds both compiles, neither replacing the other
        decoder = StaticGreedyDecoder(
            tiny_qwen, inputs, 5, graph=False, compiled=True, gqa=True, merged=True, tuned=tuned, cache_length=80
        )
        assert torch.equal(decoder(), plain)
        graphs.append(counters["stats"]["unique_graphs"])
    assert graphs[0] < graphs[1] == graphs[2]  # tuning compiled its own step; the untuned one was kept
    with pytest.raises(ValueError, match="compiled"):
        StaticGreedyDecoder(tiny_qwen, inputs, 5, graph=False, tuned=True)


def test_a_decode_run_saves_after_every_lever_and_starts_nothing_past_its_deadline():
    settings = DecodeSettings(
        models=(TINY,), levers=("generate", "graph"), device="cpu", dtype="float32", clips=1, batches=0, max_tokens=3
    )
    saved = []
    run_decode(settings, log=lambda _: None, on_update=lambda r: saved.append(sorted(r["models"][TINY]["levers"])))
    assert saved == [["generate"], ["generate", "graph"], ["generate", "graph"]]  # each lever, then the model

    late = run_decode(replace(settings, deadline_s=0.0), log=lambda _: None)["models"][TINY]
    assert late["levers"] == {} and set(late["levers_not_run"]) == {"generate", "graph"}
    assert "deadline" in late["levers_not_run"]["graph"] and decode_table({"models": {TINY: late}})[1] == []


def test_a_batch_1_only_run_records_no_throughput_and_the_budget_skips_it():
    settings = DecodeSettings(
        models=(TINY,), levers=("graph",), device="cpu", dtype="float32", clips=2, batches=0, max_tokens=3
    )
    results = run_decode(settings, log=lambda _: None)
    entry = results["models"][TINY]["levers"]["graph"]
    assert entry["status"] == "ok" and entry["batched"] is None and entry["per_token_s"] > 0
    assert decode_table(results)[1][0][7] == "batch 1 only"
    assert evaluation_budget(results) == []  # no throughput, no GPU-hours


def test_each_lever_names_its_decoder_options():
    for lever in LEVERS[1:]:
        on = {option for option, value in lever_options(lever).items() if value}
        assert on == set(lever.split("+")) - {"graph", PIPELINED} and on <= set(OPTIONS)
    with pytest.raises(ValueError, match="not a static decoding lever"):
        lever_options("generate")


@pytest.mark.slow
def test_the_kernel_profile_runs_under_a_lever(tmp_path):
    profile = runpy.run_path(str(Path(__file__).parents[1] / "benchmarks" / "gpu_decode_profile.py"))
    assert profile["main"]([str(tmp_path), "--smoke", "--lever", "graph+fused+gqa+merged"]) == 0
    results = json.loads((tmp_path / "decode_profile_smoke.json").read_text())
    assert results["lever"] == "graph+fused+gqa+merged" and set(results["runs"]) == {"1", "2"}
    assert all(run["device_time_per_step_s"] > 0 for run in results["runs"].values())
    assert "aten::mm" in (tmp_path / "kernels_batch2.txt").read_text()


def test_rows_leave_a_shrinking_batch_with_their_own_tokens(tiny_qwen):
    durations, counts = [2.0, 4.5, 3.0, 1.5, 5.0, 2.5], [2, 9, 5, 12, 3, 12]
    inputs = architectures.make_inputs(TINY, durations, seed=4)
    whole = StaticGreedyDecoder(tiny_qwen, inputs, 12, graph=False)()
    within = torch.arange(12) < torch.tensor(counts)[:, None]
    expected = whole.masked_fill(~within, 0)
    assert torch.equal(StaticGreedyDecoder(tiny_qwen, inputs, counts, graph=False)(), expected)
    shrinking = StaticGreedyDecoder(tiny_qwen, inputs, counts, graph=False, gqa=True, merged=True, shrink=True)
    assert torch.equal(shrinking(), expected)
    # after 4 steps 3 rows go on (a batch of 4, one spare row), after 8 steps 2 of them
    assert sorted(shrinking.smaller) == [2, 4]
    assert torch.equal(shrinking(), expected)  # again, through the batches it made


def test_token_counts_must_fit_the_batch(tiny_qwen):
    inputs = architectures.make_inputs(TINY, [2.0, 3.0])
    with pytest.raises(ValueError, match="3 token counts for a batch of 2 rows"):
        StaticGreedyDecoder(tiny_qwen, inputs, [4, 4, 4], graph=False)


@pytest.mark.slow
def test_a_decode_run_shrinks_its_batches_as_their_rows_end():
    settings = DecodeSettings(
        models=(TINY,),
        levers=("graph+fused+gqa+merged+shrink",),
        fused_models=(TINY,),
        device="cpu",
        dtype="float32",
        clips=1,
        batch_size=8,
        sort_batches=False,
    )
    entry = run_decode(settings, log=lambda _: None)["models"][TINY]["levers"]["graph+fused+gqa+merged+shrink"]
    assert entry["status"] == "ok", entry
    (run,) = entry["batched"]["runs"]
    assert run["tokens_of_rows"] < 8 * run["tokens"]  # rows of different lengths
    assert run["shrank_to"] and max(run["shrank_to"]) < 8
    assert "graphs_match_eager" not in entry  # compiled pieces: not checked (a compile per batch size)


@pytest.mark.parametrize("shrink", [False, True], ids=["whole-batch", "shrinking"])
def test_rows_end_at_their_stop_token_or_budget_as_in_generate(shrink, tmp_path):
    """The trained base through its backend: each row ends at its stop token or its budget, as `generate` ends it,
    and with `shrink` the rows that have ended leave the batch."""
    from backend_kit import clip_rows

    from lionrepro.asr.backends import load_backend
    from lionrepro.asr.training_loop import FINAL_MODEL
    from lionrepro.config import load_profile
    from lionrepro.provenance import REPO_ROOT

    backend = load_backend(REPO_ROOT / load_profile("tiny")["pretrain"]["out"] / FINAL_MODEL)
    inputs = backend.batch(clip_rows(tmp_path, 8))
    budgets = [3, 24, 5, 24, 2, 24, 24, 4]
    with torch.inference_mode():
        expected = backend.generate(inputs, budgets)
    decoder = StaticGreedyDecoder(backend.model, inputs, budgets, graph=False, gqa=True, shrink=shrink,
                                  stop_ids=backend.stop_ids)  # fmt: skip
    ours = decoder().tolist()
    ended_by_stop = 0
    for row, (mine, theirs, budget) in enumerate(zip(ours, expected, budgets, strict=True)):
        end = next((i + 1 for i, t in enumerate(theirs[:budget]) if t in backend.stop_ids), budget)
        ended_by_stop += end < budget or theirs[end - 1] in backend.stop_ids
        assert mine[:end] == theirs[:end], row
        assert not any(mine[end:]), row  # nothing after a row's end
    assert ended_by_stop >= 3  # the long budgets end on a stop token
    assert int(decoder.full.buffers.index) < max(budgets)  # and the decode ends when every row has
    assert sorted(decoder.smaller) == ([4] if shrink else [])  # the four short budgets leave after 4 steps


def test_the_evaluation_lever_is_what_evaluate_decodes_with():
    from lionrepro.asr.static_decoding import EVALUATION_OPTIONS

    assert {o for o, on in lever_options(EVALUATE_STATIC).items() if on} == {
        o for o, on in EVALUATION_OPTIONS.items() if on
    }


def test_the_goal_script_names_only_levers_that_exist(tmp_path):
    import re
    import subprocess

    script = Path(__file__).parents[1] / "benchmarks" / "gpu_goals.sh"
    named = set(re.findall(r"graph\+[a-z+]+", script.read_text()))
    assert named and named <= set(LEVERS)
    refused = subprocess.run(["bash", str(script), str(tmp_path), "nonsense"], capture_output=True, text=True)
    assert refused.returncode == 2 and "rtfx or batch1" in refused.stderr


def test_a_pool_decodes_the_batches_that_fit_with_one_decoder(tiny_qwen):
    from lionrepro.asr.static_decoding import DecoderPool

    pool = DecoderPool(tiny_qwen, stop_ids=[], graph=False, gqa=True, shrink=True)
    first, second = (
        architectures.make_inputs(TINY, d, seed=s) for d, s in (([3.0, 2.0, 2.5], 1), ([1.0, 1.5, 2.0], 2))
    )
    ours = pool(first, [6, 3, 5])
    decoder = pool.decoders[3]
    assert torch.equal(ours, StaticGreedyDecoder(tiny_qwen, first, [6, 3, 5], graph=False)())
    ours = pool(second, [5, 7, 2])  # a shorter prompt, other budgets: the same cache and steps
    assert pool.decoders[3] is decoder
    assert torch.equal(ours, StaticGreedyDecoder(tiny_qwen, second, [5, 7, 2], graph=False)())
    pool(first, [90, 3, 5])  # more slots than its cache holds: a decoder of its own
    assert decoder.cache_length == 64 and pool.decoders[3].cache_length > 64 and pool.decoders[3] is not decoder


def test_the_gpu_static_check_runs_and_finds_the_decoders_agree(tmp_path):
    check = runpy.run_path(str(Path(__file__).parents[1] / "benchmarks" / "gpu_static_check.py"))
    assert check["main"]([str(tmp_path), "--smoke"]) == 0
    (run,) = json.loads((tmp_path / "static_check_smoke.json").read_text())["runs"].values()
    assert run["differing_rows"] == [] and run["rows"] == 12 and run["generated_tokens"] > 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["static_check_smoke.json"]  # the clips are not kept


def test_nocudnn_keeps_the_prefill_and_the_steps_off_cudnn_attention_and_decodes_the_same(tiny_qwen, monkeypatch):
    inputs = architectures.make_inputs(TINY, [2.0, 4.5, 3.0], seed=3)
    plain = StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False)()
    decoder = StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False, gqa=True, nocudnn=True)
    seen = []
    for phase in ("prefill", "step"):
        original = getattr(decoder.family, phase)

        def recording(*args, original=original, phase=phase):
            seen.append((phase, torch.backends.cuda.cudnn_sdp_enabled(), torch.backends.cuda.flash_sdp_enabled()))
            return original(*args)

        monkeypatch.setattr(decoder.family, phase, recording)
    assert torch.backends.cuda.cudnn_sdp_enabled()  # torch's default, outside the decoder
    assert torch.equal(decoder(), plain)
    assert {phase for phase, _, _ in seen} == {"prefill", "step"}
    assert all(not cudnn and flash for _, cudnn, flash in seen)
    assert torch.backends.cuda.cudnn_sdp_enabled()  # given back after


def test_pipelined_batches_decode_what_each_batch_decodes_alone(tiny_qwen):
    """Each next batch's prefill runs in a second thread while this batch decodes (on a GPU, on its own stream): the
    tokens are those of each batch decoded alone, rows leaving the batches included."""
    batches = [[2.0, 4.5, 3.0, 1.2], [5.0, 2.2, 3.3, 4.1], [1.5, 1.8, 2.6, 2.0]]
    counts = [[9, 3, 6, 2], [4, 9, 1, 7], [5, 5, 8, 3]]
    options = {"graph": False, "gqa": True, "shrink": True}
    decoders = [
        StaticGreedyDecoder(tiny_qwen, architectures.make_inputs(TINY, b, seed=k), n, **options)
        for k, (b, n) in enumerate(zip(batches, counts, strict=True))
    ]
    alone = [decoder().clone() for decoder in decoders]
    with torch.inference_mode():  # stale tokens, which each batch's prefill must clear before the batch decodes
        for decoder in decoders:
            decoder.full.buffers.tokens.fill_(-1)
    seconds, tokens = decode_pipelined(decoders, torch.device("cpu"))
    assert seconds > 0 and all(torch.equal(a, b) for a, b in zip(alone, tokens, strict=True))


def test_a_pipelined_lever_times_its_batches_overlapped_and_checks_their_tokens(monkeypatch):
    lever = "graph+fused+gqa+merged+windows+shrink+nocudnn+pipelined"
    settings = DecodeSettings(models=(TINY,), levers=(lever,), fused_models=(TINY,), device="cpu", dtype="float32",
                              clips=1, batch_size=2, batches=2, max_tokens=6)  # fmt: skip
    entry = run_decode(settings, log=lambda _: None)["models"][TINY]["levers"][lever]
    pipelined = entry["batched"]["pipelined"]
    assert entry["status"] == "ok" and pipelined["tokens_match"] is True and pipelined["rtfx"] > 0
    assert "; pipelined " in decode_table({"models": {TINY: {"levers": {lever: entry}}}})[1][0][7]

    def broken(*args):
        raise RuntimeError("stream trouble")

    monkeypatch.setattr("lionrepro.speed.decode_levers.decode_pipelined", broken)
    entry = run_decode(settings, log=lambda _: None)["models"][TINY]["levers"][lever]
    assert entry["status"] == "ok" and entry["batched"]["rtfx"] > 0  # the batches one by one are kept
    assert "stream trouble" in entry["batched"]["pipelined"]["error"]
