package pcsc

import (
	"errors"

	"github.com/ebfe/scard"
)

// pcscAPI is the part of PC/SC the Monitor uses, so that its state diffing and recovery can
// be tested without pcscd. scardAPI implements it over github.com/ebfe/scard.
type pcscAPI interface {
	establish() (pcscContext, error)
}

// pcscContext is one PC/SC context. cancel may be called from another goroutine while
// getStatusChange waits; every other method is called by one goroutine at a time.
type pcscContext interface {
	// listReaders returns the reader names; no readers is an empty list, not an error.
	listReaders() ([]string, error)
	// getStatusChange waits without timeout until a reader's state differs from its current
	// state, then fills in event and atr (SCardGetStatusChange with INFINITE).
	getStatusChange(states []readerState) error
	cancel() error
	release() error
}

// readerState is one entry of SCardGetStatusChange. current and event are SCARD_STATE_*
// flags with pcsc-lite's event counter in the upper 16 bits.
type readerState struct {
	reader         string
	current, event uint32
	atr            []byte
}

// pnpReader is the pseudo-reader whose state changes when a reader is added or removed.
const pnpReader = `\\?PnP?\Notification`

type scardAPI struct{}

func (scardAPI) establish() (pcscContext, error) {
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, wrapSCard("SCardEstablishContext", err)
	}
	return scardContext{c}, nil
}

// scardContext does not use IsValid: after pcscd restarts, an old context still reports valid
// while every call on it fails with SCARD_E_NO_SERVICE.
type scardContext struct{ c *scard.Context }

func (s scardContext) listReaders() ([]string, error) {
	names, err := s.c.ListReaders()
	if err != nil {
		if err := wrapSCard("SCardListReaders", err); !errors.Is(err, ErrNoReaders) {
			return nil, err
		}
		return nil, nil
	}
	return names, nil
}

func (s scardContext) getStatusChange(states []readerState) error {
	rs := make([]scard.ReaderState, len(states))
	for i, st := range states {
		rs[i] = scard.ReaderState{Reader: st.reader, CurrentState: scard.StateFlag(st.current)}
	}
	if err := s.c.GetStatusChange(rs, -1); err != nil {
		return wrapSCard("SCardGetStatusChange", err)
	}
	for i := range states {
		states[i].event = uint32(rs[i].EventState)
		states[i].atr = append([]byte(nil), rs[i].Atr...)
	}
	return nil
}

func (s scardContext) cancel() error  { return wrapSCard("SCardCancel", s.c.Cancel()) }
func (s scardContext) release() error { return wrapSCard("SCardReleaseContext", s.c.Release()) }
