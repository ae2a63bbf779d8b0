"""Tables (and later notebooks) rendered from the paper's data and results files, never from typed numbers.
May import claims, speed, asr, corpora, the paper's numbers and the ground floor; never a stage."""
