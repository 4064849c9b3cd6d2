package redact

import (
	"io"
	"sync"
)

// Writer writes through to another writer with every secret it was given
// masked (see Set.Scrub). authx's log goes through one, because a plugin's
// own log lines are relayed there as the plugin wrote them. Each Write is
// scrubbed on its own, so it must carry whole lines, as hclog writes them.
// Secrets may be added at any time; a Writer is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	set Set
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Add masks every form of secret that s holds in what is written from now
// on. A nil Writer ignores it.
func (w *Writer) Add(s *Set) {
	if w == nil || s.Len() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range s.needles {
		w.set.add(n)
	}
	w.set.sort()
}

// Write writes p with the secrets masked. It reports len(p) on success, as
// the caller's bytes were all consumed.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.set.Len() == 0 {
		return w.w.Write(p)
	}
	if _, err := io.WriteString(w.w, w.set.Scrub(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
