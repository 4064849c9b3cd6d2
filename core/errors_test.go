package core

import (
	"errors"
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
