package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

func init() {
	warehouse.Register(Type, Dialect{}, openTarget)
}

// maxIdle is how many idle connections the Warehouse keeps for reuse.
const maxIdle = 4

// Warehouse is a PostgreSQL database reached through a small pool of pgx
// connections. It is safe for concurrent use: every Exec, Query (until its
// rows are closed) and LoadRows holds a connection of its own.
type Warehouse struct {
	cfg *pgx.ConnConfig

	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool
}

var (
	_ warehouse.Warehouse  = (*Warehouse)(nil)
	_ warehouse.BulkLoader = (*Warehouse)(nil)
)

// Open connects to the database named by dsn (a libpq connection string or a
// postgres:// URL) and checks the connection. Statements run without
// server-side statement caching, so tables may be dropped and recreated with
// other columns between queries.
func Open(ctx context.Context, dsn string) (*Warehouse, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("postgres: empty dsn")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	w := &Warehouse{cfg: cfg}
	c, err := w.acquire(ctx)
	if err != nil {
		return nil, err
	}
	w.release(c)
	return w, nil
}

// openTarget is the registry's Opener: it reads the dsn setting.
func openTarget(ctx context.Context, t *models.Target, _ string) (warehouse.Warehouse, error) {
	dsn := t.Settings["dsn"]
	if strings.TrimSpace(dsn) == "" {
		return nil, fmt.Errorf("target %s: postgres needs a dsn setting, e.g. dsn: \"${CDP_POSTGRES_DSN}\" (a postgres:// URL or libpq key=value string)", t.Name)
	}
	w, err := Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return w, nil
}

// Dialect returns Dialect{}.
func (w *Warehouse) Dialect() warehouse.Dialect { return Dialect{} }

// WithConn runs fn on one pooled connection, for work that needs a single
// session: advisory locks, SET, temporary tables, explicit transactions. The
// connection goes back to the pool afterwards only if no transaction is left
// open.
func (w *Warehouse) WithConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := w.acquire(ctx)
	if err != nil {
		return err
	}
	defer w.release(c)
	return fn(c)
}

// Exec runs one statement in autocommit mode on a pooled connection, so
// session state (SET, BEGIN, temporary tables) does not carry over to later
// calls; use WithConn for that. It returns the row count of INSERT, UPDATE,
// DELETE, MERGE, COPY and SELECT (including CREATE TABLE AS), else -1.
func (w *Warehouse) Exec(ctx context.Context, stmt string) (int64, error) {
	if err := checkStmt(stmt); err != nil {
		return -1, err
	}
	c, err := w.acquire(ctx)
	if err != nil {
		return -1, err
	}
	defer w.release(c)
	tag, err := c.Exec(ctx, stmt)
	if err != nil {
		return -1, err
	}
	return rowCount(tag), nil
}

// rowCount is the row count of INSERT, UPDATE, DELETE, MERGE, COPY and SELECT
// (including CREATE TABLE AS), else -1.
func rowCount(tag pgconn.CommandTag) int64 {
	switch strings.SplitN(tag.String(), " ", 2)[0] {
	case "INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "SELECT":
		return tag.RowsAffected()
	}
	return -1
}

// Query runs one statement returning rows. Errors the server reports before
// the first row are returned here rather than from Rows.Err.
func (w *Warehouse) Query(ctx context.Context, stmt string) (warehouse.Rows, error) {
	if err := checkStmt(stmt); err != nil {
		return nil, err
	}
	c, err := w.acquire(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.Query(ctx, stmt)
	if err != nil {
		w.release(c)
		return nil, err
	}
	rows := &Rows{rows: r, release: func() { w.release(c) }}
	if err := rows.peek(); err != nil {
		return nil, err
	}
	return rows, nil
}

// checkStmt refuses NUL bytes, which the wire protocol cannot carry.
func checkStmt(stmt string) error {
	if strings.IndexByte(stmt, 0) >= 0 {
		return errors.New("postgres: statement contains a NUL byte")
	}
	return nil
}

// Close closes the idle connections and makes connections still in use close
// when they are released.
func (w *Warehouse) Close() error {
	w.mu.Lock()
	idle := w.idle
	w.idle, w.closed = nil, true
	w.mu.Unlock()
	var errs []error
	for _, c := range idle {
		errs = append(errs, closeConn(c))
	}
	return errors.Join(errs...)
}

// acquire returns an idle connection or dials a new one.
func (w *Warehouse) acquire(ctx context.Context) (*pgx.Conn, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, errors.New("postgres: warehouse is closed")
	}
	for len(w.idle) > 0 {
		c := w.idle[len(w.idle)-1]
		w.idle = w.idle[:len(w.idle)-1]
		if !c.IsClosed() {
			w.mu.Unlock()
			return c, nil
		}
	}
	w.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, w.cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return c, nil
}

// release returns a healthy, idle-in-no-transaction connection to the pool
// and closes any other.
func (w *Warehouse) release(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		_ = closeConn(c)
		return
	}
	w.mu.Lock()
	if !w.closed && len(w.idle) < maxIdle {
		w.idle = append(w.idle, c)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	_ = closeConn(c)
}

func closeConn(c *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Close(ctx)
}
