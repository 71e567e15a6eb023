package bqtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errUnavailable reports that no emulator binary could be found or built.
var errUnavailable = errors.New("bqtest: BigQuery emulator unavailable")

// server is a running emulator owned by this process.
type server struct {
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	stop   chan chan struct{}
}

// endpoint is the emulator's API base URL.
func (s *server) endpoint() string { return "http://127.0.0.1:" + itoa(s.port) }

// start finds or builds the binary, then launches it (retrying on a lost
// race for a port) and waits until it answers.
func start() (*server, error) {
	bin, err := cachedBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cdp-bqtest-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "projects.yaml")
	if err := os.WriteFile(data, projectsYAML(), 0o644); err != nil {
		return nil, err
	}
	for range 3 {
		s := &server{dir: dir, stop: make(chan chan struct{})}
		started := make(chan error)
		go s.run(bin, data, started)
		if err = <-started; err == nil {
			return s, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, err
}

// projectsYAML declares the emulator's one project.
func projectsYAML() []byte {
	return []byte("projects:\n  - id: " + project + "\n    datasets: []\n")
}

// cachedBinary is binary, found or built once per test binary.
func cachedBinary() (string, error) {
	binOnce.Do(func() { binPath, binErr = binary() })
	return binPath, binErr
}

var (
	binOnce sync.Once
	binPath string
	// binErr remembers a failed search or build, so that later tests skip
	// (or fail) at once instead of building again.
	binErr error
)

// run starts the emulator from a goroutine locked to its OS thread, which
// lives until the emulator is stopped, so the parent-death signal fires only
// when the test binary itself dies.
func (s *server) run(bin, data string, started chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	if err := s.launch(bin, data); err != nil {
		started <- err
		return
	}
	started <- nil
	reply := <-s.stop
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	_ = os.RemoveAll(s.dir)
	close(reply)
}

func (s *server) launch(bin, data string) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	s.port = ports[0]
	log, err := os.Create(filepath.Join(s.dir, "emulator.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	s.cmd = exec.Command(bin, "--project="+project, "--host=127.0.0.1",
		"--port="+itoa(ports[0]), "--grpc-port="+itoa(ports[1]),
		"--data-from-yaml="+data, "--log-level=error")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = procAttr()
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("bqtest: start emulator: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			out, _ := os.ReadFile(log.Name())
			return fmt.Errorf("bqtest: emulator exited: %s", tail(string(out)))
		case <-time.After(100 * time.Millisecond):
		}
		if s.ready() {
			return nil
		}
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return errors.New("bqtest: emulator did not answer within 60s")
}

// ready reports whether the API answers for the project.
func (s *server) ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint()+"/bigquery/v2/projects/"+project+"/datasets", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// shutdown stops the emulator and removes its folder.
func (s *server) shutdown() {
	reply := make(chan struct{})
	s.stop <- reply
	<-reply
}

// freePorts reserves n free TCP ports on 127.0.0.1 and releases them.
func freePorts(n int) ([]int, error) {
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func tail(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
