// Package telemetry is the agent's health and metrics endpoint for technicians and
// monitoring: GET /healthz (JSON) and GET /metrics (Prometheus text), served on the loopback
// admin listener.
//
// # Anonymous by construction
//
// docs/security.md, invariant 6: no name, certificate field, card serial or portal URL leaves the kiosk.
// Every label value is taken from a fixed list (phases, outcomes, error codes, event kinds);
// anything else is recorded as "other". The methods take no free text that could carry
// citizen data.
//
// *Telemetry implements session.Metrics, so the lead passes it to session.New as
// Deps.Metrics; the proxy calls CardSignature, the PC/SC monitor PCSCDRestarted, and the
// UI link's OnConnections calls SetUIConnections.
package telemetry
