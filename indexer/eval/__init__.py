"""Gold sets, retrieval metrics, pipeline comparisons and generated benchmarks."""
