package wrapcmd

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ScanCurl and ScanWget tell a replayable request from one that is not,
// however the options are spelt.
func TestScanToolArgs(t *testing.T) {
	curl := []struct {
		args     []string
		location bool
		trusted  bool
		rerun    bool
	}{
		{[]string{"-sf", "https://h/x"}, false, false, true},
		{[]string{"-sSfL", "https://h/x"}, true, false, true},
		{[]string{"-s", "--location", "-f", "https://h/x"}, true, false, true},
		{[]string{"--location-trusted", "https://h/x"}, true, true, true},
		{[]string{"-sf", "-d", "@-", "https://h/x"}, false, false, false},
		{[]string{"-sfd@-", "https://h/x"}, false, false, false},
		{[]string{"-sf", "--data-binary", "@-", "https://h/x"}, false, false, false},
		{[]string{"-sf", "-T", "-", "https://h/x"}, false, false, false},
		{[]string{"-sf", "--upload-file", "f", "https://h/x"}, false, false, false},
		{[]string{"-sf", "-F", "a=<-", "https://h/x"}, false, false, false},
		{[]string{"-sf", "--json", "{}", "https://h/x"}, false, false, false},
		{[]string{"-sfXPOST", "https://h/x"}, false, false, false},
		{[]string{"-sf", "--request", "head", "https://h/x"}, false, false, true},
		{[]string{"-sfi", "https://h/x"}, false, false, false},
		{[]string{"-sf", "-D", "-", "https://h/x"}, false, false, false},
		{[]string{"-sf", "-D", "headers.txt", "https://h/x"}, false, false, true},
		{[]string{"-s", "--fail-with-body", "https://h/x"}, false, false, false},
		{[]string{"-K", "-", "https://h/x"}, false, false, false},
		{[]string{"-sf", "https://h/x", "--next", "https://h/y"}, false, false, false},
		{[]string{"-sf", "-H", "X-L: -L", "https://h/x"}, false, false, true}, // a value, not an option
		{[]string{"-sf", "-o", "-L", "https://h/x"}, false, false, true},
		{[]string{"-sf", "--", "-L"}, false, false, true},
		{[]string{"-d"}, false, false, false}, // a value missing: no panic
	}
	for _, tt := range curl {
		c := ScanCurl(tt.args)
		if c.Location != tt.location || c.LocationTrusted != tt.trusted || (c.NoRerun == "") != tt.rerun {
			t.Errorf("ScanCurl(%q) = location %v, trusted %v, noRerun %q; want %v, %v, rerun %v", tt.args, c.Location, c.LocationTrusted, c.NoRerun, tt.location, tt.trusted, tt.rerun)
		}
	}
	wget := []struct {
		args  []string
		rerun bool
	}{
		{[]string{"-q", "-O-", "https://h/x"}, true},
		{[]string{"-qO-", "https://h/x"}, true},
		{[]string{"-q", "--post-data=a=1", "https://h/x"}, false},
		{[]string{"-q", "--post-file", "/dev/stdin", "https://h/x"}, false},
		{[]string{"-q", "--body-file=-", "--method=PUT", "https://h/x"}, false},
		{[]string{"-q", "--method=HEAD", "https://h/x"}, true},
		{[]string{"-q", "--method", "delete", "https://h/x"}, false},
		{[]string{"-qi", "-"}, false},
		{[]string{"-q", "--input-file=urls.txt"}, false},
		{[]string{"-q", "--content-on-error", "https://h/x"}, false},
		{[]string{"-e", "robots=off", "https://h/x"}, true},
		{[]string{"-e", "post_data=a", "https://h/x"}, false},
		{[]string{"-O", "--post-data", "https://h/x"}, true}, // a file name, not an option
		{[]string{"--method"}, false},                        // a value missing: cautious, no panic
	}
	for _, tt := range wget {
		if r := ScanWget(tt.args); (r.NoRerun == "") != tt.rerun {
			t.Errorf("ScanWget(%q) noRerun %q, want rerun %v", tt.args, r.NoRerun, tt.rerun)
		}
	}
	// The URLs the tools fetch must name their scheme: curl and wget guess
	// http:// for host/path and read http:/host as http://host, which
	// authx would not check against the scope.
	checked := []struct {
		tool string
		args []string
		ok   bool
	}{
		{"curl", []string{"-sSf", "https://h/x", "HTTP://h/y"}, true},
		{"curl", []string{"-s", "--retry-delay", "2", "--output-dir", "d/x", "-o", "f", "https://h/x"}, true}, // values, not URLs
		{"curl", []string{"-sH", "X: y", "-x", "proxy.local:3128", "https://h/x"}, true},
		{"curl", []string{"-s", "h/x"}, false},
		{"curl", []string{"-s", "http:/h/x"}, false},
		{"curl", []string{"-s", "--url", "h/x"}, false},
		{"curl", []string{"-s", "https://h/x", "--", "h/y"}, false},
		{"curl", []string{"-s", "--resolve", "h:443:203.0.113.9", "https://h/x"}, false},
		{"curl", []string{"-s", "--connect-to", "h:443:evil.example:443", "https://h/x"}, false},
		{"wget", []string{"-qO-", "--tries", "3", "--output-document", "f", "https://h/x"}, true},
		{"wget", []string{"-qO-", "h/x"}, false},
		{"wget", []string{"-q", "--", "http:/h/x"}, false},
	}
	for _, tt := range checked {
		var why string
		if tt.tool == "curl" {
			why = ScanCurl(tt.args).Unchecked
		} else {
			why = ScanWget(tt.args).Unchecked
		}
		if (why == "") != tt.ok {
			t.Errorf("Scan %s %q: unchecked %q, want ok %v", tt.tool, tt.args, why, tt.ok)
		}
	}
	if r := OneURL(Request{}, []string{"https://h/x", "https://h/y"}); r.NoRerun == "" {
		t.Error("two URLs: rerun allowed")
	}
	if r := OneURL(Request{}, []string{"https://h/x"}); r.NoRerun != "" || r.URL != "https://h/x" {
		t.Errorf("one URL: %+v", r)
	}
}

