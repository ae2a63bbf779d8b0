"""The profiles as TOML (`tiny`, `paper`), read through `lionrepro.config`; part of the ground floor.
Imports nothing."""
