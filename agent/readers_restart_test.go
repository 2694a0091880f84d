package agent

import (
	"reflect"
	"testing"

	"smartpath/agent/session"
	"smartpath/pcsc"
)

// The filter's inputs for the monitor's events around a pcscd restart. The monitor reports
// after ServiceRestored only what changed during the outage, so a reader that is still
// there must be found again from the filter's memory, or the kiosk stays out of order.
func TestReaderFilterAcrossRestart(t *testing.T) {
	const r0, r1 = "Virtual PCD 00 00", "Virtual PCD 00 01"
	steps := []struct {
		ev   pcsc.Event
		want []session.Input
	}{
		{pcsc.Event{Kind: pcsc.ReaderAdded, Reader: r0}, []session.Input{session.ServiceRestored{}, session.ReaderFound{}}},
		{pcsc.Event{Kind: pcsc.ReaderAdded, Reader: r1}, nil},
		{pcsc.Event{Kind: pcsc.CardInserted, Reader: r0}, []session.Input{session.CardInserted{Reader: r0}}},
		// pcscd restarts with the same readers.
		{pcsc.Event{Kind: pcsc.ServiceLost}, []session.Input{session.ServiceLost{}}},
		{pcsc.Event{Kind: pcsc.ServiceRestored}, []session.Input{session.ServiceRestored{}, session.ReaderFound{}}},
		{pcsc.Event{Kind: pcsc.CardRemoved, Reader: r0}, []session.Input{session.CardRemoved{Reader: r0}}},
		// pcscd restarts with one reader gone, then with none.
		{pcsc.Event{Kind: pcsc.ServiceLost}, []session.Input{session.ServiceLost{}}},
		{pcsc.Event{Kind: pcsc.ServiceRestored}, []session.Input{session.ServiceRestored{}, session.ReaderFound{}}},
		{pcsc.Event{Kind: pcsc.ReaderRemoved, Reader: r1}, []session.Input{session.CardRemoved{Reader: r1}}},
		{pcsc.Event{Kind: pcsc.ServiceLost}, []session.Input{session.ServiceLost{}}},
		{pcsc.Event{Kind: pcsc.ServiceRestored}, []session.Input{session.ServiceRestored{}, session.ReaderFound{}}},
		{pcsc.Event{Kind: pcsc.ReaderRemoved, Reader: r0}, []session.Input{session.CardRemoved{Reader: r0}, session.ReaderLost{}}},
		// and back with a reader.
		{pcsc.Event{Kind: pcsc.ServiceLost}, []session.Input{session.ServiceLost{}}},
		{pcsc.Event{Kind: pcsc.ServiceRestored}, []session.Input{session.ServiceRestored{}}},
		{pcsc.Event{Kind: pcsc.ReaderAdded, Reader: r0}, []session.Input{session.ReaderFound{}}},
	}
	f := newReaderFilter("")
	for i, s := range steps {
		if got := f.inputs(s.ev); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d (%v): inputs %#v, want %#v", i, s.ev, got, s.want)
		}
	}
}
