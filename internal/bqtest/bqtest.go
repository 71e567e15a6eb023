package bqtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/cdpkit/cdp/warehouse/bigquery"
)

// Environment variables the harness reads.
const (
	// EnvEmulator names an emulator binary to use instead of building one.
	EnvEmulator = "CDP_BIGQUERY_EMULATOR"
	// EnvProject names a real project for Real.
	EnvProject = "CDP_TEST_BIGQUERY_PROJECT"
	// EnvLocation is the location of Real's jobs and datasets.
	EnvLocation = "CDP_TEST_BIGQUERY_LOCATION"
)

// projects is how many private projects one emulator offers.
const projects = 400

var (
	mu      sync.Mutex
	started bool
	srv     *server
	srvErr  error
	used    int
)

// Open returns a warehouse on the emulator in a new project that only the
// calling test uses; it is closed when the test ends. It skips the test when
// the emulator is unavailable (fails it when CI=true).
func Open(t testing.TB) *bigquery.Warehouse {
	t.Helper()
	cfg := Config(t)
	w, err := bigquery.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// Config returns the connection settings of a new private project on the
// emulator (see Open).
func Config(t testing.TB) bigquery.Config {
	t.Helper()
	mu.Lock()
	if !started {
		srv, srvErr = start()
		started = true
	}
	s, err := srv, srvErr
	used++
	n := used
	mu.Unlock()
	if errors.Is(err, errUnavailable) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so not skipping)", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n > projects {
		t.Fatalf("bqtest: more than %d projects asked of one emulator; raise bqtest.projects", projects)
	}
	return bigquery.Config{Project: projectID(n), Endpoint: s.endpoint()}
}

// projectID names the n-th private project.
func projectID(n int) string { return fmt.Sprintf("test-%04d", n) }

// Real returns a warehouse on the real project named by
// CDP_TEST_BIGQUERY_PROJECT, or skips the test when it is not set.
func Real(t testing.TB) (*bigquery.Warehouse, bigquery.Config) {
	t.Helper()
	project := os.Getenv(EnvProject)
	if project == "" {
		t.Skip(EnvProject + " is not set: no real BigQuery project to test against")
	}
	cfg := bigquery.Config{Project: project, Location: os.Getenv(EnvLocation)}
	w, err := bigquery.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, cfg
}

// Main runs the package's tests, stops the emulator Open may have started,
// and exits with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { bqtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop shuts the emulator down. It does nothing when none was started.
func Stop() {
	mu.Lock()
	s := srv
	srv, started, srvErr, used = nil, false, nil, 0
	mu.Unlock()
	if s != nil {
		s.shutdown()
	}
}

// itoa is strconv.Itoa, for the command line.
func itoa(n int) string { return strconv.Itoa(n) }
