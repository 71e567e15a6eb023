package main

import (
	"bufio"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryExitCodes builds the real binary and checks the process exit
// codes the shell sees: run() is only useful if main hands its code to os.Exit.
func TestBinaryExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the go build of the binary")
	}
	cleanEnv(t)
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "shop")
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"init", dir}, 0, ""},
		{[]string{"--project", dir, "validate"}, 0, ""},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"--project", dir, "compile", "segment.nope"}, 2, `unknown node "segment.nope"`},
		// Nothing seeded: the first source's table does not exist.
		{[]string{"--project", dir, "run"}, 1, "error: source.crm_contacts: "},
		{[]string{"--project", dir, "seed"}, 0, ""},
		{[]string{"--project", dir, "run", "--as-of", asOf}, 0, ""},
		{[]string{"--project", dir, "sync", "plan", "--detailed-exitcode", "customers_export"}, 3, ""},
		{[]string{"--project", dir, "sync", "plan", "--detailed-exitcode", "nope"}, 2, `unknown sync "nope"`},
	} {
		cmd := exec.Command(bin, c.args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("cdp %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, stderr.String(), c.code, c.stderr)
		}
	}
}

// TestBrokenPipeRecordsTheRun: `cdp run | head -1` — the reader leaves after
// the first line. The process must not die of SIGPIPE with its cdp_runs row
// still `running`: the run stops and is recorded as cancelled (or as done,
// had it finished first).
func TestBrokenPipeRecordsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the go build of the binary")
	}
	cleanEnv(t)
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "shop")
	for _, args := range [][]string{{"init", dir}, {"--project", dir, "seed"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("cdp %v: %v\n%s", args, err, out)
		}
	}
	cmd := exec.Command(bin, "--project", dir, "run", "--as-of", asOf)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "run ") {
		t.Fatalf("first line %q: %v", first, err)
	}
	stdout.Close() // head -1 exits
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		t.Fatalf("cdp run was killed (%v) when its reader left; stderr:\n%s", ee, stderr.String())
	}
	runs := duckRuns(t, dir)
	if len(runs) != 1 {
		t.Fatalf("want one recorded run, got %v", runs)
	}
	for id, r := range runs {
		if r.status != "cancelled" && r.status != "success" {
			t.Errorf("run %s is recorded as %q (%s), want cancelled", id, r.status, r.errMsg.String)
		}
		t.Logf("run %s: %s; exit: %v", id, r.status, err)
	}
}

// buildBinary builds the cdp binary into a temporary folder (skipping the
// test without a go tool).
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH:", err)
	}
	bin := filepath.Join(t.TempDir(), "cdp")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
