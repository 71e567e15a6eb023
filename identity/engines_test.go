package identity_test

import (
	"context"
	"os"
	"testing"

	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// TestMain stops the PostgreSQL server and the BigQuery emulator the tests
// started.
func TestMain(m *testing.M) {
	code := m.Run()
	bqtest.Stop()
	if err := pgtest.Stop(); err != nil && code == 0 {
		os.Stderr.WriteString("pgtest: " + err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

// engines lists the real warehouses every identity test runs on.
func engines(t *testing.T) []engine {
	return []engine{
		{name: "duckdb", open: func(t *testing.T) warehouse.Warehouse {
			w, err := duckdb.Open(context.Background(), ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		}},
		{name: "postgres", open: func(t *testing.T) warehouse.Warehouse {
			w, err := postgres.Open(context.Background(), pgtest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		}},
		{name: "bigquery", graphs: 1, small: true, open: func(t *testing.T) warehouse.Warehouse {
			return bqtest.Open(t)
		}},
	}
}
