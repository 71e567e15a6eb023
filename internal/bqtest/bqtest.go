package bqtest

import (
	"context"
	"errors"
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

// project is the one project each emulator offers.
const project = "cdp-test"

var (
	mu      sync.Mutex
	running = map[*server]bool{}
)

// Open returns a warehouse on an emulator that only the calling test uses;
// both are closed when the test ends. It skips the test when the emulator
// is unavailable (fails it when CI=true).
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

// Config starts an emulator for the calling test alone and returns its
// connection settings; the emulator stops when the test ends.
//
// Each test gets its own process (about 0.4 s to start and 130 MB) rather
// than its own project on a shared one: the emulator resolves a
// dataset-qualified name such as cdp.customer_identifiers to the table of
// whichever project created it first, so projects of one emulator do not
// isolate tests that use the same dataset names.
func Config(t testing.TB) bigquery.Config {
	t.Helper()
	s, err := start()
	if errors.Is(err, errUnavailable) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so not skipping)", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	running[s] = true
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		live := running[s]
		delete(running, s)
		mu.Unlock()
		if live {
			s.shutdown()
		}
	})
	return bigquery.Config{Project: project, Endpoint: s.endpoint()}
}

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

// Main runs the package's tests, stops any emulator still running,
// and exits with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { bqtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop shuts down every emulator still running (a test's own are stopped
// when it ends).
func Stop() {
	mu.Lock()
	var all []*server
	for s := range running {
		all = append(all, s)
	}
	clear(running)
	mu.Unlock()
	for _, s := range all {
		s.shutdown()
	}
}

// itoa is strconv.Itoa, for the command line.
func itoa(n int) string { return strconv.Itoa(n) }
