package postgrestable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdpkit/cdp/sync/destination"
)

// Type is the destination type this package registers.
const Type = "postgres_table"

// Batch sizes.
const (
	DefaultBatchSize = 500
	MaxBatchSize     = 10000
)

// Reserved column names.
const (
	KeyColumn      = "key"
	SyncedAtColumn = "_cdp_synced_at"
)

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "PostgreSQL table", Category: destination.CategoryData,
		Summary: "upserts records into a PostgreSQL table keyed by the sync key (created when missing)",
		Settings: []destination.Setting{
			{Name: "dsn", Kind: destination.KindSecret, Required: true, Doc: "connection string, e.g. postgres://user:pass@host/db"},
			{Name: "table", Kind: destination.KindString, Required: true, Example: "crm.vip_customers", Doc: "table, optionally schema-qualified"},
			{Name: "batch_size", Kind: destination.KindInt, Default: strconv.Itoa(DefaultBatchSize), Min: 1, Max: MaxBatchSize,
				Doc: "rows per transaction"},
		},
		Modes: []string{"upsert", "mirror", "insert", "update"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "INSERT … ON CONFLICT (key) DO UPDATE"}, {Op: destination.OpChange, Sends: "INSERT … ON CONFLICT (key) DO UPDATE"},
			{Op: destination.OpRemove, Sends: "DELETE by key"},
			{Op: destination.OpErase, Sends: "DELETE FROM <table> WHERE key = $1, in every mode (in the batch's transaction); " +
				"receipt `deleted N row(s)`, or `not found: nothing to erase` when no row had the key"},
		},
		New: New,
	})
}

// Destination writes records to one PostgreSQL table. Apply calls are
// serialised on one connection.
type Destination struct {
	name      string
	connCfg   *pgx.ConnConfig
	table     tableName
	fields    []string // columns from the sync's mapping, in order
	keyField  string
	batchSize int

	mu      sync.Mutex
	conn    *pgx.Conn
	columns map[string]column // the table's columns; nil until inspected
}

var _ destination.Destination = (*Destination)(nil)

// New checks the settings and the sync's field names; the connection is
// opened, and the table created, by the first Apply.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	d := &Destination{name: cfg.Name, keyField: cfg.KeyField, batchSize: DefaultBatchSize}
	dsn := cfg.Settings["dsn"]
	if dsn == "" {
		return nil, d.errorf("dsn is required")
	}
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, d.errorf("dsn: %v", err)
	}
	d.connCfg = cc
	if d.table, err = parseTable(cfg.Settings["table"]); err != nil {
		return nil, d.errorf("table: %v", err)
	}
	if s := cfg.Settings["batch_size"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxBatchSize {
			return nil, d.errorf("batch_size %q: want a whole number from 1 to %d", s, MaxBatchSize)
		}
		d.batchSize = n
	}
	for _, f := range cfg.Fields {
		if f == KeyColumn && f == cfg.KeyField {
			continue // the key column holds it
		}
		if err := d.checkField(f); err != nil {
			return nil, d.errorf("%v", err)
		}
		if !slices.Contains(d.fields, f) {
			d.fields = append(d.fields, f)
		}
	}
	return d, nil
}

// checkField reports a field name that cannot be a column of its own.
func (d *Destination) checkField(f string) error {
	switch f {
	case KeyColumn:
		return fmt.Errorf("field %q would clash with the table's key column; rename it in the sync's fields", f)
	case SyncedAtColumn:
		return fmt.Errorf("field %q is the column the destination maintains; rename it in the sync's fields", f)
	}
	if err := checkIdent(f); err != nil {
		return fmt.Errorf("field %q: %v", f, err)
	}
	return nil
}

// Capabilities declares add, change, remove and erase, batch_size records
// per transaction.
func (d *Destination) Capabilities() destination.Capabilities {
	return destination.Capabilities{
		Ops:      []destination.Op{destination.OpAdd, destination.OpChange, destination.OpRemove, destination.OpErase},
		MaxBatch: d.batchSize,
	}
}

// Close closes the connection.
func (d *Destination) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropConn()
	return nil
}

// connect returns the open connection, opening a new one when there is none
// or it broke.
func (d *Destination) connect(ctx context.Context) (*pgx.Conn, error) {
	if d.conn != nil && !d.conn.IsClosed() {
		return d.conn, nil
	}
	d.dropConn()
	c, err := pgx.ConnectConfig(ctx, d.connCfg.Copy())
	if err != nil {
		return nil, d.batchError("connecting", err)
	}
	d.conn = c
	return c, nil
}

// dropConn closes the connection and forgets what it learnt of the table.
func (d *Destination) dropConn() {
	d.columns = nil
	if d.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.conn.Close(ctx)
	d.conn = nil
}

// afterError keeps the connection only when the server reported the error
// on a connection that is still usable.
func (d *Destination) afterError(err error) {
	var pgErr *pgconn.PgError
	if d.conn == nil || d.conn.IsClosed() || !errors.As(err, &pgErr) || retryableCode(pgErr.Code) {
		d.dropConn()
		return
	}
	d.columns = nil // the table may have changed under us
}

// batchError classifies a whole-batch failure. Call it before afterError,
// which may drop the connection the classification looks at.
func (d *Destination) batchError(what string, err error) *destination.BatchError {
	msg := fmt.Sprintf("postgres_table %s: %s: %s", d.name, what, describe(err))
	return &destination.BatchError{Err: &failure{msg: msg, err: err}, Retryable: d.retryable(err)}
}

// failure is a described error that still unwraps to its cause.
type failure struct {
	msg string
	err error
}

// Error returns the description.
func (e *failure) Error() string { return e.msg }

// Unwrap returns the cause.
func (e *failure) Unwrap() error { return e.err }

// sqlState returns the SQLSTATE of a server error, "" for other errors.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// describe renders a server error with its detail and hint.
func describe(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	s := pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	if pgErr.Detail != "" {
		s += "; " + pgErr.Detail
	}
	if pgErr.Hint != "" {
		s += "; hint: " + pgErr.Hint
	}
	return s
}

// retryable tells transient failures from refusals. Server errors are
// transient when their SQLSTATE says so; other errors when they come from
// the network, a deadline or a broken connection.
func (d *Destination) retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return retryableCode(pgErr.Code)
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.As(err, &netErr), errors.As(err, &connectErr):
		return true
	}
	// A client-side failure (e.g. encoding) on a live connection will not heal.
	return d.conn == nil || d.conn.IsClosed()
}

// retryableCode reports SQLSTATEs worth retrying: connection exceptions,
// serialization failures, deadlocks, unknown commit outcomes, insufficient
// resources, operator intervention (shutdowns, cancellations), system
// errors, lock timeouts and objects in use.
func retryableCode(code string) bool {
	switch code {
	case "40001", "40P01", "40003", "55P03", "55006":
		return true
	}
	if len(code) < 2 {
		return false
	}
	switch code[:2] {
	case "08", "53", "57", "58":
		return true
	}
	return false
}

func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("postgres_table %s: "+format, append([]any{d.name}, args...)...)
}
