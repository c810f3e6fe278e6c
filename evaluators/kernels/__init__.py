"""Numeric kernels: box IoU, RLE decoding and exact mask intersection."""
