// Package demoserver is a small HTTP API protected by Basic authentication,
// shipped for authx's demo (`make demo`) and tests. It answers like a typical
// API: 200 with JSON for the right user, 401 with a Basic challenge for
// anything else.
package demoserver

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"sync/atomic"
)

// Server checks one user's Basic credentials.
type Server struct {
	User, Password string
	Realm          string

	requests atomic.Int64
}

// Requests reports how many requests the server has answered.
func (s *Server) Requests() int64 { return s.requests.Load() }

// ServeHTTP implements http.Handler: GET /whoami answers who you are.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.User)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.Password)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.realm()+`", charset="UTF-8"`)
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "unauthorized"})
		return
	}
	if r.URL.Path != "/whoami" {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": "not found"})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"user": user, "authenticated": true})
}

func (s *Server) realm() string {
	if s.Realm == "" {
		return "authx demo"
	}
	return s.Realm
}
