#!/usr/bin/env bash
# Every GPU measurement in one go (issue 12's decode levers of the 4 architectures under Table 3's protocol, the
# training cost of Qwen3-ASR 0.6B/1.7B; issue 3's speed phase with `--skip` alone), on one H100/H200 with nothing to
# download; results (JSON + summary.md + log) go to the folder given.
# Usage: bash benchmarks/gpu.sh OUT_DIR [extra args for benchmarks/gpu_measure.py, e.g. --smoke]
set -uo pipefail
OUT="${1:?usage: bash benchmarks/gpu.sh OUT_DIR [args]}"
shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$OUT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
export LIONREPRO_COMMIT="${LIONREPRO_COMMIT:-$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)}"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true) | tee "$OUT/gpu_log.txt"
"$PYTHON" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" \
  | tee -a "$OUT/gpu_log.txt"
start=$(date +%s)
"$PYTHON" benchmarks/gpu_measure.py "$OUT" "$@" 2>&1 | tee -a "$OUT/gpu_log.txt"
status=${PIPESTATUS[0]}
echo "gpu.sh finished with status $status in $(( $(date +%s) - start ))s" | tee -a "$OUT/gpu_log.txt"
exit "$status"
