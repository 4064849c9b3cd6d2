package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/redact"
)

// discoverJWKS returns the jwks_uri of issuer's metadata: the OpenID
// Provider configuration (OIDC Discovery §4, {issuer}/.well-known/
// openid-configuration), else the RFC 8414 §3 authorization server
// metadata ({origin}/.well-known/oauth-authorization-server{path}). The
// document's issuer must be issuer exactly (OIDC Discovery §4.3, RFC 8414
// §3.3), and jwks_uri https (or http to a loopback host). The document is
// cached with the JWKS, for its Cache-Control max-age.
func discoverJWKS(ctx context.Context, issuer string, o VerifyOptions) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", core.Errorf(core.KindConfig, "--issuer: %s is not an issuer URL (https, no query or fragment)", redact.RawURL(issuer))
	}
	if !secureTransport(u) {
		return "", core.Errorf(core.KindConfig, "--issuer: %s must use https (plain http only to a loopback address)", redact.RawURL(issuer))
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	origin := u.Scheme + "://" + u.Host
	for _, doc := range []string{origin + path + "/.well-known/openid-configuration", origin + "/.well-known/oauth-authorization-server" + path} {
		jwksURI, err := metadataJWKS(ctx, doc, issuer, o)
		if err == nil {
			return jwksURI, nil
		}
		if se, ok := errors.AsType[*statusErr](err); !ok || se.status != http.StatusNotFound { // only a missing document tries the other
			return "", err
		}
	}
	return "", core.Errorf(core.KindConfig, "--issuer %s: no OpenID Connect or RFC 8414 metadata there (HTTP 404 for both); is it the issuer?", redact.RawURL(issuer))
}

// metadataJWKS fetches (or reads from the cache) the metadata document at
// doc and returns its jwks_uri, checking its issuer.
func metadataJWKS(ctx context.Context, doc, issuer string, o VerifyOptions) (string, error) {
	src, err := newJWKSSource(doc, o.Client, o.CacheDir)
	if err != nil {
		return "", err
	}
	if o.cacheNow != nil {
		src.now = o.cacheNow
	}
	src.what = "metadata"
	where := "metadata " + redact.RawURL(doc)
	var raw []byte
	ttl := time.Duration(0)
	if e := src.readCache(); e != nil {
		raw = e.JWKS
	} else if raw, ttl, err = src.fetch(ctx); err != nil {
		return "", err
	}
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if json.Unmarshal(raw, &meta) != nil {
		return "", core.Errorf(core.KindBadAnswer, "%s: not a JSON object", where)
	}
	switch {
	case meta.Issuer != issuer:
		return "", core.Errorf(core.KindBadAnswer, "%s: the document is for issuer %s, not %s", where, printable(meta.Issuer), redact.RawURL(issuer))
	case meta.JWKSURI == "":
		return "", core.Errorf(core.KindBadAnswer, "%s: the document has no jwks_uri", where)
	}
	if ju, err := url.Parse(meta.JWKSURI); err != nil || !ju.IsAbs() || !secureTransport(ju) {
		return "", core.Errorf(core.KindBadAnswer, "%s: jwks_uri %s is not an https URL", where, printable(redact.RawURL(meta.JWKSURI)))
	}
	if ttl > 0 {
		src.writeCache(raw, ttl, time.Time{})
	}
	return meta.JWKSURI, nil
}
