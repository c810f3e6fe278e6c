"""The shared evaluation engine: grouping, candidate pairs, greedy matching, accumulation, summaries."""