// FuzzScanToolArgs: scanning any argument list never panics, and an option
// the list starts with is never lost in what follows.
func FuzzScanToolArgs(f *testing.F) {
	f.Add("-sfd@-\x00https://h/x")
	f.Add("-sSfL\x00--location-trusted\x00-H\x00X: -L")
	f.Add("-qO-\x00--post-file=-\x00-e\x00post_data=x\x00-i")
	f.Add("-\x00--\x00-d\x00-X")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		ScanCurl(args)
		ScanWget(args)
		if c := ScanCurl(append([]string{"--location-trusted"}, args...)); !c.LocationTrusted || !c.Location {
			t.Errorf("--location-trusted first, then %q: not seen", args)
		}
		if c := ScanCurl(append([]string{"-d", "@-"}, args...)); c.NoRerun == "" {
			t.Errorf("-d @- first, then %q: rerun allowed", args)
		}
		if r := ScanWget(append([]string{"--post-file=-"}, args...)); r.NoRerun == "" {
			t.Errorf("--post-file=- first, then %q: rerun allowed", args)
		}
		// A URL without a scheme first: the tool guesses one; never unchecked.
		if c := ScanCurl(append([]string{"evil.example/x"}, args...)); c.Unchecked == "" {
			t.Errorf("evil.example/x first, then %q: curl's URLs checked", args)
		}
		if r := ScanWget(append([]string{"evil.example/x"}, args...)); r.Unchecked == "" {
			t.Errorf("evil.example/x first, then %q: wget's URLs checked", args)
		}
	})
}

func TestNoRedirectsIsTheLastOption(t *testing.T) {
	tests := []struct{ in, want []string }{
		{nil, []string{"--max-redirect=0"}},
		{[]string{"-q", "http://h/"}, []string{"-q", "http://h/", "--max-redirect=0"}},
		{[]string{"-q", "--", "http://h/"}, []string{"-q", "--max-redirect=0", "--", "http://h/"}},
		{[]string{"--", "-x", "--"}, []string{"--max-redirect=0", "--", "-x", "--"}},
	}
	for _, tt := range tests {
		if got := NoRedirects(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("NoRedirects(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOutcomeRoundTrip(t *testing.T) {
	for _, o := range []Outcome{{}, {Code: 22, Refused: true, Created: 1764500000123456789}, {Code: 8, Refused: true, Written: true, Created: -1}, {Code: 255}} {
		if got, ok := ParseOutcome(o.String()); !ok || got != o {
			t.Errorf("ParseOutcome(%q) = %+v, %v; want %+v", o.String(), got, ok, o)
		}
	}
	for _, s := range []string{"", "22", "22,1,0", "22,1,1,1,1", "-1,0,0,0", "256,0,0,0", "022,0,0,0", "+2,0,0,0", "2,2,0,0", "2,0,yes,0", " 2,0,0,0", "2,0,0,01", "2,0,0,+1", "2,0,0,99999999999999999999"} {
		if o, ok := ParseOutcome(s); ok {
			t.Errorf("ParseOutcome(%q) = %+v, want a refusal", s, o)
		}
	}
}

// FuzzParseOutcome: what the front hands authx-cli in an environment
// variable anyone may set parses only when it is exactly what String
// writes.
func FuzzParseOutcome(f *testing.F) {
	f.Add("22,1,0,1764500000123456789")
	f.Add("0,0,0,0")
	f.Add("255,1,1,-5")
	f.Add("1e2,0,0,0")
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := ParseOutcome(s)
		if !ok {
			return
		}
		if o.String() != s || o.Code < 0 || o.Code > 255 {
			t.Errorf("ParseOutcome(%q) = %+v, which writes %q", s, o, o.String())
		}
	})
}

func TestFinalStatus(t *testing.T) {
	tests := []struct {
		dump string
		want int
	}{
		{"", 0},
		{"HTTP/1.1 200 OK\r\nA: b\r\n\r\n", 200},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\n\r\n", 401},
		{"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\nHTTP/2 403\r\n\r\n", 403},
		{"HTTP/1.1 401 x\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n", 401},
		{"HTTP/1.1 999 x\r\n", 0},
		{"X-Fake: HTTP/1.1 401\r\n", 0},
	}
	for _, tt := range tests {
		if got := FinalStatus(strings.NewReader(tt.dump)); got != tt.want {
			t.Errorf("FinalStatus(%q) = %d, want %d", tt.dump, got, tt.want)
		}
	}
}

// FuzzFinalStatus: any header dump (a server's words) gives 0 or a final
// status code, never a 1xx, and the last status line's when it has one.
func FuzzFinalStatus(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\n\r\n")
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/2 401\r\nWWW-Authenticate: Basic\r\n\r\n")
	f.Add("HTTP/1.1 -401 x\nHTTP/1.1 0x191\n")
	f.Fuzz(func(t *testing.T, dump string) {
		got := FinalStatus(strings.NewReader(dump))
		if got != 0 && (got < 200 || got > 599) {
			t.Errorf("FinalStatus(%q) = %d", dump, got)
		}
		if got != 0 && !strings.Contains(dump, strconv.Itoa(got)) {
			t.Errorf("FinalStatus(%q) = %d, which is not in the dump", dump, got)
		}
	})
}
