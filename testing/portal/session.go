package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

const (
	sessionCookie = "portal_session"
	sessionTTL    = time.Hour
	maxSessions   = 10000
)

// session is a signed-in visit. It is bound to the client certificate that opened it: the
// same cookie with another card is not a session.
type session struct {
	id, csrf string
	citizen  Citizen
	expires  time.Time
}

type sessionStore struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]*session
}

func newSessionStore(now func() time.Time) *sessionStore {
	return &sessionStore{now: now, m: make(map[string]*session)}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand.Read panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *sessionStore) create(c Citizen) *session {
	now := st.now()
	se := &session{id: randomToken(), csrf: randomToken(), citizen: c, expires: now.Add(sessionTTL)}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.m) >= maxSessions {
		for id, old := range st.m {
			if now.After(old.expires) || len(st.m) >= maxSessions {
				delete(st.m, id)
			}
		}
	}
	st.m[se.id] = se
	return se
}

// lookup finds the session named by the request's cookie, if it belongs to citizen's card.
func (st *sessionStore) lookup(r *http.Request, c *Citizen) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || c == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	se := st.m[ck.Value]
	if se == nil {
		return nil
	}
	if st.now().After(se.expires) {
		delete(st.m, se.id)
		return nil
	}
	if se.citizen.SerialHash != c.SerialHash {
		return nil
	}
	return se
}

func (st *sessionStore) remove(se *session) {
	st.mu.Lock()
	delete(st.m, se.id)
	st.mu.Unlock()
}

func (se *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(se.csrf)) == 1
}

func setSessionCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	})
}
