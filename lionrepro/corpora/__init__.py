"""Speech corpora: the real corpora's registry, audio, ingestion, manifests, Algorithm 1 and Lion-12 (`lion12/`).
Knows no model and no timing: may import only the paper's numbers and the ground floor."""
