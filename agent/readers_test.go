package agent

import (
	"reflect"
	"testing"

	"smartpath/agent/session"
	"smartpath/pcsc"
)

func TestReaderFilter(t *testing.T) {
	f := newReaderFilter("PCD 00 00")
	steps := []struct {
		ev   pcsc.Event
		want []session.Input
	}{
		{pcsc.Event{Kind: pcsc.ReaderAdded, Reader: "Other Reader"}, []session.Input{session.ServiceRestored{}}},
		{pcsc.Event{Kind: pcsc.ReaderAdded, Reader: "Virtual PCD 00 00"}, []session.Input{session.ReaderFound{}}},
		{pcsc.Event{Kind: pcsc.CardInserted, Reader: "Other Reader", ATR: []byte{1}}, nil},
		{pcsc.Event{Kind: pcsc.CardInserted, Reader: "Virtual PCD 00 00", ATR: []byte{2}},
			[]session.Input{session.CardInserted{Reader: "Virtual PCD 00 00", ATR: []byte{2}}}},
		{pcsc.Event{Kind: pcsc.ReaderRemoved, Reader: "Virtual PCD 00 00"},
			[]session.Input{session.CardRemoved{Reader: "Virtual PCD 00 00"}, session.ReaderLost{}}},
		{pcsc.Event{Kind: pcsc.ServiceLost}, []session.Input{session.ServiceLost{}}},
		{pcsc.Event{Kind: pcsc.ServiceRestored}, []session.Input{session.ServiceRestored{}}},
		{pcsc.Event{Kind: pcsc.CardInserted, Reader: "Virtual PCD 00 00", ATR: []byte{3}},
			[]session.Input{session.ReaderFound{}, session.CardInserted{Reader: "Virtual PCD 00 00", ATR: []byte{3}}}},
	}
	for i, s := range steps {
		if got := f.inputs(s.ev); !reflect.DeepEqual(got, s.want) {
			t.Errorf("step %d (%v): inputs = %#v, want %#v", i, s.ev, got, s.want)
		}
	}
}
