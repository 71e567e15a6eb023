//go:build unix

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// errNoBinaries reports that initdb/postgres could not be found.
var errNoBinaries = errors.New("pgtest: PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin or PATH; install PostgreSQL or set " + EnvDSN)

const dirPrefix = "cdp-pgtest-"

// server is a throwaway PostgreSQL cluster owned by this process.
type server struct {
	dir  string // temporary folder: data directory, socket, log
	port int
	cmd  *exec.Cmd
	// exited is closed once postgres has exited and been reaped.
	exited chan struct{}
	stop   chan chan error // asks the goroutine that started postgres to stop it
}

// dsn returns a URL for database db on the server.
func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// findBinDir returns a folder holding initdb and postgres: the highest
// version under /usr/lib/postgresql, then /usr/local/pgsql/bin, then PATH.
func findBinDir() (string, error) {
	var cands []string
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	cands = append(cands, dirs...)
	cands = append(cands, "/usr/local/pgsql/bin")
	if p, err := exec.LookPath("initdb"); err == nil {
		cands = append(cands, filepath.Dir(p))
	}
	for _, d := range cands {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errNoBinaries
}

// versionOf reads the major version from /usr/lib/postgresql/<v>/bin.
func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExec(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// startServer runs initdb and postgres. The postgres process is started
// from a goroutine locked to its OS thread, which stays alive until the
// server is stopped, so the parent-death signal fires only when the test
// binary itself dies.
func startServer() (*server, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &server{dir: dir, stop: make(chan chan error)}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, s.fail(err)
	}
	cred, err := credential(dir)
	if err != nil {
		return nil, s.fail(err)
	}
	if err := initdb(bin, dir, cred); err != nil {
		return nil, s.fail(err)
	}
	started := make(chan error)
	go s.run(bin, cred, started)
	if err := <-started; err != nil {
		return nil, s.fail(err)
	}
	return s, nil
}

// fail removes the folder of a server that did not start and returns err.
func (s *server) fail(err error) error {
	_ = os.RemoveAll(s.dir)
	return fmt.Errorf("pgtest: %w", err)
}

// credential returns the postgres OS user when running as root (initdb and
// postgres refuse to run as root) and hands it the folder.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres OS user to own the server: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// initdb creates the cluster, with an ICU en-US default collation when the
// server supports it.
func initdb(bin, dir string, cred *syscall.Credential) error {
	data := filepath.Join(dir, "data")
	base := []string{"-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-N"}
	if out, err := command(filepath.Join(bin, "initdb"), cred, "--help").CombinedOutput(); err == nil && strings.Contains(string(out), "--locale-provider") {
		icu := append(append([]string{}, base...), "--locale-provider=icu", "--icu-locale=en-US")
		if _, err := command(filepath.Join(bin, "initdb"), cred, icu...).CombinedOutput(); err == nil {
			return nil
		}
		_ = os.RemoveAll(data)
	}
	out, err := command(filepath.Join(bin, "initdb"), cred, base...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func command(path string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.SysProcAttr = procAttr(cred)
	return cmd
}

// run starts postgres on a free port (retrying on a lost race for the port),
// reports on started, and then waits for a stop request.
func (s *server) run(bin string, cred *syscall.Credential, started chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	var err error
	for range 3 {
		if err = s.launch(bin, cred); err == nil {
			break
		}
	}
	started <- err
	if err != nil {
		return
	}
	reply := <-s.stop
	reply <- s.shutdown()
}

// launch starts postgres and waits until it accepts connections.
func (s *server) launch(bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(s.dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := command(filepath.Join(bin, "postgres"), cred,
		"-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(port),
		"-h", "127.0.0.1", "-k", s.dir, "-F",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.port, s.cmd, s.exited = port, cmd, exited
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited while starting:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if ping(s.dsn("postgres")) == nil {
			return nil
		}
	}
	_ = cmd.Process.Kill()
	<-exited
	log, _ := os.ReadFile(logPath)
	return fmt.Errorf("postgres did not accept connections within 30s:\n%s", log)
}

func ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shutdown asks postgres for a fast shutdown, kills it after 10s, and
// removes the folder.
func (s *server) shutdown() error {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	return os.RemoveAll(s.dir)
}

// removeStaleDirs deletes folders of earlier runs whose test binary and
// server are both gone. It never signals any process.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		if alive(readPID(filepath.Join(d, "owner.pid"))) || alive(readPID(filepath.Join(d, "data", "postmaster.pid"))) {
			continue
		}
		st, err := os.Stat(d)
		if err != nil || time.Since(st.ModTime()) < time.Minute {
			continue // too young: maybe still being set up by another binary
		}
		_ = os.RemoveAll(d)
	}
}

// readPID reads the first line of a pid file, or 0.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
