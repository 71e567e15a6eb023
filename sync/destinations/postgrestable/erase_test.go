package postgrestable_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/sync/destination"
)

// TestErase deletes the erased person's row, with the receipt "deleted 1
// row", confirms an erase of an absent key as nothing to erase, and
// rejects unsubscribe.
func TestErase(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	d := open(t, dsn, "t", "email")
	if !d.Capabilities().Supports(destination.OpErase) {
		t.Fatal("erase is not among the capabilities")
	}
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"email": "a@x.org"}},
		destination.Record{Op: destination.OpAdd, Key: "b", Fields: map[string]any{"email": "b@x.org"}})
	res := apply(t, d, destination.Record{Op: destination.OpErase, Key: "a", Fields: map[string]any{"email": "a@x.org"}},
		destination.Record{Op: destination.OpErase, Key: "never-there"},
		destination.Record{Op: destination.OpUnsubscribe, Key: "b"},
		destination.Record{Op: destination.OpRemove, Key: "b"})
	if res[0].Err != nil || res[0].Receipt != "deleted 1 row" {
		t.Errorf("erase: %+v", res[0])
	}
	if res[1].Err != nil || res[1].Receipt != "not found: nothing to erase" {
		t.Errorf("erase of an absent key: %+v", res[1])
	}
	if res[2].Err == nil {
		t.Error("unsubscribe was accepted")
	}
	if res[3].Err != nil || res[3].Receipt != "" {
		t.Errorf("remove: %+v", res[3])
	}
	if got := rows(t, c, "t", "email"); len(got) != 0 {
		t.Errorf("rows = %v", got)
	}
}

// TestEraseLockTimeoutIsRetryable leaves an erase that waited too long for
// a lock retryable, with the row kept until the retry deletes it.
func TestEraseLockTimeoutIsRetryable(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	var db string
	if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	exec(t, c, `ALTER DATABASE "`+db+`" SET lock_timeout = '200ms'`)
	d := open(t, dsn, "t", "email")
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"email": "a@x.org"}})
	locker := connect(t, dsn)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, locker, `LOCK TABLE t IN ACCESS EXCLUSIVE MODE`)
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = d.Apply(actx, []destination.Record{{Op: destination.OpErase, Key: "a"}})
	if be := batchError(t, err); !be.Retryable {
		t.Errorf("lock timeout: %v is not retryable", be)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, c, "t", "email"); !reflect.DeepEqual(got, map[string]string{"a": "a@x.org"}) {
		t.Errorf("rows after the failed erase = %v", got)
	}
	if res := apply(t, d, destination.Record{Op: destination.OpErase, Key: "a"}); res[0].Receipt != "deleted 1 row" {
		t.Errorf("retry: %+v", res[0])
	}
}
