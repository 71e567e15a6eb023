package bqtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// emulatorPkg is the emulator's main package, pinned by the tool module.
const emulatorPkg = "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"

// binary returns the emulator binary: CDP_BIGQUERY_EMULATOR, else
// .cache/bin/bigquery-emulator at the module root, built from
// tools/bigquery-emulator when missing. Concurrent test binaries take a file
// lock so that only one builds it.
func binary() (string, error) {
	if p := os.Getenv(EnvEmulator); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s: %v", errUnavailable, EnvEmulator, err)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w: %v", errUnavailable, err)
	}
	bin := filepath.Join(root, ".cache", "bin", "bigquery-emulator")
	if isExec(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if isExec(bin) { // built by another test binary while we waited
		return bin, nil
	}
	goBin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if !isExec(goBin) {
		if goBin, err = exec.LookPath("go"); err != nil {
			return "", fmt.Errorf("%w: no go command to build it", errUnavailable)
		}
	}
	tmp := bin + ".tmp"
	cmd := exec.Command(goBin, "build", "-o", tmp, emulatorPkg)
	cmd.Dir = filepath.Join(root, "tools", "bigquery-emulator")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: go build %s: %v\n%s", errUnavailable, emulatorPkg, err, out)
	}
	return bin, os.Rename(tmp, bin)
}

// moduleRoot walks up from the working directory (a test's package folder)
// to the folder of the cdp module's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/cdpkit/cdp\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of github.com/cdpkit/cdp above the working directory")
		}
		dir = parent
	}
}

func isExec(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
