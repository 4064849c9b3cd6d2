package main

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The table `authx help exit-codes` prints and docs/exit-codes.md list the
// same codes.
func TestExitCodesMatchTheDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented, printed []int
	for _, m := range regexp.MustCompile(`(?m)^\|\s*(\d+)\s*\|`).FindAllSubmatch(doc, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		documented = append(documented, n)
	}
	for _, e := range exitCodes {
		printed = append(printed, e.code)
	}
	slices.Sort(documented)
	slices.Sort(printed)
	if !slices.Equal(documented, printed) {
		t.Errorf("docs/exit-codes.md lists %v, authx help exit-codes prints %v", documented, printed)
	}
}

// Exit 17 is also a shared store (stores:, Redis) that cannot be reached
// by a profile with store_fallback: fail (TestFleetRedisSilent):
// the docs' row and `authx help exit-codes` say so, not only the keyring.
func TestExitCode17NamesTheSharedStore(t *testing.T) {
	doc, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\|\s*17\s*\|.*$`).Find(doc)
	help := newEnv(t).run("help", "exit-codes")
	line := regexp.MustCompile(`(?m)^\s*17\s.*$`).FindString(help.stdout)
	for what, s := range map[string]string{"docs/exit-codes.md": string(row), "authx help exit-codes": line} {
		if !strings.Contains(s, "Redis") {
			t.Errorf("%s says of exit 17 %q: nothing of a shared (Redis) store", what, s)
		}
	}
}

// Logout of a shared-store profile whose Redis cannot be reached exits 17
// with one line (no "logged out" before it) that names the profile once and says the credential stays
// in the store (the fleet's entry was not removed).
func TestLogoutSharedStoreUnreachable(t *testing.T) {
	e := newEnv(t).set("PW=Pw-Secret-1",
		"AUTHX_STORE_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	e.config(`
stores:
  fleet: {type: redis, url: "redis://127.0.0.1:1", key: env:AUTHX_STORE_KEY}
profiles:
  shared:
    scheme: basic
    store: fleet
    config: {username: carol, password: env:PW}
`)
	if r := e.run("token", "shared"); r.code != 0 {
		t.Fatalf("token (Redis unreachable: a local login): %+v", r)
	}
	r := e.run("logout", "shared")
	last := r.stderr
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) > 0 {
		last = lines[len(lines)-1]
	}
	if r.code != 17 || last != strings.TrimSpace(r.stderr) || strings.Count(last, `profile "shared"`) != 1 || !strings.Contains(last, "stays in store fleet") {
		t.Errorf("logout with Redis unreachable: %+v; want exit 17, a line naming the profile once and the store", r)
	}
}
