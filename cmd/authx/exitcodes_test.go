package main

import (
	"os"
	"regexp"
	"slices"
	"strconv"
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
