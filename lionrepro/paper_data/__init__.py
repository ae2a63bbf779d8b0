"""The paper's Tables 1-4 as CSV, copied from shared/paper/ and never edited here; read only through `lionrepro.paper`.
Imports nothing."""
