package redisvault

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authx/authx/core/sealed"
)

func newBox(t *testing.T) *sealed.Box {
	box, err := sealed.New(testKey(7))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func TestLockExcludesASecondHolder(t *testing.T) {
	s := startRedis(t)
	a, b := newVault(t, s, Options{}), newVault(t, s, Options{})
	la, err := a.TryLock("work.1", time.Second)
	if err != nil || la == nil {
		t.Fatalf("first TryLock = %v, %v", la, err)
	}
	if lb, err := b.TryLock("work.1", time.Second); err != nil || lb != nil {
		t.Fatalf("second TryLock while held = %v, %v; want nil, nil", lb, err)
	}
	if lo, err := b.TryLock("other.2", time.Second); err != nil || lo == nil {
		t.Fatalf("a lock of another entry: %v, %v", lo, err)
	} else {
		lo.Unlock()
	}
	if err := la.Unlock(); err != nil {
		t.Fatal(err)
	}
	lb, err := b.TryLock("work.1", time.Second)
	if err != nil || lb == nil {
		t.Fatalf("TryLock after Unlock = %v, %v", lb, err)
	}
	lb.Unlock()
}

// A lock held longer than its TTL stays held: its holder extends it.
func TestLockIsExtendedWhileHeld(t *testing.T) {
	s := startRedis(t)
	a, b := newVault(t, s, Options{}), newVault(t, s, Options{})
	la, err := a.TryLock("work.1", 600*time.Millisecond)
	if err != nil || la == nil {
		t.Fatal(la, err)
	}
	defer la.Unlock()
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if lb, _ := b.TryLock("work.1", time.Second); lb != nil {
			t.Fatal("a second holder took a lock its holder still extends")
		}
	}
}

// Once the owner's lock expired and another took it, the first owner's
// late Unlock does not release the new holder's lock.
func TestLockIsReleasedOnlyByItsOwner(t *testing.T) {
	s := startRedis(t)
	a, b := newVault(t, s, Options{}), newVault(t, s, Options{})
	la, err := a.TryLock("work.1", 200*time.Millisecond)
	if err != nil || la == nil {
		t.Fatal(la, err)
	}
	la.stopExtending() // a holder stalled (paused, swapped out) past the TTL
	time.Sleep(400 * time.Millisecond)
	lb, err := b.TryLock("work.1", 5*time.Second)
	if err != nil || lb == nil {
		t.Fatalf("TryLock after the first lock expired = %v, %v", lb, err)
	}
	defer lb.Unlock()
	if err := la.Unlock(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("the late owner's Unlock = %v, want ErrNotHeld", err)
	}
	if lc, _ := a.TryLock("work.1", time.Second); lc != nil {
		t.Fatal("the late owner's Unlock released the new holder's lock")
	}
}

// Lock waits for the holder and takes the lock once it is released, woken
// rather than sleeping blindly: the waiter's first poll is a minute away.
func TestLockWaitsAndIsWoken(t *testing.T) {
	s := startRedis(t)
	a, b := newVault(t, s, Options{}), newVault(t, s, Options{PollMax: time.Minute})
	b.pollFirst = time.Minute
	la, err := a.TryLock("work.1", 10*time.Second)
	if err != nil || la == nil {
		t.Fatal(la, err)
	}
	release := time.Second
	time.AfterFunc(release, func() { la.Unlock() })
	start := time.Now()
	lb, err := b.Lock(context.Background(), "work.1", 10*time.Second, 50*time.Second)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Unlock()
	if took < release || took > 30*time.Second {
		t.Fatalf("Lock took %v; the holder released at %v", took, release)
	}
}

func TestLockGivesUpAfterItsWait(t *testing.T) {
	s := startRedis(t)
	a, b := newVault(t, s, Options{}), newVault(t, s, Options{})
	la, _ := a.TryLock("work.1", 10*time.Second)
	defer la.Unlock()
	start := time.Now()
	if _, err := b.Lock(context.Background(), "work.1", 10*time.Second, 300*time.Millisecond); !errors.Is(err, ErrLockWait) {
		t.Fatalf("Lock on a held lock = %v, want ErrLockWait", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Lock gave up after %v", took)
	}
}

// A holder process killed (SIGKILL: no Unlock, no more extension) leaves
// its lock to expire; another process then takes it.
func TestLockOfADeadHolderExpires(t *testing.T) {
	s := startRedis(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHolder$")
	cmd.Env = append(os.Environ(), "REDISVAULT_HOLD="+s.URL())
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := make(chan struct{})
	t.Cleanup(func() { cmd.Process.Kill(); <-reaped })
	line, _ := bufio.NewReader(out).ReadString('\n')
	go func() { cmd.Wait(); close(reaped) }()
	if !strings.HasPrefix(line, "held") {
		t.Fatalf("the holder says %q", line)
	}
	v := newVault(t, s, Options{})
	if l, _ := v.TryLock("work.1", time.Second); l != nil {
		t.Fatal("took the lock of a live holder")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-reaped
	start := time.Now()
	l, err := v.Lock(context.Background(), "work.1", time.Second, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	// At most the TTL left, then a poll interval (at most 1.5 PollMax),
	// with room for a loaded machine.
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the dead holder's lock (TTL 400ms) was taken after %v", took)
	}
}

// TestHelperHolder is the holder process of TestLockOfADeadHolderExpires.
func TestHelperHolder(t *testing.T) {
	url := os.Getenv("REDISVAULT_HOLD")
	if url == "" {
		t.Skip("the holder process of TestLockOfADeadHolderExpires")
	}
	v, err := New(Options{URL: url, Box: newBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	l, err := v.TryLock("work.1", 400*time.Millisecond)
	if err != nil || l == nil {
		t.Fatal(l, err)
	}
	os.Stdout.WriteString("held\n")
	time.Sleep(time.Minute)
}

// A holder whose lock vanished (expired while Redis was unreachable, or
// removed by an operator) learns it through Lost.
func TestLostLockIsReported(t *testing.T) {
	s := startRedis(t)
	v := newVault(t, s, Options{})
	l, err := v.TryLock("work.1", 300*time.Millisecond)
	if err != nil || l == nil {
		t.Fatal(l, err)
	}
	defer l.Unlock()
	select {
	case <-l.Lost():
		t.Fatal("Lost closed while the lock is held")
	case <-time.After(400 * time.Millisecond):
	}
	s.CLI(t, "DEL", v.lockKey("work.1"))
	select {
	case <-l.Lost():
	case <-time.After(time.Second):
		t.Fatal("Lost not closed a second after the lock vanished")
	}
}
