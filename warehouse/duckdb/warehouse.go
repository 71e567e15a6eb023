package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

func init() {
	warehouse.Register(Type, Dialect{}, openTarget)
}

// Warehouse is an open DuckDB database. It is safe for concurrent use.
type Warehouse struct {
	db   *sql.DB
	path string
}

var (
	_ warehouse.Warehouse  = (*Warehouse)(nil)
	_ warehouse.BulkLoader = (*Warehouse)(nil)
)

// Open opens (or creates) the DuckDB database file at path; "" or ":memory:"
// opens a private in-memory database. Parent folders of path are created.
// The path may not contain '?', which the driver reads as the start of
// configuration options.
func Open(ctx context.Context, path string) (*Warehouse, error) {
	if path == ":memory:" {
		path = ""
	}
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("duckdb: database path %s contains '?', which DuckDB reads as options; rename the file", path)
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("duckdb: %w", err)
		}
	}
	conn, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return nil, fmt.Errorf("duckdb: open %s: %w", displayPath(path), err)
	}
	db := sql.OpenDB(conn)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("duckdb: open %s: %w", displayPath(path), err)
	}
	return &Warehouse{db: db, path: path}, nil
}

func displayPath(path string) string {
	if path == "" {
		return ":memory:"
	}
	return path
}

// openTarget is the registry's Opener: it resolves the path setting against
// the project root.
func openTarget(ctx context.Context, t *models.Target, projectRoot string) (warehouse.Warehouse, error) {
	path := t.Settings["path"]
	if path != "" && path != ":memory:" && !filepath.IsAbs(path) {
		path = filepath.Join(projectRoot, path)
	}
	w, err := Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return w, nil
}

// Path is the database file, or "" for an in-memory database.
func (w *Warehouse) Path() string { return w.path }

// DB exposes the underlying database handle for engine-specific needs.
func (w *Warehouse) DB() *sql.DB { return w.db }

// Dialect returns Dialect{}.
func (w *Warehouse) Dialect() warehouse.Dialect { return Dialect{} }

// Exec runs one statement on a pooled connection of the shared database, so
// connection-local state (temporary tables, BEGIN) does not carry over to
// later calls; use DB().Conn for that. It returns the number of rows it changed (DuckDB
// reports 0 for DDL) or -1 when the driver cannot tell.
func (w *Warehouse) Exec(ctx context.Context, stmt string) (int64, error) {
	return execOn(ctx, w.db, stmt)
}

// execer is what *sql.DB and *sql.Tx share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execOn runs one statement on a database or a transaction and returns the
// rows it changed, or -1 when the driver cannot tell.
func execOn(ctx context.Context, e execer, stmt string) (int64, error) {
	if err := checkStmt(stmt); err != nil {
		return -1, err
	}
	res, err := e.ExecContext(ctx, stmt)
	if err != nil {
		return -1, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return -1, nil
	}
	return n, nil
}

// Query runs one statement and returns its rows as *sql.Rows.
func (w *Warehouse) Query(ctx context.Context, stmt string) (warehouse.Rows, error) {
	if err := checkStmt(stmt); err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// checkStmt refuses NUL bytes, which would silently cut the statement short.
func checkStmt(stmt string) error {
	if strings.IndexByte(stmt, 0) >= 0 {
		return errors.New("duckdb: statement contains a NUL byte")
	}
	return nil
}

// Close closes the database; an in-memory database is discarded.
func (w *Warehouse) Close() error { return w.db.Close() }
