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
// # Only the kiosk window
//
// Every local process can connect to loopback ports, so the listeners alone would let any
// program on the kiosk browse the citizen's portal with the card-authenticated session. Each
// session therefore draws a random enter secret and a cookie (32 bytes each from crypto/rand,
// base64url; the cookie's name, smartpath-<random>, is new for every session). [Session.HomeURL]
// is the only URL that carries the secret:
//
//	http://127.0.0.1:8471/__smartpath/enter/<secret>/<home path and query>
//
// The agent hands it to the kiosk UI over its token-protected channel, and the UI puts it in
// the portal frame. The enter endpoint, on the home origin only and for GET and HEAD, checks
// the secret in constant time, sets the cookie (HttpOnly, SameSite=Strict, Path=/, no Domain,
// no Expires) and answers 303 to the home path, so the frame's URL, and what a reload asks
// for, is the plain home page. The secret is a path prefix rather than a query parameter so
// that a page path appended to HomeURL still enters and lands on that page. The Location keeps
// to this origin: leading slashes and backslashes of the path after the secret are collapsed.
//
// Browsers do not isolate cookies by port, so the one host-only cookie for 127.0.0.1 reaches
// every local origin of the session: navigations, forms, pictures, stylesheets and classic
// scripts from any local origin, same-origin fetches and websocket upgrades of the frame carry
// it. A limit follows: a CORS request without credentials to another local origin carries no
// cookie and is refused — fonts (@font-face) and module scripts from a static host, fetch()
// without credentials: "include", crossorigin="anonymous" elements. Such a portal must serve
// them from its home origin or ask with credentials (the portal's Access-Control-Allow-Origin
// is mapped to the local origin, so Access-Control-Allow-Credentials works).
//
// Every request without the session's cookie, or with a wrong value, gets a short 403 page
// and never reaches the portal, costs no card signature and does not count as the citizen's
// activity ([Config.OnRequest]). Refusals are logged at warn with the reason, method, origin
// index and remote port, never the URL; after 50 in a session they are no longer logged.
// Structural refusals (below) come first and keep their own status codes.
//
// The enter URL stays valid until [Session.Close], not for one use: a restarted webview has
// fresh storage and no cookie, and must get in again with the URL the UI still holds. Single
// use would add little, because the secret travels only from the agent to the UI and the
// frame, and a process that can read either already has the agent's or the kiosk user's
// rights. Close forgets the secret and the cookie value; the next session, even on the same
// ports, has new ones.
//
// The portal never sees either. The webview's Cookie header is not forwarded (see Cookies);
// nothing under /__smartpath/ is forwarded, whatever its cookie; a Referer naming such a path
// is dropped rather than mapped to the portal. A portal path under /__smartpath/ is therefore
// not reachable through the proxy.
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
// Content-Security-Policy gets exactly one frame-ancestors directive naming the UI origin and
// the session's own local origins, so the portal may frame its own pages (one is added when
// the portal sends none); sources in the policy that name a configured origin
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
// the webview and a Cookie header sent by the webview is not forwarded (the proxy reads only
// its own access cookie from it). This was chosen over rewriting cookies for the local
// origin because browsers do not isolate cookies by port: all
// local origins, and the kiosk UI itself, share the host 127.0.0.1, so the portal's, the SSO
// host's and the UI's cookies would mix, and Secure cookies cannot be stored over plain HTTP.
// With the jar nothing of the citizen is stored in the webview and the jar dies with the
// session. The cost: portal script cannot read its own cookies through document.cookie.
//
// # Session end
//
// [Session.Close] refuses further card signatures, forgets the access secret and cookie,
// closes the listeners, every accepted connection (hijacked websockets and streaming
// responses included) and every upstream connection, and drops the TLS session caches and the
// cookie jar. It returns within a few milliseconds: it waits for request handlers, whose
// connections it has just cut, for at most a second. The only thing it cannot interrupt is a
// card signature already in progress, whose result is then thrown away.
package proxy
