package core

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
)

func TestPrefix(t *testing.T) {
	tests := []struct {
		err  error
		kind Kind
		msg  string
	}{
		{Errorf(KindRejected, "refused"), KindRejected, "where: refused"},
		{Wrap(KindNetwork, errors.New("eof"), ""), KindNetwork, "where: eof"},
		{errors.New("plain"), KindConfig, "where: plain"},
	}
	for _, tt := range tests {
		got := Prefix("where", tt.err, KindConfig)
		if KindOf(got) != tt.kind || got.Error() != tt.msg {
			t.Errorf("Prefix(%v) = %v (%v), want %q (%v)", tt.err, got, KindOf(got), tt.msg, tt.kind)
		}
	}
	if Prefix("where", nil, KindConfig) != nil {
		t.Error("Prefix of nil is not nil")
	}
}

// timeoutErr is a net.Error whose Timeout is configurable.
type timeoutErr bool

func (e timeoutErr) Error() string   { return "i/o" }
func (e timeoutErr) Timeout() bool   { return bool(e) }
func (e timeoutErr) Temporary() bool { return false }

func TestIsTimeout(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, true},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		{&url.Error{Op: "Get", URL: "http://x", Err: timeoutErr(true)}, true},
		{timeoutErr(false), false},
		{context.Canceled, false},
		{errors.New("connection refused"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsTimeout(tt.err); got != tt.want {
			t.Errorf("IsTimeout(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// Issue 12, point 5: logs name decisions ("decision=retry", not 2).
func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{DecisionFail: "fail", DecisionRetry: "retry", DecisionRefresh: "refresh",
		DecisionLogin: "login", 0: "Decision(0)", 9: "Decision(9)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}
