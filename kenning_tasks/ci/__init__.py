"""What CI needs around a run: quality gates, the run summary, JUnit XML, shards, diffs."""
