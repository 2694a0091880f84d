package benchstat

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Percentile returns the q-quantile of ds, q in [0, 1], by the nearest-rank method: the
// smallest sample such that at least q of the samples are at or below it, that is the
// ⌈q·n⌉-th smallest of n samples (the smallest for q = 0). So Percentile(ds, 0.5) is the
// lower median, Percentile(ds, 1) the worst sample, and with fewer than 100 samples
// Percentile(ds, 0.99) is the worst too. The result is always one of the samples; ds is not
// modified (a sorted copy is used). An empty ds gives 0. A q outside [0, 1] panics: it is a
// mistake in the benchmark, such as 99 for 0.99.
func Percentile(ds []time.Duration, q float64) time.Duration {
	if !(q >= 0 && q <= 1) {
		panic(fmt.Sprintf("benchstat.Percentile: q = %v, want 0 ≤ q ≤ 1", q))
	}
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	// q·n computed in floating point can land just above the integer it should be (0.7·10 is
	// 7.000000000000001), which would push the rank up by one: round that error away.
	rank := int(math.Ceil(q*float64(len(s)) - 1e-9))
	return s[max(rank, 1)-1]
}

// PercentileMs is Percentile in milliseconds, as benchmarks report it.
func PercentileMs(ds []time.Duration, q float64) float64 {
	return Ms(Percentile(ds, q))
}
