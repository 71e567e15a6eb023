package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	_ "github.com/cdpkit/cdp/sync/destinations/webhook"
	"github.com/cdpkit/cdp/sync/destinationtest"
)

// TestMain runs the command itself when the test binary is started as the
// receiver subprocess.
func TestMain(m *testing.M) {
	if os.Getenv("CDP_RECEIVER_MAIN") == "1" {
		os.Args = append([]string{"receiver"}, strings.Fields(os.Getenv("CDP_RECEIVER_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestReceiverProcess(t *testing.T) {
	secret := destinationtest.NewSecret()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CDP_RECEIVER_MAIN=1", "CDP_RECEIVER_ARGS=-addr 127.0.0.1:0 -secret "+secret+" -reject-rate 0.5")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	first := next(t, lines)
	words := strings.Fields(first)
	if !strings.HasPrefix(first, "receiver listening on http://") || len(words) < 4 {
		t.Fatalf("first line %q", first)
	}
	base := words[3]

	spec, _ := destination.Lookup("webhook")
	d, err := spec.New(context.Background(), destination.Config{Name: "demo", SyncName: "vip", RunID: "r1",
		Settings: map[string]string{"url": base, "secret": secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	batch := []destination.Record{
		{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"n": int64(1)}},
		{Op: destination.OpAdd, Key: "b", Fields: map[string]any{"n": int64(2)}},
		{Op: destination.OpAdd, Key: "c", Fields: map[string]any{"n": int64(3)}},
		{Op: destination.OpAdd, Key: "d", Fields: map[string]any{"n": int64(4)}},
	}
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if line := next(t, lines); !strings.HasPrefix(line, "batch 1 msg_") || !strings.Contains(line, "sync=vip run=r1 records=4") {
		t.Errorf("batch line %q", line)
	}

	resp, err := http.Get(base + "/state")
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]map[string]any
	err = json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if _, held := state[batch[i].Key]; held != (r.Err == nil) {
			t.Errorf("record %s: result %v, held %v", batch[i].Key, r.Err, held)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("receiver did not stop on SIGTERM")
	}
}

func next(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("receiver exited")
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no output from the receiver")
	}
	return ""
}
