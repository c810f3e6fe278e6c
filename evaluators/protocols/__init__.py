"""Evaluation protocols: each states its rules (defaults, which stats, how they are named)."""
