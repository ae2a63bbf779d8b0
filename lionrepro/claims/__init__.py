"""The paper's claims as data (`claims.toml`), their verdicts, the paper-arithmetic and measured halves, the bootstrap.
May import speed, asr, corpora, the paper's numbers and the ground floor; never report or a stage."""
