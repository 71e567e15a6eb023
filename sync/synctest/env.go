package synctest

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/bigquery"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// Env is one real warehouse for a test.
type Env struct {
	Name string
	W    warehouse.Warehouse
	DSN  string           // postgres only
	Path string           // duckdb file
	BQ   *bigquery.Config // bigquery only
}

// Engine opens one kind of warehouse for a test.
type Engine struct {
	Name string
	Open func(t *testing.T) Env
}

// DuckDB, Postgres and BigQuery open a fresh warehouse of their kind for a
// test (a file in the test's directory, a private database on the
// throwaway server, a private emulator), closed when it ends.
var (
	DuckDB = Engine{"duckdb", func(t *testing.T) Env {
		path := t.TempDir() + "/sync.duckdb"
		w, err := duckdb.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return Env{Name: "duckdb", W: w, Path: path}
	}}
	Postgres = Engine{"postgres", func(t *testing.T) Env {
		dsn := pgtest.DSN(t)
		w, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return Env{Name: "postgres", W: w, DSN: dsn}
	}}
	BigQuery = Engine{"bigquery", func(t *testing.T) Env {
		cfg := bqtest.Config(t)
		w, err := bigquery.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return Env{Name: "bigquery", W: w, BQ: &cfg}
	}}
)

// ForEach runs fn as a subtest on each engine.
func ForEach(t *testing.T, engines []Engine, fn func(t *testing.T, e Env)) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) { fn(t, e.Open(t)) })
	}
}

// Tables of the test project.
func Tables(w warehouse.Warehouse) layout.Tables {
	return layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: "customer"}
}

// SyncTables are the sync engine's own tables, dropped by Reset.
var SyncTables = []string{"cdp_sync_state", "cdp_sync_runs", "cdp_sync_rejections", "cdp_sync_locks", "cdp_sync_pending"}

// Reset drops the sync engine's tables, for a fresh state.
func Reset(w warehouse.Warehouse) {
	for _, tb := range SyncTables {
		w.Exec(context.Background(), w.Dialect().DropTable(w.Dialect().Table("cdp", tb)))
	}
}

// Load writes profiles (profile_id, email, first_name, ltv) and the
// memberships of segment "vip" for a world.
func Load(t testing.TB, w warehouse.Warehouse, people World) {
	t.Helper()
	ctx := context.Background()
	tb := Tables(w)
	if _, err := w.Exec(ctx, w.Dialect().CreateSchema("cdp")); err != nil {
		t.Fatal(err)
	}
	bl := w.(warehouse.BulkLoader)
	i := 0
	_, err := bl.LoadRows(ctx, tb.Q(tb.Profiles()), []warehouse.Column{
		{Name: "profile_id", Type: models.TypeString}, {Name: "email", Type: models.TypeString},
		{Name: "first_name", Type: models.TypeString}, {Name: "ltv", Type: models.TypeNumber},
	}, func() ([]any, error) {
		if i == len(people) {
			return nil, io.EOF
		}
		p := people[i]
		i++
		row := []any{p.ID, nil, nil, nil}
		if p.Email != nil {
			row[1] = *p.Email
		}
		if p.Name != nil {
			row[2] = *p.Name
		}
		if p.LTV != nil {
			row[3] = *p.LTV
		}
		return row, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var members []Person
	for _, p := range people {
		if p.InSeg {
			members = append(members, p)
		}
	}
	i = 0
	_, err = bl.LoadRows(ctx, tb.Q(tb.Segments()), []warehouse.Column{
		{Name: "segment", Type: models.TypeString}, {Name: "profile_id", Type: models.TypeString},
		{Name: "in_holdout", Type: models.TypeBoolean}, {Name: "entered_at", Type: models.TypeTimestamp},
	}, func() ([]any, error) {
		if i == len(members) {
			return nil, io.EOF
		}
		p := members[i]
		i++
		return []any{"vip", p.ID, p.Holdout, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
