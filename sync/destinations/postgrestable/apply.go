package postgrestable

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cdpkit/cdp/sync/destination"
)

// statement is the write of one record.
type statement struct {
	index int // in the batch
	key   string
	sql   string
	args  []any
	erase bool // an erasure, whose receipt counts the rows deleted
}

// Apply writes the batch in one transaction. Records whose values cannot be
// stored are rejected first; the others are written together or not at all.
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(batch) > d.batchSize {
		return nil, &destination.BatchError{Err: d.errorf("batch of %d records exceeds batch_size %d", len(batch), d.batchSize)}
	}
	results := make([]destination.Result, len(batch))
	if len(batch) == 0 {
		return results, nil
	}
	conn, err := d.connect(ctx)
	if err != nil {
		d.afterError(err)
		return nil, err
	}
	if err := d.ensure(ctx, conn, batch); err != nil {
		d.afterError(err)
		return nil, err
	}
	var stmts []statement
	for i, r := range batch {
		s, err := d.statement(r)
		if err != nil {
			results[i] = destination.Result{Err: d.errorf("record %d (key %s): %v", i, short(r.Key), err)}
			continue
		}
		s.index = i
		stmts = append(stmts, s)
	}
	if len(stmts) == 0 {
		return results, nil
	}
	deleted, err := d.write(ctx, conn, stmts)
	if err != nil {
		var be *destination.BatchError
		if code := sqlState(err); (code == "42703" || code == "42P01") && errors.As(err, &be) {
			// The table or a column went away since we looked: the next
			// attempt inspects the table again and recreates what is missing.
			be.Retryable = true
		}
		d.afterError(err)
		return nil, err
	}
	for j, s := range stmts {
		if s.erase {
			results[s.index].Receipt = eraseReceipt(deleted[j])
		}
	}
	return results, nil
}

// eraseReceipt describes the rows an erasure deleted.
func eraseReceipt(n int64) string {
	switch n {
	case 0:
		return "not found: nothing to erase"
	case 1:
		return "deleted 1 row"
	}
	return fmt.Sprintf("deleted %d rows", n)
}

// write runs the statements in one transaction, pipelined, and returns the
// rows each one affected.
func (d *Destination) write(ctx context.Context, conn *pgx.Conn, stmts []statement) ([]int64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, d.batchError("beginning a transaction", err)
	}
	fail := func(be error) ([]int64, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
		return nil, be
	}
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.sql, s.args...)
	}
	br := tx.SendBatch(ctx, b)
	affected := make([]int64, len(stmts))
	for j, s := range stmts {
		tag, err := br.Exec()
		affected[j] = tag.RowsAffected()
		if err != nil {
			be := d.batchError(fmt.Sprintf("record %d (key %s)", s.index, short(s.key)), err)
			_ = br.Close()
			return fail(be)
		}
	}
	if err := br.Close(); err != nil {
		return fail(d.batchError("writing the batch", err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(d.batchError("committing", err))
	}
	return affected, nil
}

// statement builds the upsert or delete of one record: remove and erase
// delete the row by key (in every mode), unsubscribe is refused.
func (d *Destination) statement(r destination.Record) (statement, error) {
	if err := checkText(r.Key); err != nil {
		return statement{}, fmt.Errorf("key: %v", err)
	}
	t := d.table.quoted()
	key := dialect.QuoteIdent(KeyColumn)
	if err := destination.CheckOp(r.Op); err != nil {
		return statement{}, err
	}
	switch r.Op {
	case destination.OpRemove, destination.OpErase:
		return statement{key: r.Key, sql: "DELETE FROM " + t + " WHERE " + key + " = $1", args: []any{r.Key},
			erase: r.Op == destination.OpErase}, nil
	case destination.OpUnsubscribe:
		return statement{}, errors.New("a table has no unsubscribe; the row is removed (mirror) or no longer written")
	}
	names := make([]string, 0, len(r.Fields))
	for f := range r.Fields {
		if d.fieldColumn(f) {
			names = append(names, f)
		}
	}
	sort.Strings(names)
	cols := []string{key}
	vals := []string{"$1"}
	args := []any{r.Key}
	for _, f := range names {
		if err := d.checkField(f); err != nil {
			return statement{}, err
		}
		col, ok := d.columns[f]
		if !ok {
			return statement{}, fmt.Errorf("field %q has no column", f)
		}
		v, err := convert(r.Fields[f], col)
		if err != nil {
			return statement{}, fmt.Errorf("field %q: %v", f, err)
		}
		cols = append(cols, dialect.QuoteIdent(f))
		args = append(args, v)
		vals = append(vals, "$"+strconv.Itoa(len(args)))
	}
	cols = append(cols, dialect.QuoteIdent(SyncedAtColumn))
	vals = append(vals, "now()")
	set := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		set = append(set, c+" = EXCLUDED."+c)
	}
	sql := "INSERT INTO " + t + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") +
		") ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
	return statement{key: r.Key, sql: sql, args: args}, nil
}

// convert turns a record value into one the column stores, or says why it
// cannot.
func convert(v any, c column) (any, error) {
	if v == nil {
		return nil, nil
	}
	misfit := func() error {
		return fmt.Errorf("%s (%T) does not fit column type %s", short(fmt.Sprint(v)), v, c.typ)
	}
	switch c.kind {
	case kindText:
		s := text(v)
		return s, checkText(s)
	case kindInt:
		n, ok := integer(v)
		if !ok || n < c.min || n > c.max {
			return nil, misfit()
		}
		return n, nil
	case kindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		case int32:
			return float64(x), nil
		}
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kindTime:
		if t, ok := v.(time.Time); ok {
			return t, nil
		}
	case kindOther:
		if s, ok := v.(string); ok {
			return s, checkText(s)
		}
		return v, nil
	}
	return nil, misfit()
}

// integer returns v as an int64 when it is a whole number.
func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x), true
		}
	}
	return 0, false
}

// text renders a value for a text column; times in UTC, RFC 3339.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// checkText reports text PostgreSQL cannot store.
func checkText(s string) error {
	if strings.ContainsRune(s, 0) {
		return errors.New("holds a NUL byte, which PostgreSQL text cannot store")
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	return nil
}

// short quotes s for a message, cut to 60 characters.
func short(s string) string {
	if r := []rune(s); len(r) > 60 {
		return strconv.Quote(string(r[:60])) + "…"
	}
	return strconv.Quote(s)
}
