// Package benchstat is the benchmarks' one way to summarise the durations they sample:
// a percentile (Percentile, nearest-rank), and milliseconds for b.ReportMetric (Ms).
//
// Each benchmark keeps its own metric names (bench/results.txt and docs/benchmarks.md refer
// to them), so the package reports nothing itself:
//
//	b.ReportMetric(benchstat.PercentileMs(took, 0.5), "broadcast-p50-ms")
//	b.ReportMetric(benchstat.PercentileMs(took, 0.99), "broadcast-p99-ms")
//
// It is for _test.go files only: production binaries link nothing under testing/
// (agent/deps_test.go).
package benchstat
