package kioskui

import (
	"encoding/json"
	"regexp"
	"strings"
)

// A content rule in WebKit's content blocker format (the rules Safari content blockers
// use). Rules apply in order; "ignore-previous-rules" undoes earlier matching rules.
type contentRule struct {
	Trigger contentTrigger `json:"trigger"`
	Action  contentAction  `json:"action"`
}

type contentTrigger struct {
	URLFilter    string   `json:"url-filter"`
	ResourceType []string `json:"resource-type,omitempty"`
	LoadContext  []string `json:"load-context,omitempty"`
}

type contentAction struct {
	Type string `json:"type"`
}

// filterRules builds the content filter for p:
//
//  1. block every request;
//  2. allow data:, blob: and webkit-pdfjs-viewer: (they reach no server; the last is the
//     browser's own PDF viewer, built into WebKitGTK, which shows a portal's PDF in the
//     frame) and requests to the UI origin and the frame origins, including their websockets;
//  3. block every top-level document;
//  4. allow top-level documents from the UI origin.
//
// So nothing outside the allow-list is fetched, whoever asks (page, frame, CSS, a
// redirect), and a frame origin can never become the top-level page.
func filterRules(p policy) ([]byte, error) {
	block := contentAction{Type: "block"}
	allow := contentAction{Type: "ignore-previous-rules"}
	rules := []contentRule{{Trigger: contentTrigger{URLFilter: ".*"}, Action: block}}
	for _, local := range []string{"^data:", "^blob:", "^webkit-pdfjs-viewer:"} {
		rules = append(rules, contentRule{Trigger: contentTrigger{URLFilter: local}, Action: allow})
	}
	for _, o := range append([]origin{p.ui}, p.frames...) {
		for _, re := range originFilters(o) {
			rules = append(rules, contentRule{Trigger: contentTrigger{URLFilter: re}, Action: allow})
		}
	}
	top := contentTrigger{ResourceType: []string{"document"}, LoadContext: []string{"top-frame"}}
	t := top
	t.URLFilter = ".*"
	rules = append(rules, contentRule{Trigger: t, Action: block})
	for _, re := range originFilters(p.ui) {
		t := top
		t.URLFilter = re
		rules = append(rules, contentRule{Trigger: t, Action: allow})
	}
	return json.Marshal(rules)
}

// originFilters returns url-filter expressions matching every URL of o and of its
// websocket twin (http→ws, https→wss). URLs reach the filter normalised: lower-case
// scheme and host, default port dropped, and a "/" after the authority.
func originFilters(o origin) []string {
	twin := map[string]string{"http": "ws", "https": "wss"}[o.scheme]
	var port string
	switch o.port {
	case "":
	case "*":
		port = ":[0-9]+"
	default:
		port = ":" + o.port
	}
	host := regexp.QuoteMeta(o.host)
	if strings.Contains(o.host, ":") {
		host = `\[` + host + `\]` // IPv6 literal
	}
	out := []string{"^" + o.scheme + "://" + host + port + "/"}
	if twin != "" {
		out = append(out, "^"+twin+"://"+host+port+"/")
	}
	return out
}
