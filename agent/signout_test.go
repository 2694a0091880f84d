package agent

import (
	"net/http"
	"testing"
)

// Only the citizen's own navigation to a configured sign-out address ends the session: not
// another path or origin, not a page's script fetching it, not the browser prefetching it.
func TestSignOutWatch(t *testing.T) {
	const portal = "https://portal.council.example"
	ended := 0
	w := newSignOutWatch([]string{portal + "/logout", "https://sso.council.example/signout"}, func() { ended++ })
	for _, c := range []struct {
		name, origin, path string
		headers            map[string]string
		ends               bool
	}{
		{"sign-out form sent", portal, "/logout", map[string]string{"Sec-Fetch-Mode": "navigate"}, true},
		{"sign-out on the SSO origin", "https://sso.council.example", "/signout", map[string]string{"Sec-Fetch-Mode": "navigate"}, true},
		{"another page", portal, "/repairs", map[string]string{"Sec-Fetch-Mode": "navigate"}, false},
		{"the path on another origin", "https://sso.council.example", "/logout", map[string]string{"Sec-Fetch-Mode": "navigate"}, false},
		{"a longer path", portal, "/logout/now", map[string]string{"Sec-Fetch-Mode": "navigate"}, false},
		{"a script fetching it", portal, "/logout", map[string]string{"Sec-Fetch-Mode": "cors"}, false},
		{"prefetched", portal, "/logout", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Purpose": "prefetch"}, false},
	} {
		before := ended
		r, _ := http.NewRequest("POST", "http://127.0.0.1:8471"+c.path+"?next=/", nil)
		for k, v := range c.headers {
			r.Header.Set(k, v)
		}
		w.response(c.origin, r, http.StatusSeeOther)
		if got := ended > before; got != c.ends {
			t.Errorf("%s: ends the session %v, want %v", c.name, got, c.ends)
		}
	}
	none := newSignOutWatch(nil, func() { t.Error("ended with no sign-out address configured") })
	r, _ := http.NewRequest("GET", "http://127.0.0.1:8471/logout", nil)
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	none.response(portal, r, http.StatusOK)
}
