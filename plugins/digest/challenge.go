package digest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/httpauth"
	"github.com/authx/authx/core/urlscope"
)

// offer is a Digest challenge authx can answer.
type offer struct {
	ch  httpauth.Challenge
	alg algorithm
	qop []string // what authx speaks of the offered qop; nil for RFC 2069's form
}

// stale reports whether the server says the nonce expired while the
// credentials were right (RFC 7616 §3.3).
func (o offer) stale() bool { return strings.EqualFold(o.ch.Params["stale"], "true") }

// choose returns the strongest Digest challenge of h (its WWW-Authenticate
// headers, each with any number of challenges) that authx can answer: a
// supported algorithm, a realm and a nonce a header can carry back, and
// qop auth or auth-int, or no qop at all (not with a -sess algorithm). With
// want set, only that algorithm will do, so that a server (or a man in the
// middle) cannot make authx fall back to a weaker one. The error says what
// the server offered instead, as a phrase without secrets.
func choose(h http.Header, want string) (offer, error) {
	var best offer
	var found bool
	var seen []string
	note := func(offered string) { // what the server offered, for the message: a few, once each
		if len(seen) < maxSeen && !slices.Contains(seen, offered) {
			seen = append(seen, offered)
		}
	}
	for _, ch := range httpauth.ParseHeader(h, "WWW-Authenticate") {
		if !strings.EqualFold(ch.Scheme, "Digest") {
			note(printable(ch.Scheme))
			continue
		}
		alg, ok := lookupAlgorithm(ch.Params["algorithm"])
		if !ok {
			note("Digest algorithm=" + printable(ch.Params["algorithm"]))
			continue
		}
		note("Digest algorithm=" + alg.name)
		if want != "" && !strings.EqualFold(alg.name, want) {
			continue
		}
		o := offer{ch: ch, alg: alg}
		if q, has := ch.Params["qop"]; has {
			for _, v := range strings.Split(q, ",") {
				v = strings.ToLower(strings.TrimSpace(v))
				if (v == "auth" || v == "auth-int") && !slices.Contains(o.qop, v) {
					o.qop = append(o.qop, v)
				}
			}
			if len(o.qop) == 0 {
				continue
			}
		} else if alg.sess {
			continue
		}
		if ch.Params["nonce"] == "" || !headerSafe(ch.Params["nonce"]) || !headerSafe(ch.Params["realm"]) || !headerSafe(ch.Params["opaque"]) {
			continue
		}
		if !found || alg.rank > best.alg.rank {
			best, found = o, true
		}
	}
	if found {
		return best, nil
	}
	if len(seen) == 0 {
		return offer{}, core.Errorf(core.KindBadAnswer, "the server's 401 has no WWW-Authenticate challenge")
	}
	offered := strings.Join(seen, ", ")
	if want != "" {
		return offer{}, core.Errorf(core.KindConfig, "algorithm: the server offers %s, not Digest algorithm=%s", offered, want)
	}
	return offer{}, core.Errorf(core.KindUnsupported, "the server offers %s; the digest scheme speaks Digest with %s and qop=auth or auth-int", offered, strings.Join(algorithmNames(), ", "))
}

// maxSeen bounds the offers an error names.
const maxSeen = 8

// printable shortens a server's value for a message and drops what a
// terminal would interpret.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// newState makes the state for the challenge o that a request to rawURL
// received: nonce count 0, and its protection space.
func newState(o offer, rawURL string) (*state, error) {
	opaque, hasOpaque := o.ch.Params["opaque"]
	st := &state{
		V:         stateVersion,
		Realm:     o.ch.Params["realm"],
		Nonce:     o.ch.Params["nonce"],
		Opaque:    opaque,
		HasOpaque: hasOpaque,
		Algorithm: o.alg.name,
		QOP:       o.qop,
		Userhash:  strings.EqualFold(o.ch.Params["userhash"], "true"),
	}
	space, err := protectionSpace(o.ch.Params["domain"], rawURL)
	if err != nil {
		return nil, err
	}
	st.Space = space
	if n := len(st.encode()); n > maxState {
		// decodeState would refuse it on every Apply, and the next
		// login would make the same.
		return nil, core.Errorf(core.KindBadAnswer, "the server's Digest challenge is too large to keep (its realm, nonce, opaque and domain make a state of %d bytes, at most %d)", n, maxState)
	}
	return st, st.check()
}

// protectionSpace returns the URL prefixes the credentials of a challenge
// received from rawURL may be sent to (RFC 7616 §3.3): the URIs of its
// domain parameter made absolute against rawURL, else the whole origin.
// authx narrows it to rawURL's origin: a domain URI on another server is
// dropped, and so is one authx could not match safely.
func protectionSpace(domain, rawURL string) ([]string, error) {
	base, err := url.Parse(rawURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, core.Errorf(core.KindConfig, "the digest scheme needs the profile's url, an absolute http(s) URL")
	}
	origin := (&url.URL{Scheme: strings.ToLower(base.Scheme), Host: strings.ToLower(base.Host), Path: "/"}).String()
	if urlscope.Problem(base) != "" {
		return nil, core.Errorf(core.KindConfig, "the profile's url is not one authx sends credentials to: %s", urlscope.Problem(base))
	}
	var space []string
	for _, f := range strings.Fields(domain) {
		ref, err := url.Parse(f)
		if err != nil {
			continue
		}
		u := base.ResolveReference(ref)
		u.Fragment, u.RawFragment, u.User = "", "", nil
		if u, err = urlscope.Normalize(u); err != nil || !urlscope.InScope(u, []string{origin}) {
			continue
		}
		if s := u.String(); !slices.Contains(space, s) && len(space) < maxSpace {
			space = append(space, s)
		}
	}
	if len(space) == 0 {
		space = []string{origin}
	}
	return space, nil
}

// describe names o for a message: its realm and algorithm.
func (s *state) describe() string {
	return fmt.Sprintf("realm %q (Digest %s)", printable(s.Realm), s.Algorithm)
}
