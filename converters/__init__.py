"""Converters from dataset formats into COCO-style JSON (one module per format)."""
