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
	v, err, ok := readWithin(stdin, parse)
	switch {
	case !ok:
		return v, inputTimeout(what)
	case err != nil:
		return v, core.Errorf(core.KindConfig, "%s: %s", what, err)
	}
	return v, nil
}

// readToolInputRaw is readToolInput returning parse's error as it is (a
// protocol's own error message); only the timeout is its own error.
func readToolInputRaw[T any](stdin io.Reader, what string, parse func(io.Reader) (T, error)) (T, error) {
	v, err, ok := readWithin(stdin, parse)
	if !ok {
		return v, inputTimeout(what)
	}
	return v, err
}

func inputTimeout(what string) error {
	return core.Errorf(core.KindConfig, "%s: nothing complete on stdin after %s", what, toolInputTimeout)
}

// readWithin runs parse on stdin for toolInputTimeout at most; ok is false
// when it did not finish in time.
func readWithin[T any](stdin io.Reader, parse func(io.Reader) (T, error)) (v T, err error, ok bool) {
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
		return r.v, r.err, true
	case <-time.After(toolInputTimeout):
		return v, nil, false
	}
}
