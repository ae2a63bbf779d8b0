"""The ASR models: full-size architectures, the tiny Qwen3-ASR, its fine-tuning format, training, evaluation, scoring.
May import corpora (audio, manifests), the paper's numbers and the ground floor; never speed, claims, report, stages."""
