package base

import (
	"strings"
	"time"
)

// Credential is what a scheme hands the host: declarative headers and
// cookies the host applies by itself, an optional expiry, the URL prefixes it
// may be sent to, and opaque state only the plugin reads.
//
// Every field may hold a secret. A Credential is never logged; the host only
// stores it in its private cache.
type Credential struct {
	// Token is the bare value `authx token` prints (a bearer token, the
	// base64 of Basic credentials, an API key).
	Token   string   `json:"token,omitempty"`
	Headers []Header `json:"headers,omitempty"`
	Cookies []Cookie `json:"cookies,omitempty"`
	// ExpiresAt is when the credential stops working; zero means unknown.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Scope lists URL prefixes the credential may be sent to; empty means
	// the profile's match prefixes.
	Scope []string `json:"scope,omitempty"`
	// State is private to the plugin (refresh token, session id).
	State []byte `json:"state,omitempty"`
	// PerRequest asks the host to call Apply for every request.
	PerRequest bool `json:"per_request,omitempty"`
	// IDToken is the OpenID Connect ID token of the login that obtained
	// the credential (already validated by the scheme), which `authx token
	// --id-token` prints; empty when there is none. It is never sent by
	// the host.
	IDToken string `json:"id_token,omitempty"`
}

// Header is one HTTP header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Cookie is one cookie a credential carries (e.g. a Jenkins session).
type Cookie struct {
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Domain   string    `json:"domain,omitempty"`
	Path     string    `json:"path,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
	Secure   bool      `json:"secure,omitempty"`
	HTTPOnly bool      `json:"http_only,omitempty"`
}

// DefaultRefreshSkew is how long before its expiry a credential is renewed.
const DefaultRefreshSkew = 60 * time.Second

// FreshAt reports whether c can still be used at now without renewal: it has
// no known expiry, or it expires more than skew after now.
func (c *Credential) FreshAt(now time.Time, skew time.Duration) bool {
	if c == nil {
		return false
	}
	return c.ExpiresAt.IsZero() || now.Add(skew).Before(c.ExpiresAt)
}

// CookieHeader returns the value of a Cookie request header carrying all of
// c's cookies, or "" when it has none.
func (c *Credential) CookieHeader() string {
	parts := make([]string, 0, len(c.Cookies))
	for _, k := range c.Cookies {
		parts = append(parts, cookiePair(k.Name, k.Value))
	}
	return strings.Join(parts, "; ")
}

// cookiePair returns name=value as net/http's Cookie.String writes it for a
// cookie of only a name and a value: "" for a name that is not a token, the
// bytes that are not cookie-octets dropped from the value (which Validate
// refuses anyway), the value quoted when it holds a space or a comma. (Unlike
// net/http, it logs nothing: a dropped byte belongs to a secret.)
func cookiePair(name, value string) string {
	if name == "" || !valid(name, isTchar) {
		return ""
	}
	if !valid(value, isCookieValueByte) {
		kept := make([]byte, 0, len(value))
		for i := 0; i < len(value); i++ {
			if isCookieValueByte(value[i]) {
				kept = append(kept, value[i])
			}
		}
		value = string(kept)
	}
	if strings.ContainsAny(value, " ,") {
		value = `"` + value + `"`
	}
	return name + "=" + value
}

// isCookieValueByte is net/http's validCookieValueByte: what it keeps of a
// cookie value.
func isCookieValueByte(b byte) bool {
	return 0x20 <= b && b < 0x7f && b != '"' && b != ';' && b != '\\'
}

// HeaderLines returns the credential as request headers, in order: the
// scheme's headers, then a Cookie header when it holds cookies.
func (c *Credential) HeaderLines() []Header {
	out := append([]Header(nil), c.Headers...)
	if ck := c.CookieHeader(); ck != "" {
		out = append(out, Header{Name: "Cookie", Value: ck})
	}
	return out
}
