package redisvault

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/cache"
)

// A Redis that announces a reply larger than memory (a bulk string of
// 9 TB, an array of 2^40 elements): the Vault's call fails, the process
// lives. Run in a child process: the failure is a fatal runtime error.
func TestHugeReplyDoesNotKillTheProcess(t *testing.T) {
	for name, reply := range map[string]string{
		"bulk":  "$9000000000000\r\n",
		"array": "*1099511627776\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			if url := os.Getenv("AUTHX_HUGE_REPLY_URL"); url != "" {
				v, err := New(Options{URL: url, Box: newBox(t), Timeout: 500 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				if _, err = v.Get("work.1"); !errors.Is(err, cache.ErrVaultUnavailable) {
					t.Fatalf("Get: %v, want an unavailable store", err)
				}
				_, err = v.List("work.")
				t.Logf("Get, List: %v", err)
				return
			}
			cmd := exec.Command(os.Args[0], "-test.run=TestHugeReplyDoesNotKillTheProcess/"+name)
			cmd.Env = append(os.Environ(), "AUTHX_HUGE_REPLY_URL="+fakeRedis(t, "-ERR unknown command 'HELLO'\r\n", reply))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the process died: %v\n%.600s", err, out)
			}
		})
	}
}

// respScan follows any stream without panicking, and alike whatever the
// chunks the bytes come in; a reply within the bounds passes.
func FuzzRespScan(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nfoo\r\n:12\r\n"), uint8(3))
	f.Add([]byte("$9000000000000\r\n"), uint8(1))
	f.Add([]byte("%1\r\n+a\r\n=5\r\ntxt:x\r\n-ERR no\r\n$-1\r\n*-1\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		var whole, parts respScan
		errWhole := whole.feed(b)
		step := int(chunk) + 1
		var errParts error
		for i := 0; i < len(b) && errParts == nil; i += step {
			errParts = parts.feed(b[i:min(i+step, len(b))])
		}
		if (errWhole == nil) != (errParts == nil) {
			t.Fatalf("whole: %v, in chunks of %d: %v", errWhole, step, errParts)
		}
	})
}

func TestRespScanPassesARealReply(t *testing.T) {
	var s respScan
	body := strings.Repeat("x", MaxEntry+1)
	reply := "*2\r\n$" + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n*1000\r\n" + strings.Repeat("$40\r\n"+strings.Repeat("k", 40)+"\r\n", 1000)
	if err := s.feed([]byte(reply)); err != nil {
		t.Fatal(err)
	}
}
