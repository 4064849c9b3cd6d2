package basic

import (
	"os"
	"path/filepath"
	"strings"
)

// userNetrc reads $NETRC, else ~/.netrc.
func userNetrc() ([]byte, error) {
	p := os.Getenv("NETRC")
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		p = filepath.Join(home, ".netrc")
	}
	return os.ReadFile(p)
}

// lookupNetrc finds the login and password for host in a netrc file, as
// curl and ftp read it: `machine NAME login L password P` entries, a
// `default` entry used when no machine matches, and `macdef` blocks skipped.
// When user is not empty only an entry with that login matches.
func lookupNetrc(data []byte, host, user string) (login, password string, ok bool) {
	type entry struct{ machine, login, password string }
	var entries []entry
	var cur *entry
	toks := strings.Fields(stripMacdefs(string(data)))
	for i := 0; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch toks[i] {
		case "machine":
			entries = append(entries, entry{machine: next()})
			cur = &entries[len(entries)-1]
		case "default":
			entries = append(entries, entry{machine: ""})
			cur = &entries[len(entries)-1]
		case "login":
			if v := next(); cur != nil {
				cur.login = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.password = v
			}
		case "account":
			next()
		}
	}
	for _, pass := range []bool{true, false} { // exact machine first, then default
		for _, e := range entries {
			if (pass && strings.EqualFold(e.machine, host) || !pass && e.machine == "") && (user == "" || e.login == user) {
				return e.login, e.password, true
			}
		}
	}
	return "", "", false
}

// stripMacdefs removes `macdef` blocks, which run to the next empty line.
func stripMacdefs(s string) string {
	var b strings.Builder
	inMacro := false
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case inMacro:
			if t == "" {
				inMacro = false
			}
		case strings.HasPrefix(t, "macdef"):
			inMacro = true
		default:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
