package basic

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxNetrcSize bounds the netrc file.
const maxNetrcSize = 1 << 20

// userNetrc reads $NETRC, else ~/.netrc: a regular file of at most 1 MiB,
// so that a named pipe cannot hang the plugin nor /dev/zero swell it.
func userNetrc() ([]byte, error) {
	p := os.Getenv("NETRC")
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		p = filepath.Join(home, ".netrc")
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New(p + " is not a regular file")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxNetrcSize+1))
	if err == nil && len(data) > maxNetrcSize {
		err = errors.New(p + " is larger than 1 MiB")
	}
	return data, err
}

// lookupNetrc finds the login and password for host in a netrc file, as
// curl and ftp read it: `machine NAME login L password P` entries, a
// `default` entry used when no machine matches, and `macdef NAME` blocks,
// which run to the next empty line, skipped. When user is not empty only an
// entry with that login matches.
func lookupNetrc(data []byte, host, user string) (login, password string, ok bool) {
	type entry struct {
		machine, login, password string
		isDefault                bool
	}
	var entries []entry
	lines := strings.Split(string(data), "\n")
	toks := netrcTokens(lines)
	for i := 0; i < len(toks); i++ {
		value := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i].text
			}
			return ""
		}
		switch toks[i].text {
		case "machine":
			entries = append(entries, entry{machine: value()})
		case "default":
			entries = append(entries, entry{isDefault: true})
		case "login", "password", "account":
			key := toks[i].text
			v := value()
			if len(entries) == 0 {
				continue
			}
			switch e := &entries[len(entries)-1]; key {
			case "login":
				e.login = v
			case "password":
				e.password = v
			}
		case "macdef":
			end := macroEnd(lines, toks[i].line)
			for i+1 < len(toks) && toks[i+1].line < end {
				i++
			}
		}
	}
	for _, exact := range []bool{true, false} { // exact machine first, then default
		for _, e := range entries {
			if (exact && e.machine != "" && strings.EqualFold(e.machine, host) || !exact && e.isDefault) && (user == "" || e.login == user) {
				return e.login, e.password, true
			}
		}
	}
	return "", "", false
}

// netrcToken is a word of a netrc file and the line it is on.
type netrcToken struct {
	text string
	line int
}

func netrcTokens(lines []string) []netrcToken {
	var toks []netrcToken
	for n, l := range lines {
		for _, f := range strings.Fields(l) {
			toks = append(toks, netrcToken{f, n})
		}
	}
	return toks
}

// macroEnd returns the index of the first empty line after line, where a
// macdef's body ends.
func macroEnd(lines []string, line int) int {
	for n := line + 1; n < len(lines); n++ {
		if strings.TrimSpace(lines[n]) == "" {
			return n
		}
	}
	return len(lines)
}
