package session

import "time"

// View is the part of a State the kiosk UI is shown, and the one definition of which
// fields are visible in which phase: the machine broadcasts when it changes, and the UI
// channel encodes exactly it. Fields of other phases are zero.
type View struct {
	Phase Phase
	Lang  string
	// LargeText and HighContrast are the citizen's display choices, in every phase.
	LargeText, HighContrast bool
	// PIN is set in PhasePIN and PhaseVerifying.
	PIN    PINState
	HasPIN bool
	// Citizen is the cardholder's name, in PhaseConnecting and PhaseSession.
	Citizen    string
	HasCitizen bool
	// PortalURL, EndsAt, WarningEndsAt (zero when no warning is open) and IdleTimeout are
	// set in PhaseSession.
	PortalURL     string
	EndsAt        time.Time
	WarningEndsAt time.Time
	IdleTimeout   time.Duration
	// Error is set in PhaseError and PhaseOutOfOrder (ErrCodeOutOfOrder when the state
	// names none).
	Error ErrorCode
	// Goodbye is set in PhaseEnding and PhaseGoodbye, when the state has a reason.
	Goodbye Reason
}

// Visible returns what of s the kiosk UI may see.
func (s State) Visible() View {
	v := View{Phase: s.Phase, Lang: s.Lang, LargeText: s.LargeText, HighContrast: s.HighContrast}
	switch s.Phase {
	case PhasePIN, PhaseVerifying:
		v.PIN, v.HasPIN = s.PIN, true
	case PhaseConnecting:
		v.Citizen, v.HasCitizen = s.Citizen, true
	case PhaseSession:
		v.Citizen, v.HasCitizen = s.Citizen, true
		v.PortalURL, v.EndsAt, v.WarningEndsAt = s.PortalURL, s.EndsAt, s.WarningEndsAt
		v.IdleTimeout = s.Config.IdleTimeout
	case PhaseError, PhaseOutOfOrder:
		v.Error = s.Error
		if v.Error == "" {
			v.Error = ErrCodeOutOfOrder
		}
	case PhaseEnding, PhaseGoodbye:
		v.Goodbye = s.Goodbye
	}
	return v
}
