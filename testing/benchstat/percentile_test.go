package benchstat

import (
	"slices"
	"testing"
	"time"
)

// ms1to is 1 ms, 2 ms, … n ms, shuffled.
func ms1to(n int) []time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = time.Duration((i*7)%n+1) * time.Millisecond // 7 is prime to every n used
	}
	return ds
}

func TestPercentileNearestRank(t *testing.T) {
	for _, tc := range []struct {
		n    int
		q    float64
		want time.Duration // the want-th smallest, in ms
	}{
		{1, 0, 1}, {1, 0.5, 1}, {1, 1, 1},
		{3, 0.5, 2}, {3, 0.99, 3},
		{10, 0, 1}, {10, 0.1, 1}, {10, 0.11, 2}, {10, 0.5, 5}, {10, 0.7, 7}, {10, 0.99, 10}, {10, 1, 10},
		{20, 0.5, 10}, {20, 0.95, 19}, {20, 0.99, 20},
		{100, 0.5, 50}, {100, 0.99, 99}, {100, 0.995, 100},
		{200, 0.99, 198},
	} {
		if got := Percentile(ms1to(tc.n), tc.q); got != tc.want*time.Millisecond {
			t.Errorf("Percentile(1…%d ms, %v) = %v, want %v", tc.n, tc.q, got, tc.want*time.Millisecond)
		}
	}
}

func TestPercentileEmpty(t *testing.T) {
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil, 0.5) = %v, want 0", got)
	}
}

func TestPercentileLeavesItsInput(t *testing.T) {
	ds := ms1to(10)
	before := slices.Clone(ds)
	Percentile(ds, 0.5)
	if !slices.Equal(ds, before) {
		t.Errorf("Percentile reordered its input: %v, was %v", ds, before)
	}
}

func TestPercentileRefusesQOutsideZeroToOne(t *testing.T) {
	for _, q := range []float64{-0.1, 1.01, 99} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Percentile(…, %v) did not panic", q)
				}
			}()
			Percentile(ms1to(3), q)
		}()
	}
}

func TestPercentileMs(t *testing.T) {
	ds := []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond, 250 * time.Microsecond}
	if got := PercentileMs(ds, 0.5); got != 1.5 {
		t.Errorf("PercentileMs(…, 0.5) = %v, want 1.5", got)
	}
}
