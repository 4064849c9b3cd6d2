package snapshot

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/authx/authx/core/config/profiles"
)

// The file format: UTF-8 lines, each a keyword and its values; strings
// are Go-quoted (strconv.Quote), so a value never holds a line break.
// Lines after a profile line describe that profile. Decoding needs no
// reflection: the front pays for none of encoding/json's type walks.
//
//	authx-front-snapshot 3
//	uid 1000
//	config "/home/a/.config/authx/config.yaml"
//	config-id DEV INO SIZE MTIME CTIME MODE UID
//	taken NS
//	input "VALUE"                  (one per EnvInputs, in order)
//	names-key DEV INO SIZE MTIME CTIME MODE UID
//	log-level "off"
//	plugin-start-timeout NS        (and call-, refresh-skew, lock-, cmd-timeout)
//	cache-dir "/home/a/.cache/authx"
//	default-store "file"               (and default-store-fallback, default-cache-ttl NS)
//	shared-store "fleet" "redis"       (one per stores: entry, sorted: name, type)
//	profile "work"
//	scheme "basic"
//	match "https://api.example.com/"   (any number)
//	url "https://api.example.com/"
//	env "GITHUB_TOKEN" "token"         (any number)
//	store "file"
//	config-key "username"              (any number)
//	entry "work.0123abcd….json"
//	agent "hex"
//	plugin "PATH" "SHA256" "PIN"       (when the profile names or pins one)
const magic = "authx-front-snapshot"

var errFormat = errors.New("snapshot: malformed")

