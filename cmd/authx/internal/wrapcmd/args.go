// Package wrapcmd holds what authx's wrappers (authx curl, wget and exec)
// know of the command they run: how they read the tool's arguments (the
// URLs it will fetch, whether it follows redirects, whether a refused
// request may be replayed, what authx refuses), and how they build its
// argv, environment and credential config. The full CLI (cmd/authx) and
// its fast front (cmd/authx/front) both run wrapped commands with it, so
// that a command line gets the same checks and the same bytes whichever
// serves it.
//
// It links no plugin machinery and no net/http: the front must stay small.
package wrapcmd

import (
	"fmt"
	"slices"
	"strings"

	core "github.com/authx/authx/core/base" // core's credentials and errors, without net/http
)

// Request is what authx knows of a wrapped tool's request.
type Request struct {
	// URL is the one URL the tool fetches; "" when there is not one.
	URL string
	// Follow says the tool follows redirects (curl -L).
	Follow bool
	// NoRerun says why a refused run must not be run again; "" when it may.
	NoRerun string
	// Unchecked says why authx cannot see every URL the tool would send
	// the credential to (a curl -K file, a wget -i list); "" when it can.
	// The wrappers refuse such a command.
	Unchecked string
}

// Curl is what authx needs to know of curl's arguments.
type Curl struct {
	Location, LocationTrusted bool
	Request
}

// toolOptions is how a tool reads its options: the short ones that take a
// value (in the same argument or the next), the long ones that take the
// next argument, and whether a long one may carry its value after "=".
type toolOptions struct {
	valueShort string
	valueLong  []string
	equals     bool
}

// curlOptions: curl's long options never take "=VALUE". valueLong lists
// every long option of curl (`curl --help all`, 7.88, and later ones) that
// takes a value: an unknown one's value would be read as a URL argument,
// and refused as one without a scheme.
var curlOptions = toolOptions{
	valueShort: "AbcCdDeEFHKmoPQrtTuUwxXyYz",
	valueLong: strings.Fields(`--abstract-unix-socket --alt-svc --aws-sigv4 --cacert --capath --cert --cert-type --ciphers --config
		--connect-timeout --connect-to --continue-at --cookie --cookie-jar --create-file-mode --crlfile --curves --data --data-ascii
		--data-binary --data-raw --data-urlencode --delegation --dns-interface --dns-ipv4-addr --dns-ipv6-addr --dns-servers --doh-url
		--dump-header --ech --egd-file --engine --etag-compare --etag-save --expect100-timeout --form --form-string --ftp-account
		--ftp-alternative-to-user --ftp-method --ftp-port --ftp-ssl-ccc-mode --haproxy-clientip --happy-eyeballs-timeout-ms --header
		--hsts --interface --ip-tos --json --keepalive-cnt --keepalive-time --key --key-type --krb --libcurl --limit-rate --local-port
		--login-options --mail-auth --mail-from --mail-rcpt --max-filesize --max-redirs --max-time --netrc-file --noproxy
		--oauth2-bearer --output --output-dir --parallel-max --pass --pinnedpubkey --preproxy --proto --proto-default --proto-redir
		--proxy --proxy-cacert --proxy-capath --proxy-cert --proxy-cert-type --proxy-ciphers --proxy-crlfile --proxy-header
		--proxy-key --proxy-key-type --proxy-pass --proxy-pinnedpubkey --proxy-service-name --proxy-tls13-ciphers
		--proxy-tlsauthtype --proxy-tlspassword --proxy-tlsuser --proxy-user --pubkey --quote --random-file --range --rate --referer
		--request --request-target --resolve --retry --retry-delay --retry-max-time --sasl-authzid --service-name --sigalgs
		--socks4 --socks4a --socks5 --socks5-gssapi-service --socks5-hostname --speed-limit --speed-time --stderr --telnet-option
		--tftp-blksize --time-cond --tls-max --tls13-ciphers --tlsauthtype --tlspassword --tlsuser --trace --trace-ascii
		--trace-config --unix-socket --upload-file --url --url-query --user --user-agent --variable --vlan-priority --write-out`),
}

