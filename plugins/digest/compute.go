package digest

import (
	"crypto/md5" //nolint:gosec // RFC 7616 MD5, what Apache's mod_auth_digest speaks
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"net/url"
	"strings"
)

// algorithm is one of RFC 7616's digest algorithms (§3.3, §6.1).
type algorithm struct {
	// name as a server spells it in `algorithm=` (compared case-insensitively).
	name string
	// hash is H's function; sess is true for the -sess forms (§3.4.2).
	hash func() hash.Hash
	sess bool
	// rank orders algorithms by strength: a higher rank is preferred.
	rank int
}

// algorithms lists the supported algorithms, weakest first.
var algorithms = []algorithm{
	{"MD5", md5.New, false, 1},
	{"MD5-sess", md5.New, true, 2},
	{"SHA-256", sha256.New, false, 3},
	{"SHA-256-sess", sha256.New, true, 4},
	{"SHA-512-256", sha512.New512_256, false, 5},
	{"SHA-512-256-sess", sha512.New512_256, true, 6},
}

// lookupAlgorithm returns the algorithm called name (case-insensitive);
// an empty name is MD5, the default of RFC 7616 §3.3.
func lookupAlgorithm(name string) (algorithm, bool) {
	if name == "" {
		name = "MD5"
	}
	for _, a := range algorithms {
		if strings.EqualFold(a.name, name) {
			return a, true
		}
	}
	return algorithm{}, false
}

// algorithmNames lists the supported algorithms, strongest first.
func algorithmNames() []string {
	out := make([]string, 0, len(algorithms))
	for i := len(algorithms) - 1; i >= 0; i-- {
		out = append(out, algorithms[i].name)
	}
	return out
}

// h is H(data): the lower-case hex digest of data (RFC 7616 §3.4).
func (a algorithm) h(data string) string {
	d := a.hash()
	d.Write([]byte(data))
	return hex.EncodeToString(d.Sum(nil))
}

// inputs is what one response is computed from (RFC 7616 §3.4.1).
type inputs struct {
	alg      algorithm
	username string // the real user name, even with userhash
	realm    string
	password string
	nonce    string
	cnonce   string
	nc       string // 8 hex digits; unused without qop
	qop      string // "auth", "auth-int", or "" for RFC 2069's legacy form
	method   string
	uri      string // the request-target as sent
	// bodyHash is H(entity-body) with alg's hash, for qop=auth-int.
	bodyHash string
}

// response computes the request-digest of RFC 7616 §3.4.1:
//
//	KD(H(A1), nonce:nc:cnonce:qop:H(A2))
//
// and, without qop, RFC 2069's KD(H(A1), nonce:H(A2)).
func response(in inputs) string {
	a := in.alg
	ha1 := a.h(in.username + ":" + in.realm + ":" + in.password)
	if a.sess {
		ha1 = a.h(ha1 + ":" + in.nonce + ":" + in.cnonce)
	}
	a2 := in.method + ":" + in.uri
	if in.qop == "auth-int" {
		a2 += ":" + in.bodyHash
	}
	ha2 := a.h(a2)
	if in.qop == "" {
		return a.h(ha1 + ":" + in.nonce + ":" + ha2)
	}
	return a.h(ha1 + ":" + in.nonce + ":" + in.nc + ":" + in.cnonce + ":" + in.qop + ":" + ha2)
}

// userhash is the user name as sent with userhash=true (RFC 7616 §3.4.4):
// H(username:realm).
func userhash(a algorithm, username, realm string) string {
	return a.h(username + ":" + realm)
}

// authorization renders the Authorization header value for in. opaque is
// echoed when the server sent one; with hashUser the username parameter is
// userhash's value. A user name that a quoted-string cannot carry as is
// (non-ASCII) travels as username* (RFC 7616 §3.4, RFC 8187).
func authorization(in inputs, opaque string, hasOpaque, hashUser bool) string {
	var b strings.Builder
	b.WriteString("Digest ")
	switch {
	case hashUser:
		b.WriteString("username=" + quote(userhash(in.alg, in.username, in.realm)))
	case !isASCII(in.username):
		b.WriteString("username*=UTF-8''" + extValue(in.username))
	default:
		b.WriteString("username=" + quote(in.username))
	}
	b.WriteString(", realm=" + quote(in.realm))
	b.WriteString(", uri=" + quote(in.uri))
	b.WriteString(", algorithm=" + in.alg.name)
	b.WriteString(", nonce=" + quote(in.nonce))
	if in.qop != "" {
		b.WriteString(", nc=" + in.nc)
		b.WriteString(", cnonce=" + quote(in.cnonce))
		b.WriteString(", qop=" + in.qop)
	}
	b.WriteString(", response=" + quote(response(in)))
	if hasOpaque {
		b.WriteString(", opaque=" + quote(opaque))
	}
	if hashUser {
		b.WriteString(", userhash=true")
	}
	return b.String()
}

var quoteEscapes = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// quote makes s a quoted-string (RFC 9110 §5.6.4). The values it gets hold
// no control character: the state's validation refuses them.
func quote(s string) string { return `"` + quoteEscapes.Replace(s) + `"` }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// extValue percent-encodes s for an RFC 8187 ext-value: attr-char stays,
// every other byte is %XX.
func extValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// requestURI is the digest-uri of a request to rawURL: its request-target
// (path and query, as Go's HTTP client sends it).
func requestURI(rawURL string) (string, *url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, err
	}
	return u.RequestURI(), u, nil
}
