package main

import (
	"bytes"
	"fmt"
	"github.com/cdpkit/cdp/internal/pgtest"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// syncBuf is a goroutine-safe log sink for a subprocess.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// appendRows appends a change file's data rows (not its header) to a seed.
func appendRows(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	_, rows, _ := strings.Cut(string(b), "\n")
	f, err := os.OpenFile(to, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(rows); err != nil {
		t.Fatal(err)
	}
}

// TestServeEndToEnd runs the real binary as a daemon, on DuckDB and on
// PostgreSQL: first delivery, a SIGHUP with a broken file that keeps the old
// configuration running, clean SIGTERM, restart with day-2 data behind a
// failing destination (one alert for several failing runs), recovery with
// exactly the day-2 changes, /metrics and /healthz.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the cdp serve subprocess test")
	}
	t.Run("duckdb", func(t *testing.T) { serveEndToEnd(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		serveEndToEnd(t, func() {
			t.Setenv("CDP_TARGET", "pg")
			t.Setenv("CDP_POSTGRES_DSN", pgtest.DSN(t))
		})
	})
}

func serveEndToEnd(t *testing.T, target func()) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH:", err)
	}
	cleanEnv(t)
	if target != nil {
		target()
	}
	bin := filepath.Join(t.TempDir(), "cdp")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "shop")
	cdp := func(args ...string) {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--project", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("cdp %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command(bin, "init", dir).CombinedOutput(); err != nil {
		t.Fatalf("cdp init: %v\n%s", err, out)
	}

	recv := destinationtest.New(t, destinationtest.Options{})
	var alertMu sync.Mutex
	var alerts []string
	alertSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		alertMu.Lock()
		alerts = append(alerts, string(b))
		alertMu.Unlock()
	}))
	defer alertSrv.Close()
	alertList := func() []string {
		alertMu.Lock()
		defer alertMu.Unlock()
		return append([]string(nil), alerts...)
	}

	// vip_to_crm every 2s; vip_to_ops_db ships paused (no PostgreSQL here).
	syncsFile := filepath.Join(dir, "models", "syncs.yml")
	b, err := os.ReadFile(syncsFile)
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), `schedule: "*/30 * * * *"`, `schedule: "@every 2s"`, 1)
	if !strings.Contains(y, "paused: true") {
		t.Fatal("the example should ship vip_to_ops_db paused (it needs an operational PostgreSQL)")
	}
	if err := os.WriteFile(syncsFile, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf("\nserve:\n  address: %s\n  grace_period: 20s\nalerts:\n  - name: ops\n    type: webhook\n    url: %s/alerts\n    on: [failure]\n", addr, alertSrv.URL)
	f, err := os.OpenFile(filepath.Join(dir, "cdp.yml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(cfg)
	f.Close()
	cdp("seed")

	env := append(os.Environ(), "CRM_HOOK_URL="+recv.URL()+"/hooks/crm", "CRM_HOOK_SECRET="+recv.Secret)
	start := func() (*exec.Cmd, *syncBuf) {
		cmd := exec.Command(bin, "--project", dir, "serve", "--as-of", asOf)
		cmd.Env = env
		logs := &syncBuf{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			if t.Failed() {
				t.Logf("cdp serve logs:\n%s", logs)
			}
		})
		return cmd, logs
	}
	stop := func(cmd *exec.Cmd, logs *syncBuf) {
		t.Helper()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("cdp serve exit: %v\n%s", err, logs)
			}
		case <-time.After(25 * time.Second):
			t.Fatalf("cdp serve did not stop within the grace period\n%s", logs)
		}
		if !strings.Contains(logs.String(), "shutdown complete") {
			t.Fatalf("no clean shutdown line:\n%s", logs)
		}
	}
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	// 1. First delivery.
	cmd, logs := start()
	waitUntil(t, "the first delivery", 60*time.Second, func() bool { return len(recv.State()) > 0 })
	waitUntil(t, "/healthz", 10*time.Second, func() bool { return strings.TrimSpace(get("/healthz")) == "ok" })
	if got := get("/readyz"); !strings.Contains(got, "ready") {
		t.Errorf("/readyz: %q", got)
	}
	waitUntil(t, "a success in /metrics", 20*time.Second, func() bool {
		return strings.Contains(get("/metrics"), `cdp_sync_runs_total{status="success",sync="vip_to_crm"}`)
	})
	m := get("/metrics")
	for _, want := range []string{`cdp_sync_runs_total{status="paused",sync="vip_to_ops_db"}`, `cdp_model_runs_total{status="success"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if runs := get("/runs?sync=vip_to_crm"); !strings.Contains(runs, `"sync": "vip_to_crm"`) {
		t.Errorf("/runs: %s", runs)
	}
	// A broken edit + SIGHUP: the error is logged, the old config keeps running.
	orig, err := os.ReadFile(syncsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(syncsFile, append(append([]byte{}, orig...), []byte("\n  - name: broken\n    mode: sideways\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the rejected reload", 20*time.Second, func() bool {
		return strings.Contains(logs.String(), "reload failed; the previous configuration keeps running")
	})
	if strings.TrimSpace(get("/healthz")) != "ok" {
		t.Fatal("serve must keep running after a bad reload")
	}
	if err := os.WriteFile(syncsFile, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	stop(cmd, logs)
	if strings.Contains(logs.String(), recv.Secret) {
		t.Error("the webhook secret is in the logs")
	}
	firstLogs := logs.String()
	if !strings.Contains(firstLogs, "run_id=") || !strings.Contains(firstLogs, "sync=vip_to_crm") {
		t.Errorf("logs lack run_id / sync attributes:\n%s", firstLogs)
	}

	// 2. Day 2 behind a failing destination: several failing runs, one alert.
	day2 := filepath.Join("..", "..", "examples", "retail", "changes", "day2")
	appendRows(t, filepath.Join(day2, "crm_contacts.csv"), filepath.Join(dir, "seeds", "crm_contacts.csv"))
	appendRows(t, filepath.Join(day2, "orders.csv"), filepath.Join(dir, "seeds", "orders.csv"))
	cdp("seed")
	before := len(recv.Ops())
	recv.SetFaults(destinationtest.Faults{Status500Every: 1})
	cmd, logs = start()
	waitUntil(t, "two failed runs", 60*time.Second, func() bool {
		return strings.Count(logs.String(), "sync run failed") >= 2
	})
	waitUntil(t, "the failure alert", 10*time.Second, func() bool { return len(alertList()) >= 1 })
	if a := alertList(); len(a) != 1 || !strings.Contains(a[0], `"kind":"failure"`) || !strings.Contains(a[0], "vip_to_crm") {
		t.Fatalf("alerts after several failing runs: %q; want exactly one failure alert", a)
	}

	// 3. Recovery: the next delivery adds exactly 3 and changes 1.
	recv.SetFaults(destinationtest.Faults{})
	waitUntil(t, "the day-2 delivery", 40*time.Second, func() bool { return len(recv.Ops()) > before })
	time.Sleep(500 * time.Millisecond)
	counts := map[string]int{}
	for _, op := range recv.Ops()[before:] {
		counts[op.Op]++
	}
	if counts["add"] != 3 || counts["change"] != 1 || counts["remove"] != 0 {
		t.Errorf("day-2 delivery ops = %v; want 3 add, 1 change", counts)
	}
	waitUntil(t, "the recovered alert", 20*time.Second, func() bool { return len(alertList()) >= 2 })
	if a := alertList(); !strings.Contains(a[1], "recovered") {
		t.Errorf("second alert: %s", a[1])
	}
	stop(cmd, logs)
}
