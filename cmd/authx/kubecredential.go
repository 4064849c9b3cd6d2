package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authx/authx/core"
	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/kubecred"
	"github.com/authx/authx/core/session"
)

func (a *app) kubeCredentialCommand() *cobra.Command {
	var t target
	var idToken bool
	cmd := &cobra.Command{
		Use:   "kube-credential [PROFILE]",
		Short: "Print the profile's token as a kubectl exec credential (ExecCredential)",
		Long: `Print an ExecCredential for kubectl (a client-go exec credential plugin):
the profile's token in status.token and, when it expires, the time in
status.expirationTimestamp. The credential is obtained as 'authx token'
does (cache, refresh ahead of expiry, agent).

The answer's apiVersion is the one kubectl asks for in
$KUBERNETES_EXEC_INFO (client.authentication.k8s.io/v1 or v1beta1; v1beta1
without one). When kubectl says the run is not interactive, a login that
needs the user fails (exit 3) instead of prompting. When the same kubectl
process runs it again for the credential it was given (kubectl does after
a 401), the credential is renewed; when the scheme cannot renew it (a
static token) the same one is printed again, with one line on stderr.

--id-token sends the OpenID Connect ID token of the login instead (for an
API server that authenticates OIDC ID tokens), expiring when it does. An
expired one is renewed: a refresh, else (a refresh that keeps the old ID
token) a login.

In ~/.kube/config:

  users:
  - name: work
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: authx
        args: [kube-credential, work]
        interactiveMode: IfAvailable

See docs/integrations.md.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeProfiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				t.profile = args[0]
			}
			req, err := kubecred.ParseExecInfo(os.Getenv(kubecred.EnvExecInfo))
			if err != nil {
				return core.Errorf(core.KindConfig, "%s", err.Error())
			}
			if req.NonInteractive {
				a.noInput = true // kubectl's rule: nobody can answer
			}
			s, res, err := a.printable(cmd, &t, false)
			if err != nil {
				return err
			}
			c, err := kubeCredentialOf(s, res, idToken, time.Now())
			served, parent := kubeServedFile(s), ""
			if req.FromClient { // run by client-go, not by hand
				parent = kubeParent()
			}
			refused := err == nil && parent != "" && served.was(parent, c.Token)
			if refused || err == errIDTokenExpired {
				// This kubectl asks again for what it was given: the server
				// refused it (client-go reruns its plugin after a 401). Or
				// the ID token has expired before the credential.
				renewed, rerr := s.Renew(cmd.Context(), res.Credential.Token)
				switch {
				case refused && core.KindOf(rerr) == core.KindRejected:
					// The scheme has no other credential (a static token).
					// Either the server refused it, and kubectl's own error
					// follows, or the same process just has several clients:
					// it gets the credential again either way.
					a.notice("profile %q: kubectl asked again for the credential it had (after a 401, or for another of its clients) and the scheme cannot renew it: sent it again", s.Profile.Name)
				case rerr != nil:
					return profileErr(s.Profile.Name, rerr)
				case refused:
					res = renewed
					a.notice("profile %q: the server refused the credential kubectl had; renewed it for kubectl's next request", s.Profile.Name)
				default:
					res = renewed
				}
				c, err = kubeCredentialOf(s, res, idToken, time.Now())
				if err == errIDTokenExpired && res.Source == session.Refreshed {
					// A refresh answer without an ID token keeps the old
					// one: only a login gives another (else every run
					// would refresh again).
					s.StopAfterObtain = true
					if res, err = s.Login(cmd.Context()); err != nil {
						return profileErr(s.Profile.Name, err)
					}
					c, err = kubeCredentialOf(s, res, idToken, time.Now())
				}
				if err == errIDTokenExpired {
					err = profileErr(s.Profile.Name, core.Errorf(core.KindTokenInvalid, "the ID token of the renewed credential has expired already (is the clock right?)"))
				}
			}
			if err != nil {
				return err
			}
			var out strings.Builder
			if err := kubecred.Write(&out, req.APIVersion, c); err != nil {
				return profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "%s", err.Error()))
			}
			served.record(parent, c.Token)
			_, err = fmt.Fprint(a.stdout, out.String())
			return err
		},
	}
	t.addFlags(cmd)
	cmd.Flags().BoolVar(&idToken, "id-token", false, "send the OpenID Connect ID token of the login instead of the token")
	return cmd
}

// errIDTokenExpired says the cached credential's ID token has expired
// although the credential has not: it must be renewed to get another.
var errIDTokenExpired = core.Errorf(core.KindLoginRequired, "the ID token has expired")

// kubeCredentialOf picks what kube-credential sends from res: the token, or
// the ID token, which expires when its exp claim says if that is earlier.
func kubeCredentialOf(s *session.Session, res *session.Result, idToken bool, now time.Time) (kubecred.Credential, error) {
	c := kubecred.Credential{Token: res.Credential.Token, Expires: res.Credential.ExpiresAt}
	if idToken {
		c.Token = res.Credential.IDToken
		if c.Token == "" {
			return c, profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "the credential has no id token (an OpenID Connect login with the openid scope gives one)"))
		}
		if exp, ok := kubecred.JWTExpiry(c.Token); ok {
			if !exp.After(now) {
				return c, errIDTokenExpired
			}
			if c.Expires.IsZero() || exp.Before(c.Expires) {
				c.Expires = exp
			}
		}
		return c, nil
	}
	basic := false
	for _, h := range res.Credential.HeaderLines() {
		scheme, _, _ := strings.Cut(h.Value, " ")
		basic = basic || strings.EqualFold(h.Name, "Authorization") && strings.EqualFold(scheme, "Basic")
	}
	if c.Token == "" || basic {
		return c, profileErr(s.Profile.Name, core.Errorf(core.KindUnsupported, "scheme %q yields no bearer token for kubectl to send", s.Profile.Scheme))
	}
	return c, nil
}

// kubeServed is the file, beside the profile's cache entry, that says which
// credential kube-credential served to which process, for the last
// kubeServedMax processes (several kubectl may run at once): an HMAC of the
// token keyed with the store's name key (cache.Store.Digest), never the
// token. path is "" when the profile is not cached (an ad-hoc profile,
// store: memory): then nothing is recorded and a refusal is not
// recognised. The store removes the file with the entry.
type kubeServed struct {
	path   string
	digest func(string) string
}

// kubeServedMax is how many processes kubeServed remembers.
const kubeServedMax = 8

type kubeServedRecord struct {
	Parent string `json:"parent"`
	Digest string `json:"token_hmac"`
}

func kubeServedFile(s *session.Session) kubeServed {
	if s.Store == nil {
		return kubeServed{}
	}
	p := s.Store.SidePath(s.Key(), "kube")
	if p == "" {
		return kubeServed{}
	}
	return kubeServed{p, s.Store.Digest}
}

// records returns what the file holds, the most recent last; nothing when
// it is missing or damaged.
func (k kubeServed) records() []kubeServedRecord {
	if k.path == "" {
		return nil
	}
	data, err := cache.ReadPrivate(k.path, 4096)
	if err != nil {
		return nil
	}
	var rs []kubeServedRecord
	if json.Unmarshal(data, &rs) != nil {
		return nil
	}
	return rs
}

// was reports whether token was the last served to parent.
func (k kubeServed) was(parent, token string) bool {
	for _, r := range k.records() {
		if r.Parent == parent {
			return r.Digest != "" && r.Digest == k.digest(token)
		}
	}
	return false
}

// record notes that token is served to parent; failing to is harmless (a
// refusal then goes unrecognised once). Concurrent records may lose one.
func (k kubeServed) record(parent, token string) {
	if k.path == "" || parent == "" {
		return
	}
	rs := []kubeServedRecord{}
	for _, r := range k.records() {
		if r.Parent != parent {
			rs = append(rs, r)
		}
	}
	rs = append(rs, kubeServedRecord{parent, k.digest(token)})
	if len(rs) > kubeServedMax {
		rs = rs[len(rs)-kubeServedMax:]
	}
	data, _ := json.Marshal(rs)
	tmp := k.path + ".tmp" + strconv.Itoa(os.Getpid())
	if os.WriteFile(tmp, data, 0o600) != nil || os.Rename(tmp, k.path) != nil {
		os.Remove(tmp)
	}
}

// kubeParent names the process that runs authx (kubectl) uniquely over
// time: its pid and start time. It is "" where that is not known (outside
// Linux, or an orphan).
func kubeParent() string {
	ppid := os.Getppid()
	if runtime.GOOS != "linux" || ppid <= 1 {
		return ""
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/stat")
	if err != nil {
		return ""
	}
	// pid (comm) state ppid ...: the comm may hold spaces and parentheses;
	// starttime is the 22nd field, the 20th after the comm.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return strconv.Itoa(ppid) + ":" + f[19]
}
