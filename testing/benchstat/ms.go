package benchstat

import "time"

// Ms is d in milliseconds, fractions included (1500 µs is 1.5), for a metric named "…-ms".
func Ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