// wgetOptions: every long option of wget (`wget --help`, 1.21) that takes
// a value, which may follow in the next argument as well as after "=".
var wgetOptions = toolOptions{
	valueShort: "oaeiBtOTwQPUlARDIX",
	valueLong: strings.Fields(`--execute --output-file --append-output --report-speed --input-file --base --config --rejected-log
		--tries --retry-on-http-error --output-document --start-pos --progress --timeout --dns-timeout --connect-timeout
		--read-timeout --wait --waitretry --quota --bind-address --limit-rate --restrict-file-names --prefer-family --user
		--password --use-askpass --local-encoding --remote-encoding --directory-prefix --cut-dirs --http-user --http-password
		--default-page --header --compression --proxy-user --proxy-password --referer --user-agent --load-cookies --save-cookies
		--post-data --post-file --method --body-data --body-file --secure-protocol --certificate --certificate-type --private-key
		--private-key-type --ca-certificate --ca-directory --crl-file --pinnedpubkey --ciphers --ftp-user --ftp-password
		--warc-file --warc-header --warc-max-size --warc-dedup --warc-tempdir --level --backups --accept --reject --accept-regex
		--reject-regex --regex-type --domains --exclude-domains --follow-tags --ignore-tags --include-directories
		--exclude-directories --max-redirect --hsts-file --bind-dns-address --dns-servers`),
	equals: true,
}

// notHTTPURL says why arg, a URL the tool fetches, is one authx cannot
// check against the scope: it does not start with http:// or https:// (in
// any case). curl and wget guess http:// for "host/path" and read
// "http:/host" as http://host; "" when it does.
func notHTTPURL(tool, arg string) string {
	if l := strings.ToLower(arg); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		return ""
	}
	return "an argument " + tool + " would fetch as a URL that does not start with its scheme (http:// or https://): " +
		tool + " would guess one and authx cannot check it against the profile's scope; write the URL with its scheme"
}

// walk calls option for each option among args with its value ("" for a
// flag), and with name "" for each other argument (the tool's URLs; every
// argument after a "--"). Combined short flags ("-sSf") count one by one.
// An unknown long option is taken for a flag, which can only make the
// caller more cautious.
func (o toolOptions) walk(args []string, option func(name, value string)) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "--":
			for _, rest := range args[i+1:] {
				option("", rest)
			}
			return
		case len(a) < 2 || a[0] != '-':
			option("", a)
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := a, "", false
			if o.equals {
				name, value, hasValue = strings.Cut(a, "=")
			}
			if !hasValue && slices.Contains(o.valueLong, name) {
				value = next()
			}
			option(name, value)
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				name := "-" + string(a[j])
				if !strings.ContainsRune(o.valueShort, rune(a[j])) {
					option(name, "")
					continue
				}
				value := a[j+1:]
				if value == "" {
					value = next()
				}
				option(name, value)
				break
			}
		}
	}
}

// replayable reports whether method (any case) is GET or HEAD.
func replayable(method string) (string, bool) {
	m := strings.ToUpper(method)
	return m, m == "GET" || m == "HEAD"
}

// ScanCurl reads curl's arguments: whether it follows redirects, and
// whether a refused request may be run again. Unknown long options are
// taken for flags without a value, which can only make the answer more
// cautious.
func ScanCurl(args []string) Curl {
	var c Curl
	block := func(why string) {
		if c.NoRerun == "" {
			c.NoRerun = why
		}
	}
	option := func(name, value string) {
		switch name {
		case "", "--url":
			if why := notHTTPURL("curl", value); why != "" && c.Unchecked == "" {
				c.Unchecked = why
			}
		case "-L", "--location":
			c.Location = true
		case "--location-trusted":
			c.Location, c.LocationTrusted = true, true
		case "-d", "--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--json",
			"-F", "--form", "--form-string", "-T", "--upload-file":
			block("the request has a body")
		case "-X", "--request":
			if m, ok := replayable(value); !ok {
				block("the method is " + m)
			}
		case "-K", "--config":
			c.Unchecked = "-K: a curl config file may name URLs, or -L, that authx cannot check; put its options on the command line"
			block("curl reads a config (-K)")
		case "--resolve", "--connect-to":
			if c.Unchecked == "" {
				c.Unchecked = name + ": it sends a checked URL's request, credential included, to another address than its host's, which authx cannot check; put the address in the URL, or use 'authx header' with curl yourself"
			}
		case "-i", "--include":
			block("-i wrote the refused answer's headers to the output")
		case "-D", "--dump-header":
			if value == "-" {
				block("-D - wrote the refused answer's headers to the output")
			}
		case "--fail-with-body":
			block("--fail-with-body wrote the refused answer to the output")
		case "-:", "--next":
			block("more than one request")
		}
	}
	curlOptions.walk(args, option)
	c.Follow = c.Location
	return c
}

