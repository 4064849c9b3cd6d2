package core

import "testing"

// Issue 12, point 5: logs name decisions ("decision=retry", not 2).
func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{DecisionFail: "fail", DecisionRetry: "retry", DecisionRefresh: "refresh",
		DecisionLogin: "login", 0: "Decision(0)", 9: "Decision(9)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}
