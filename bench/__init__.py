"""`make bench`: the measures of spec/performance.md, written to bench/results.json."""
