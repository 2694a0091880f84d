// Package proxy is the citizen's portal proxy: loopback HTTP in, mutual TLS with the card key
// out.
//
// During a session the kiosk UI (origin U) shows the council portal in a full-size frame whose
// origin is this proxy. [Start] binds one loopback listener per configured portal origin (the
// home origin first, then e.g. an SSO host and a static host) and forwards each to its origin
// only, over a fresh TLS client built for this session alone.
//
// # One card signature per session
//
// The client key is the citizen's smart card: a [crypto.Signer] that costs about 200 ms per
// signature. The session serialises and counts signatures ([Session.Signatures]) and refuses
// them once closed. Connections are reused (HTTP/2 where the portal offers it, keep-alive
// otherwise) and every origin has its own per-session TLS session cache. A handshake gate per
// origin makes this hold under a burst of parallel requests: a full handshake runs alone and
// the others wait until its session ticket is stored, then resume it; while the first
// connection lives, further dials wait for it if it speaks HTTP/2 (requests queue on it, up to
// its stream limit and beyond) or if the portal gives no session tickets (requests share the
// one keep-alive connection). So a whole session of ordinary browsing costs one signature per
// origin that asks for the client certificate; a static host that does not ask costs none.
// (TLS sessions cannot be shared between servers, so an SSO host that also asks for the card
// costs one more.)
//
// Under TLS 1.3 a portal refuses a client certificate only after the handshake, and the
// HTTP/2 client does not report the alert; [Session.Probe] then asks once more over HTTP/1.1
// to tell [ErrClientCertRefused] from [ErrPortalUnavailable], which costs a second signature
// on that failure path only.
//
// # Not an open proxy
//
// Requests in absolute form, CONNECT and any Host other than the listener's own address are
// refused. The upstream address is never taken from the request: each listener forwards to its
// one configured origin. A redirect (Location, Refresh) to anything that is not a configured
// origin is replaced by an error page, so a chain of redirects cannot leave the portal.
//
// # What is rewritten
//
// Between each local origin (http://127.0.0.1:port) and its upstream origin (https://host):
// Location, Content-Location, Refresh, Link and Access-Control-Allow-Origin in responses;
// Origin, Referer (dropped when it is not a local origin) and local URLs in the query string
// and in url-encoded form bodies of requests. X-Frame-Options is removed and every
// Content-Security-Policy gets exactly one frame-ancestors directive naming the UI origin (one
// is added when the portal sends none); sources in the policy that name a configured origin
// are mapped to the local origin; upgrade-insecure-requests is dropped (the local origins are
// plain HTTP on loopback). HSTS, Alt-Svc, NEL and Report-To are removed.
//
// Bodies of HTML and CSS responses up to 4 MiB have absolute URLs of configured origins
// (https://host, wss://host, //host) rewritten to the local origins, because a portal that
// links its static or SSO host absolutely would otherwise send the browser around the proxy,
// where the kiosk's content filter blocks it and the card is not available. Script and JSON
// bodies are not rewritten: a portal that builds absolute URLs in script needs relative URLs
// or an entry here.
//
// # Cookies
//
// The portal's cookies live in a per-session server-side cookie jar. Set-Cookie never reaches
// the webview and a Cookie header sent by the webview is ignored. This was chosen over
// rewriting cookies for the local origin because browsers do not isolate cookies by port: all
// local origins, and the kiosk UI itself, share the host 127.0.0.1, so the portal's, the SSO
// host's and the UI's cookies would mix, and Secure cookies cannot be stored over plain HTTP.
// With the jar nothing of the citizen is stored in the webview and the jar dies with the
// session. The cost: portal script cannot read its own cookies through document.cookie.
//
// # Session end
//
// [Session.Close] refuses further card signatures, closes the listeners, every accepted
// connection (hijacked websockets and streaming responses included) and every upstream
// connection, and drops the TLS session caches and the cookie jar. It returns within a few
// milliseconds; the only thing it cannot interrupt is a card signature already in progress,
// whose result is then thrown away.
package proxy
