package redact

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
)

func TestWriterMasksWhatItWasGiven(t *testing.T) {
	var out strings.Builder
	w := NewWriter(&out)
	w.Write([]byte("before: S3cretPW\n")) // not known yet: written as is
	s := New()
	s.AddBasic("cid", "S3cretPW")
	w.Add(s)
	w.Add(nil)
	for _, line := range []string{
		"plugin: login password=S3cretPW\n",
		`{"@message":"sent","password":"S3cret\u0050W"}` + "\n",
		"auth=Basic " + base64.StdEncoding.EncodeToString([]byte("cid:S3cretPW")) + "\n",
		"form: pw=S3cret%50W\n",
	} {
		if n, err := w.Write([]byte(line)); err != nil || n != len(line) {
			t.Fatalf("Write(%q) = %d, %v", line, n, err)
		}
	}
	got := out.String()
	if !strings.HasPrefix(got, "before: S3cretPW\n") {
		t.Errorf("a line written before the secret was known changed: %q", got)
	}
	rest := strings.TrimPrefix(got, "before: S3cretPW\n")
	for _, leak := range []string{"S3cretPW", `S3cret\u0050W`, "S3cret%50W", base64.StdEncoding.EncodeToString([]byte("cid:S3cretPW"))} {
		if strings.Contains(rest, leak) {
			t.Errorf("%q leaked through the writer: %q", leak, rest)
		}
	}
	if strings.Count(rest, Mask) != 4 {
		t.Errorf("want 4 masks, got %q", rest)
	}
}

func TestWriterIsSafeForConcurrentUse(t *testing.T) {
	var out strings.Builder
	w := NewWriter(&out)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() { defer wg.Done(); w.Add(New("secret-value-" + string(rune('a'+i)))) }()
		go func() { defer wg.Done(); w.Write([]byte("line\n")) }()
	}
	wg.Wait()
	if strings.Count(out.String(), "line\n") != 8 {
		t.Errorf("lost lines: %q", out.String())
	}
}

func TestNilWriterAdd(t *testing.T) {
	var w *Writer
	w.Add(New("whatever-secret")) // must not panic
}