// Encode returns s's bytes.
func (s *Snapshot) Encode() ([]byte, error) {
	var b bytes.Buffer
	line := func(kw string, vals ...string) {
		b.WriteString(kw)
		for _, v := range vals {
			b.WriteByte(' ')
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	q := strconv.Quote
	num := func(n int64) string { return strconv.FormatInt(n, 10) }
	id := func(f FileID) []string {
		return []string{strconv.FormatUint(f.Dev, 10), strconv.FormatUint(f.Ino, 10), num(f.Size), num(f.Mtime), num(f.Ctime),
			strconv.FormatUint(uint64(f.Mode), 10), strconv.FormatUint(uint64(f.UID), 10)}
	}
	k, st := &s.Key, &s.Settings
	line(magic, strconv.Itoa(s.Version))
	line("uid", strconv.Itoa(k.UID))
	line("config", q(k.Config))
	line("config-id", id(k.ConfigID)...)
	line("taken", num(k.Taken))
	for _, v := range k.Env {
		line("input", q(v))
	}
	line("names-key", id(k.NameKey)...)
	line("log-level", q(st.LogLevel))
	line("plugin-start-timeout", num(int64(st.PluginStartTimeout)))
	line("call-timeout", num(int64(st.CallTimeout)))
	line("refresh-skew", num(int64(st.RefreshSkew)))
	line("lock-timeout", num(int64(st.LockTimeout)))
	line("cmd-timeout", num(int64(st.CmdTimeout)))
	line("cache-dir", q(st.CacheDir))
	line("default-store", q(st.Store))
	line("default-store-fallback", q(st.StoreFallback))
	line("default-cache-ttl", num(int64(st.CacheTTL)))
	for _, name := range sortedKeys(s.Stores) {
		line("shared-store", q(name), q(s.Stores[name]))
	}
	for _, p := range s.Profiles {
		line("profile", q(p.Name))
		line("scheme", q(p.Scheme))
		for _, m := range p.Match {
			line("match", q(m))
		}
		if p.URL != "" {
			line("url", q(p.URL))
		}
		for _, name := range sortedKeys(p.Env) {
			line("env", q(name), q(p.Env[name]))
		}
		line("store", q(p.Store))
		for _, c := range p.ConfigKeys {
			line("config-key", q(c))
		}
		if p.Entry != "" {
			line("entry", q(p.Entry))
		}
		line("agent", q(p.Agent))
		if p.Plugin != (profiles.PluginEntry{}) {
			line("plugin", q(p.Plugin.Path), q(p.Plugin.SHA256), q(p.Plugin.Pin))
		}
	}
	return b.Bytes(), nil
}

// decode parses the format (not Validate's checks).
func decode(data []byte) (*Snapshot, error) {
	s := &Snapshot{}
	var p *Profile
	text := string(data)
	first := true
	for text != "" {
		var ln string
		var ok bool
		if ln, text, ok = strings.Cut(text, "\n"); !ok {
			return nil, errFormat // every line ends with a line break
		}
		kw, rest, _ := strings.Cut(ln, " ")
		if first != (kw == magic) {
			return nil, errFormat
		}
		first = false
		var err error
		switch kw {
		case magic:
			s.Version, err = strconv.Atoi(rest)
			if s.Version != Version {
				return nil, errFormat // another version: its layout is not ours to guess
			}
		case "uid":
			s.Key.UID, err = strconv.Atoi(rest)
		case "config":
			s.Key.Config, err = strings1(rest)
		case "config-id":
			s.Key.ConfigID, err = fileID(rest)
		case "taken":
			s.Key.Taken, err = strconv.ParseInt(rest, 10, 64)
		case "input":
			err = appendString(&s.Key.Env, rest)
		case "names-key":
			s.Key.NameKey, err = fileID(rest)
		case "log-level":
			s.Settings.LogLevel, err = strings1(rest)
		case "plugin-start-timeout":
			s.Settings.PluginStartTimeout, err = duration(rest)
		case "call-timeout":
			s.Settings.CallTimeout, err = duration(rest)
		case "refresh-skew":
			s.Settings.RefreshSkew, err = duration(rest)
		case "lock-timeout":
			s.Settings.LockTimeout, err = duration(rest)
		case "cmd-timeout":
			s.Settings.CmdTimeout, err = duration(rest)
		case "cache-dir":
			s.Settings.CacheDir, err = strings1(rest)
		case "default-store":
			s.Settings.Store, err = strings1(rest)
		case "default-store-fallback":
			s.Settings.StoreFallback, err = strings1(rest)
		case "default-cache-ttl":
			s.Settings.CacheTTL, err = duration(rest)
		case "shared-store":
			if p != nil { // before the profiles, as Encode writes them
				return nil, errFormat
			}
			var vs []string
			if vs, err = quoted(rest, 2); err == nil {
				if _, dup := s.Stores[vs[0]]; dup {
					return nil, errFormat
				}
				if s.Stores == nil {
					s.Stores = map[string]string{}
				}
				s.Stores[vs[0]] = vs[1]
			}
		case "profile":
			s.Profiles = append(s.Profiles, Profile{})
			p = &s.Profiles[len(s.Profiles)-1]
			p.Name, err = strings1(rest)
		default:
			if p == nil {
				return nil, errFormat
			}
			err = p.decodeLine(kw, rest)
		}
		if err != nil {
			return nil, errFormat
		}
	}
	if first {
		return nil, errFormat
	}
	return s, nil
}

// decodeLine reads one line of a profile.
func (p *Profile) decodeLine(kw, rest string) (err error) {
	switch kw {
	case "scheme":
		p.Scheme, err = strings1(rest)
	case "match":
		err = appendString(&p.Match, rest)
	case "url":
		p.URL, err = strings1(rest)
	case "env":
		var vs []string
		if vs, err = quoted(rest, 2); err == nil {
			if p.Env == nil {
				p.Env = map[string]string{}
			}
			if _, dup := p.Env[vs[0]]; dup {
				return errFormat
			}
			p.Env[vs[0]] = vs[1]
		}
	case "store":
		p.Store, err = strings1(rest)
	case "config-key":
		err = appendString(&p.ConfigKeys, rest)
	case "entry":
		p.Entry, err = strings1(rest)
	case "agent":
		p.Agent, err = strings1(rest)
	case "plugin":
		var vs []string
		if vs, err = quoted(rest, 3); err == nil {
			if p.Plugin != (profiles.PluginEntry{}) {
				return errFormat
			}
			p.Plugin = profiles.PluginEntry{Path: vs[0], SHA256: vs[1], Pin: vs[2]}
		}
	default:
		err = errFormat
	}
	return err
}

// quoted reads exactly n space-separated quoted strings.
func quoted(s string, n int) ([]string, error) {
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			var ok bool
			if s, ok = strings.CutPrefix(s, " "); !ok {
				return nil, errFormat
			}
		}
		q, err := strconv.QuotedPrefix(s)
		if err != nil || q[0] != '"' {
			return nil, errFormat
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return nil, errFormat
		}
		out = append(out, v)
		s = s[len(q):]
	}
	if s != "" {
		return nil, errFormat
	}
	return out, nil
}

func strings1(s string) (string, error) {
	vs, err := quoted(s, 1)
	if err != nil {
		return "", err
	}
	return vs[0], nil
}

func appendString(list *[]string, s string) error {
	v, err := strings1(s)
	if err == nil {
		*list = append(*list, v)
	}
	return err
}

func duration(s string) (time.Duration, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	return time.Duration(n), err
}

func fileID(s string) (FileID, error) {
	f := strings.Split(s, " ")
	if len(f) != 7 {
		return FileID{}, errFormat
	}
	var u [3]uint64
	var n [3]int64
	var err error
	for i, j := range []int{0, 1, 5} {
		if u[i], err = strconv.ParseUint(f[j], 10, 64); err != nil {
			return FileID{}, err
		}
	}
	for i, j := range []int{2, 3, 4} {
		if n[i], err = strconv.ParseInt(f[j], 10, 64); err != nil {
			return FileID{}, err
		}
	}
	uid, err := strconv.ParseUint(f[6], 10, 32)
	if err != nil || u[2] > 1<<32-1 {
		return FileID{}, errFormat
	}
	return FileID{Dev: u[0], Ino: u[1], Size: n[0], Mtime: n[1], Ctime: n[2], Mode: uint32(u[2]), UID: uint32(uid)}, nil
}
