package benchstat

import (
	"testing"
	"time"
)

func TestMs(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want float64
	}{{0, 0}, {time.Millisecond, 1}, {1500 * time.Microsecond, 1.5}, {42 * time.Microsecond, 0.042}, {2 * time.Second, 2000}} {
		if got := Ms(tc.d); got != tc.want {
			t.Errorf("Ms(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}
