package redisvault

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/authx/authx/core/cache"
)

// fakeRedis listens on 127.0.0.1 and answers the chunks a client writes
// on a connection with replies, in turn, the last one again and again: a
// hostile server (or one in the middle of a redis:// link).
func fakeRedis(t *testing.T, replies ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for i := 0; ; i++ {
					if _, err := c.Read(buf); err != nil {
						return
					}
					if _, err := c.Write([]byte(replies[min(i, len(replies)-1)])); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "redis://" + l.Addr().String()
}

// A Redis that answers with an error of its own making, holding terminal
// escapes and 100 kB of text: the Vault's error (which authx prints as a
// warning on stderr) is one short line without a control character.
func TestHostileErrorReplyIsOneShortLine(t *testing.T) {
	url := fakeRedis(t, "-ERR \x1b]0;owned\x07\x1b[2J\rforged "+strings.Repeat("A", 100<<10)+"\r\n")
	v, err := New(Options{URL: url, Box: newBox(t), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for what, f := range map[string]func() error{
		"Get":      func() error { _, err := v.Get("work.1"); return err },
		"SetUntil": func() error { return v.SetUntil("work.1", []byte("x"), time.Time{}) },
		"TryLock":  func() error { _, err := v.TryLock("work.1", time.Second); return err },
		"NameKey":  func() error { _, err := v.NameKey(); return err },
		"List":     func() error { _, err := v.List("work."); return err },
	} {
		err := f()
		if !errors.Is(err, cache.ErrVaultUnavailable) {
			t.Errorf("%s: %v, want an unavailable store", what, err)
			continue
		}
		msg := err.Error()
		if strings.ContainsFunc(msg, unicode.IsControl) {
			t.Errorf("%s: the error holds a control character: %q", what, msg[:min(len(msg), 80)])
		}
		if len(msg) > 512 {
			t.Errorf("%s: the error is %d bytes long", what, len(msg))
		}
	}
}
