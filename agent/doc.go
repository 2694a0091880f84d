// Package agent wires kiosk-agent together: the PC/SC reader monitor and the citizen's card
// (smartpath/pcsc, smartpath/pcsc/piv), the session state machine (agent/session), the portal
// proxy (agent/proxy), the kiosk UI's origin and websocket (kiosk-ui/screens, agent/uilink)
// and health and metrics (agent/telemetry).
//
// The logic lives in those packages; this one only adapts them to each other's small
// interfaces and owns their goroutines: [Agent.Run] starts everything and returns when all
// of it has stopped.
package agent
