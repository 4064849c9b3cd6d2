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
