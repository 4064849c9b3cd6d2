package jenkinstest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// apiToken is one entry of a user's ApiTokenStore: only the SHA-256 of the
// 32-hex secret is kept.
type apiToken struct {
	uuid string
	name string
	hash [sha256.Size]byte
}

// NewAPIToken creates an API token for the user, as the "Add new token"
// button does, and returns its UUID and its value: "11" followed by 32
// lowercase hex characters (128 random bits). Only the SHA-256 of the secret
// is stored. An empty name becomes "Token created on <ISO-8601 date-time>".
// NewAPIToken panics if the user does not exist.
func (s *Server) NewAPIToken(user, name string) (uuid, value string) {
	if _, ok := s.users[user]; !ok {
		panic(fmt.Sprintf("jenkinstest: NewAPIToken: no user %q", user))
	}
	if strings.TrimSpace(name) == "" {
		name = "Token created on " + time.Now().Format(time.RFC3339Nano)
	}
	secret := randHex(16)
	uuid = newUUID()
	s.mu.Lock()
	s.tokens[user] = append(s.tokens[user], apiToken{uuid: uuid, name: name, hash: sha256.Sum256([]byte(secret))})
	s.mu.Unlock()
	return uuid, "11" + secret
}

// revokeToken removes the user's token with that UUID, if any.
func (s *Server) revokeToken(user, uuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.tokens[user]
	for i, t := range list {
		if t.uuid == uuid {
			s.tokens[user] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
}

// matchesToken is ApiTokenStore.findMatchingToken: a 34-character value is a
// 2-character version (not checked) and the secret; any other length is
// hashed whole, as a legacy token would be. Every stored hash is compared in
// constant time.
func (s *Server) matchesToken(user, value string) bool {
	secret := value
	if len(value) == 34 {
		secret = value[2:]
	}
	sum := sha256.Sum256([]byte(secret))
	s.mu.Lock()
	defer s.mu.Unlock()
	match := 0
	for _, t := range s.tokens[user] {
		match |= subtle.ConstantTimeCompare(t.hash[:], sum[:])
	}
	return match == 1
}

// authenticate is BasicHeaderProcessor. ok is false when a Basic header is
// present but matches no API token and no password: the caller must get 401.
func (s *Server) authenticate(r *http.Request) (who principal, ok bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 6 || !strings.EqualFold(h[:6], "basic ") {
		return s.anonymous(), true
	}
	creds := strings.ToValidUTF8(descramble(h[6:]), "\uFFFD")
	user, secret, found := strings.Cut(creds, ":")
	if !found {
		return principal{}, false // "Malformed HTTP basic Authorization header"
	}
	u, exists := s.users[user]
	if !exists {
		return principal{}, false
	}
	// BasicHeaderApiTokenAuthenticator first, then the real password.
	if s.matchesToken(user, secret) {
		return s.user(user, true), true
	}
	// A user without a password cannot log in with an empty one.
	if u.Password != "" && subtle.ConstantTimeCompare([]byte(u.Password), []byte(secret)) == 1 {
		return s.user(user, false), true
	}
	return principal{}, false
}

// descramble is Jenkins' Scrambler.descramble: java.util.Base64's basic
// decoder (padding optional, but correct if present); "" if it fails.
func descramble(s string) string {
	enc := base64.RawStdEncoding
	if strings.HasSuffix(s, "=") {
		enc = base64.StdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return ""
	}
	return string(b)
}

// newUUID returns a random (version 4) UUID, as UUID.randomUUID does.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

const apiTokenDescriptor = "jenkins.security.ApiTokenProperty"

// meRoute is /me/…: Jenkins.getMe() refuses anonymous callers with a plain
// AccessDeniedException.
func (s *Server) meRoute(x *exchange, rest []string) {
	if x.who.anonymous {
		x.denyMessage("/me is not available when not logged in")
		return
	}
	s.userAction(x, x.who.name, rest)
}

// userRoute is /user/ID/…; an unknown ID is a 404.
func (s *Server) userRoute(x *exchange, rest []string) {
	if len(rest) == 0 {
		x.notFound()
		return
	}
	if _, ok := s.users[rest[0]]; !ok {
		x.notFound()
		return
	}
	s.userAction(x, rest[0], rest[1:])
}

// userAction serves descriptorByName/jenkins.security.ApiTokenProperty/… of a
// user: generateNewToken and revoke, both @RequirePOST.
func (s *Server) userAction(x *exchange, owner string, rest []string) {
	if len(rest) != 3 || rest[0] != "descriptorByName" || rest[1] != apiTokenDescriptor {
		x.notFound()
		return
	}
	switch rest[2] {
	case "generateNewToken":
		if x.r.Method != http.MethodPost {
			x.requirePOST()
			return
		}
		// hasCurrentUserRightToGenerateNewToken: only the owner.
		if x.who.anonymous || x.who.name != owner {
			x.status(http.StatusForbidden)
			return
		}
		name, _ := x.param("newTokenName")
		uuid, value := s.NewAPIToken(owner, name)
		s.mu.Lock()
		for _, t := range s.tokens[owner] {
			if t.uuid == uuid {
				name = t.name
			}
		}
		s.mu.Unlock()
		x.json(http.StatusOK, object{
			{"status", "ok"},
			{"data", object{
				{"tokenUuid", uuid},
				{"tokenName", name},
				{"tokenValue", value},
			}},
		})
	case "revoke":
		if x.r.Method != http.MethodPost {
			x.requirePOST()
			return
		}
		// u.checkPermission(Jenkins.ADMINISTER): a non-anonymous user has
		// every permission on their own User object.
		if !(x.who.name == owner && !x.who.anonymous) && !x.who.has(permAdminister) {
			x.denyPermission(permAdminister)
			return
		}
		uuid, _ := x.param("tokenUuid")
		if strings.TrimSpace(uuid) == "" {
			x.sendError(http.StatusBadRequest, "The tokenUuid cannot be empty")
			return
		}
		s.revokeToken(owner, uuid)
		x.status(http.StatusOK)
	default:
		x.notFound()
	}
}
