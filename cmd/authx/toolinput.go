package main

import (
	"io"
	"time"

	"github.com/authx/authx/core"
)

// toolInputTimeout bounds the wait for what a tool writes on a helper's
// stdin: git and the go command write a few lines at once and close it.
const toolInputTimeout = 5 * time.Second

// readToolInput parses what a tool writes on stdin with parse (which
// bounds its size), giving up after toolInputTimeout: a tool that keeps
// stdin open without writing does not hold authx. what names the input in
// the error.
func readToolInput[T any](stdin io.Reader, what string, parse func(io.Reader) (T, error)) (T, error) {
	type read struct {
		v   T
		err error
	}
	done := make(chan read, 1)
	go func() {
		v, err := parse(stdin)
		done <- read{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.v, core.Errorf(core.KindConfig, "%s: %s", what, r.err)
		}
		return r.v, nil
	case <-time.After(toolInputTimeout):
		var zero T
		return zero, core.Errorf(core.KindConfig, "%s: nothing complete on stdin after %s", what, toolInputTimeout)
	}
}
