package agent

import (
	"context"
	"strings"

	"smartpath/agent/session"
	"smartpath/pcsc"
)

// readerFilter turns the monitor's events into the session machine's inputs: only readers
// whose name contains the configured substring count, and the machine hears of a reader
// only when the first usable one appears or the last one goes.
type readerFilter struct {
	match     string
	present   map[string]bool
	serviceUp bool
}

func newReaderFilter(match string) *readerFilter {
	return &readerFilter{match: match, present: map[string]bool{}}
}

func (f *readerFilter) usable(reader string) bool {
	return f.match == "" || strings.Contains(reader, f.match)
}

// inputs maps one monitor event to the machine's inputs. The monitor's first event after
// it reached pcscd (at start there is no ServiceRestored) also tells the machine that PC/SC
// is up.
func (f *readerFilter) inputs(ev pcsc.Event) []session.Input {
	switch ev.Kind {
	case pcsc.ServiceLost:
		// Keep the readers: after ServiceRestored the monitor reports only what changed
		// during the outage, not the readers that are still there.
		f.serviceUp = false
		return []session.Input{session.ServiceLost{}}
	case pcsc.ServiceRestored:
		f.serviceUp = true
		in := []session.Input{session.ServiceRestored{}}
		if len(f.present) > 0 {
			// The machine forgot the reader with ServiceLost.
			in = append(in, session.ReaderFound{})
		}
		return in
	}
	if !f.serviceUp {
		f.serviceUp = true
		return append([]session.Input{session.ServiceRestored{}}, f.inputs(ev)...)
	}
	if !f.usable(ev.Reader) {
		return nil
	}
	switch ev.Kind {
	case pcsc.ReaderAdded:
		had := len(f.present) > 0
		f.present[ev.Reader] = true
		if !had {
			return []session.Input{session.ReaderFound{}}
		}
	case pcsc.ReaderRemoved:
		if !f.present[ev.Reader] {
			return nil
		}
		delete(f.present, ev.Reader)
		in := []session.Input{session.CardRemoved{Reader: ev.Reader}}
		if len(f.present) == 0 {
			in = append(in, session.ReaderLost{})
		}
		return in
	case pcsc.CardInserted:
		if !f.present[ev.Reader] {
			// A card event for a reader the monitor has not announced yet.
			f.present[ev.Reader] = true
			if len(f.present) == 1 {
				return []session.Input{session.ReaderFound{}, session.CardInserted{Reader: ev.Reader, ATR: ev.ATR}}
			}
		}
		return []session.Input{session.CardInserted{Reader: ev.Reader, ATR: ev.ATR}}
	case pcsc.CardRemoved:
		return []session.Input{session.CardRemoved{Reader: ev.Reader}}
	}
	return nil
}

// watchReaders runs the PC/SC monitor until ctx ends and feeds the machine.
func watchReaders(ctx context.Context, match string, onEvent func(pcsc.Event), send func(session.Input)) error {
	events := make(chan pcsc.Event, 32)
	mon := pcsc.NewMonitor(pcsc.MonitorOptions{})
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx, events) }()
	f := newReaderFilter(match)
	for {
		select {
		case ev := <-events:
			if onEvent != nil {
				onEvent(ev)
			}
			for _, in := range f.inputs(ev) {
				send(in)
			}
		case err := <-done:
			return err
		}
	}
}