// curlForwarded are the credential headers curl does not send to another
// host or port when -L follows a redirect there; it forwards every other
// header it was given.
var curlForwarded = []string{"authorization", "cookie"}

// RedirectLeak says why curl's arguments would carry cred to whatever
// origin a redirect names; "" when they would not. The wrappers refuse
// such a command.
func (c Curl) RedirectLeak(cred *core.Credential) string {
	if c.LocationTrusted {
		return "--location-trusted sends every credential header to any host a redirect names"
	}
	if !c.Location {
		return ""
	}
	for _, h := range cred.HeaderLines() {
		if !slices.Contains(curlForwarded, strings.ToLower(h.Name)) {
			return fmt.Sprintf("with -L curl sends the credential's %s header to any host a redirect names; drop -L, or use 'authx request', which follows redirects without it", h.Name)
		}
	}
	return ""
}

// ScanWget says whether a refused wget request may be run again, and what
// authx cannot check.
func ScanWget(args []string) Request {
	var r Request
	block := func(why string) {
		if r.NoRerun == "" {
			r.NoRerun = why
		}
	}
	option := func(name, value string) {
		switch name {
		case "":
			if why := notHTTPURL("wget", value); why != "" && r.Unchecked == "" {
				r.Unchecked = why
			}
		case "--post-data", "--post-file", "--body-data", "--body-file":
			block("the request has a body")
		case "--method":
			if m, ok := replayable(value); !ok {
				block("the method is " + m)
			}
		case "-r", "--recursive", "-p", "--page-requisites", "-m", "--mirror", "-H", "--span-hosts":
			r.Unchecked = name + ": wget would follow links a server names, to URLs (other ports and paths, with -H other hosts) that authx cannot check"
			block("wget follows links")
		case "-i", "--input-file":
			r.Unchecked = "-i: wget would read URLs from a file that authx cannot check; give them on the command line"
			block("wget reads its URLs from a file")
		case "--content-on-error":
			block("--content-on-error wrote the refused answer to the output")
		case "-e", "--execute":
			l := strings.ToLower(value)
			if strings.Contains(l, "input") || strings.Contains(l, "base") || strings.Contains(l, "recursive") ||
				strings.Contains(l, "page_requisites") || strings.Contains(l, "mirror") || strings.Contains(l, "span_hosts") {
				r.Unchecked = "-e " + strings.ToLower(strings.TrimSpace(strings.SplitN(l, "=", 2)[0])) + ": wget would take URLs authx cannot check; give them on the command line"
			}
			for _, w := range []string{"post", "body", "method", "input", "content"} {
				if strings.Contains(l, w) {
					block("an -e command changes the request")
				}
			}
		}
	}
	wgetOptions.walk(args, option)
	return r
}

// OneURL sets req.URL to the only URL of urls, or says why there is not
// exactly one (and nothing to probe).
func OneURL(req Request, urls []string) Request {
	switch {
	case len(urls) == 1:
		req.URL = urls[0]
	case req.NoRerun == "" && len(urls) == 0:
		req.NoRerun = "no http(s) URL among the arguments"
	case req.NoRerun == "":
		req.NoRerun = "more than one URL"
	}
	return req
}

// urlValued are the curl and wget options whose value is a URL that is not
// fetched with the request's headers (a proxy, a referer, DoH): their
// values are not targets.
var urlValued = map[string]bool{"-x": true, "--proxy": true, "--preproxy": true, "-e": true, "--referer": true, "--doh-url": true}

// URLs returns the arguments that are http(s) URLs (scheme in any case),
// except the values of the options whose value is a URL that is not
// fetched (-x, --proxy, --preproxy, -e, --referer, --doh-url). The
// wrappers check each against the credential's scope.
func URLs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if urlValued[a] {
			i++ // its value
			continue
		}
		if name, _, ok := strings.Cut(a, "="); ok && urlValued[name] {
			continue
		}
		if l := strings.ToLower(a); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			out = append(out, a)
		}
	}
	return out
}

// NoRedirects returns wget's args with --max-redirect=0 as the last
// option: before a "--" among them, after which wget reads no option (it
// would take ours for a URL and follow redirects), else at the end. The
// last --max-redirect wins, so the user's cannot re-enable redirects.
func NoRedirects(args []string) []string {
	out := make([]string, 0, len(args)+1)
	for i, a := range args {
		if a == "--" {
			out = append(out, "--max-redirect=0")
			return append(out, args[i:]...)
		}
		out = append(out, a)
	}
	return append(out, "--max-redirect=0")
}
