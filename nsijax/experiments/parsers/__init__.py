"""Readers of experiment definitions: spec TOML validation, GLoBES AEDL, numeric tables."""
