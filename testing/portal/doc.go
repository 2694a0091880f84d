// Package portal is a small demonstration council portal for the SmartPath kiosk's
// end-to-end tests and `make demo`, in the spirit of a housing-repairs pilot.
//
// It is test equipment: it never links into the kiosk binaries.
//
// # Origins
//
// A [Server] serves three HTTPS origins from one process, so that a kiosk's portal proxy
// meets what a real council deployment would give it:
//
//   - portal (e.g. https://localhost:9443): the citizen's pages. It asks for a client
//     certificate and accepts only one issued by the council CA (Options.ClientCAs).
//   - sso (e.g. https://localhost:9444): a sign-in service. The first visit to a portal page
//     redirects there and back with a single-use ticket (two cross-origin Location headers).
//   - static (e.g. https://localhost:9445): CSS, script and images under /v1/, with immutable
//     caching and no cookies or client certificate, as a CDN would.
//
// Only the portal asks for a client certificate (unless Options.SSORequiresClientCert), so a
// whole session can cost the card one signature when the client reuses connections or
// resumes TLS sessions. Each origin has its own session ticket keys. A Go client must
// therefore keep one tls.ClientSessionCache per origin: the cache is keyed by server name
// alone, so with one host name for all three origins their tickets overwrite each other and
// a new portal connection offers the static origin's ticket, is refused resumption and
// costs another signature.
//
// # Refusing a certificate
//
// By default the portal completes the TLS handshake whatever certificate the client sends
// (tls.RequestClientCert) and verifies it itself; a missing, foreign, expired or unusable
// certificate then gets, on every request, status 403, the header X-Portal-Refusal (see
// [RefusalCode]: client-cert-missing, client-cert-untrusted, client-cert-expired,
// client-cert-invalid) and a plain page a citizen understands, e.g. "Your card was not
// issued by this council". A kiosk classifies the refusal from the status and header.
//
// With Options.RefuseInHandshake the portal instead fails the handshake with a TLS alert:
// certificate_required (TLS 1.3) or handshake_failure (TLS 1.2) when no certificate is sent,
// bad_certificate for a foreign one. In TLS 1.3 the client learns this on its first read, so
// a Go client sees it as the error of its first request ("remote error: tls: …").
//
// # Pages (portal origin)
//
//	GET  /                 "Welcome, <CN>" and the citizen number
//	GET  /repairs          the citizen's repairs and their progress (reported → inspected → scheduled → done)
//	GET  /repairs/new      the repair form; POST it (with the csrf field) to report a repair
//	GET  /gallery          links to /load/1…/load/5
//	GET  /load/{n}         n in 1..100: a page with exactly 20 subresources (see [Server.Subresources])
//	GET  /documents[/{id}] letters
//	GET  /live             a page using /events and /ws from script
//	POST /logout           ends the session (csrf field required)
//	GET  /events           server-sent "update" events (?count=N ends after N)
//	GET  /ws               websocket echo (HTTP/1.1; Origin must be the portal's own or absent)
//	GET  /assets/img/…     per-user images (private caching)
//	GET  /sso/callback     redeems an SSO ticket, sets the session cookie
//	GET  /_test/stats      [Stats] as JSON
//	GET  /_test/ping       "pong" for any valid council certificate, no session (for benchmarks)
//
// Pages need a session: the cookie portal_session (HttpOnly, Secure, SameSite=Lax), bound
// to the certificate that signed in. /events, /ws and /assets need only a valid
// certificate. Every HTML response carries a Content-Security-Policy with
// frame-ancestors 'none' and X-Frame-Options: DENY, which a proxy that frames the portal has
// to rewrite.
//
// # Observability
//
// Every request is logged (log/slog, message "request") with its origin, connection id,
// the connection's request number, whether the TLS session was resumed, and the client
// certificate's CN and serial hash; every handshake is logged as "tls handshake". The same
// numbers are counted: [Server.Handshakes] (full handshakes with a client certificate, i.e.
// private-key signatures), [Server.Resumptions], [Server.Requests], [Server.ConnsOpen],
// [Server.Conns] and [Server.Stats].
package portal
