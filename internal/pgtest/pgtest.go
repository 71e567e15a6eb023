package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the DSN of an existing server
// to test against instead of starting one.
const EnvDSN = "CDP_TEST_POSTGRES_DSN"

var (
	mu      sync.Mutex
	started bool
	srv     *server
	srvErr  error
)

// DSN returns a postgres:// or libpq DSN of a new, empty database that only
// the calling test uses. It skips the test when PostgreSQL is not available
// (fails it when CI=true) and fails it when the server cannot be started.
func DSN(t testing.TB) string {
	t.Helper()
	return dsnWith(t, "")
}

// CLocaleDSN is DSN for a database created WITH TEMPLATE template0
// LC_COLLATE 'C' LC_CTYPE 'C' ENCODING 'UTF8', where the database's own
// collation knows no case beyond ASCII: code that must lower-case or trim
// Unicode text the same way everywhere is tested on it.
func CLocaleDSN(t testing.TB) string {
	t.Helper()
	return dsnWith(t, ` WITH TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C' ENCODING 'UTF8'`)
}

func dsnWith(t testing.TB, options string) string {
	t.Helper()
	dsn, cleanup, err := newDatabase(options)
	if errors.Is(err, errNoBinaries) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so not skipping)", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if cleanup != nil {
		t.Cleanup(cleanup)
	}
	return dsn
}

// NewDatabase is DSN for programs that are not tests (the benchmark
// harness): it returns the DSN of a new, empty database on the server of
// CDP_TEST_POSTGRES_DSN or on a throwaway server it starts (stop it with
// Stop), and a function that drops the database (nil when nothing needs
// dropping). ErrNoServer is returned when neither is available.
func NewDatabase() (dsn string, drop func(), err error) {
	dsn, drop, err = newDatabase("")
	if errors.Is(err, errNoBinaries) {
		err = fmt.Errorf("%w: %v", ErrNoServer, err)
	}
	return dsn, drop, err
}

// ErrNoServer reports that no PostgreSQL server could be found or started.
var ErrNoServer = errors.New("pgtest: no PostgreSQL server")

func newDatabase(options string) (string, func(), error) {
	admin, err := adminDSN()
	if err != nil {
		return "", nil, err
	}
	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execAdmin(ctx, admin, `CREATE DATABASE "`+name+`"`+options); err != nil {
		if os.Getenv(EnvDSN) == "" {
			return "", nil, fmt.Errorf("pgtest: create database: %w", err)
		}
		fmt.Fprintf(os.Stderr, "pgtest: cannot create a database on %s (%v); using it directly\n", EnvDSN, err)
		return admin, nil, nil
	}
	if os.Getenv(EnvDSN) != "" {
		return withDatabase(admin, name), func() { dropDatabase(admin, name) }, nil
	}
	return withDatabase(admin, name), nil, nil
}

// Main runs the package's tests, stops the server DSN may have started, and
// exits with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil && code == 0 {
		os.Stderr.WriteString("pgtest: " + err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

// Stop shuts the throwaway server down and removes its folder. It does
// nothing when no server was started; DSN starts a new one if called again.
func Stop() error {
	mu.Lock()
	s := srv
	srv, started, srvErr = nil, false, nil
	mu.Unlock()
	if s == nil {
		return nil
	}
	reply := make(chan error)
	s.stop <- reply
	return <-reply
}

// adminDSN returns the DSN of a database allowed to run CREATE DATABASE:
// the environment's, or the throwaway server's postgres database.
func adminDSN() (string, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn, nil
	}
	mu.Lock()
	defer mu.Unlock()
	if !started {
		srv, srvErr = startServer()
		started = true
	}
	if srvErr != nil {
		return "", srvErr
	}
	return srv.dsn("postgres"), nil
}

func execAdmin(ctx context.Context, dsn, stmt string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	_, err = c.Exec(ctx, stmt)
	return err
}

// dropDatabase drops a test database on a shared server, disconnecting
// leftover sessions where the server supports it (PostgreSQL 13+).
func dropDatabase(admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if execAdmin(ctx, admin, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`) != nil {
		_ = execAdmin(ctx, admin, `DROP DATABASE IF EXISTS "`+name+`"`)
	}
}

// withDatabase points dsn at database name; dsn is a URL or a libpq
// key=value string (a later dbname= overrides an earlier one).
func withDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			u.Path = "/" + name
			u.RawPath = ""
			return u.String()
		}
	}
	return dsn + " dbname=" + name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
