package postgrestable_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/sync/destination"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func open(t *testing.T, dsn, table string, fields ...string) destination.Destination {
	t.Helper()
	d, err := openErr(dsn, table, "", fields...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func openErr(dsn, table, keyField string, fields ...string) (destination.Destination, error) {
	spec, err := destination.Lookup("postgres_table")
	if err != nil {
		return nil, err
	}
	return spec.New(ctx, destination.Config{
		Name: "crm_table", Settings: map[string]string{"dsn": dsn, "table": table},
		SyncName: "vip", RunID: "r1", Fields: fields, KeyField: keyField,
	})
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

func exec(t *testing.T, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func apply(t *testing.T, d destination.Destination, batch ...destination.Record) []destination.Result {
	t.Helper()
	res, err := d.Apply(ctx, batch)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res) != len(batch) {
		t.Fatalf("%d results for %d records", len(res), len(batch))
	}
	return res
}

func batchError(t *testing.T, err error) *destination.BatchError {
	t.Helper()
	var be *destination.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("want *BatchError, got %T %v", err, err)
	}
	return be
}

// rows returns the table as key → text of the other selected columns.
func rows(t *testing.T, c *pgx.Conn, table, cols string) map[string]string {
	t.Helper()
	r, err := c.Query(ctx, `SELECT "key", concat_ws('|', `+cols+`) FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var k, v string
	if _, err := pgx.ForEachRow(r, []any{&k, &v}, func() error { out[k] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func columnTypes(t *testing.T, c *pgx.Conn, schema, table string) string {
	t.Helper()
	r, err := c.Query(ctx, `SELECT column_name || ' ' || data_type FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, table)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(cols, ", ")
}

var since = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestCreateUpsertChangeRemove(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	d := open(t, dsn, "crm.contacts", "email", "ltv", "orders", "vip", "since", "nickname")
	res := apply(t, d,
		destination.Record{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"email": "a@x.org", "ltv": 10.5, "orders": int64(2), "vip": true, "since": since, "nickname": nil}},
		destination.Record{Op: destination.OpAdd, Key: "b", Fields: map[string]any{"email": "b@x.org", "ltv": nil, "orders": int64(0), "vip": false, "since": nil, "nickname": nil}},
		destination.Record{Op: destination.OpAdd, Key: "c", Fields: map[string]any{"email": "c@x.org"}},
	)
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	want := "key text, email text, ltv double precision, orders bigint, vip boolean, since timestamp with time zone, nickname text, _cdp_synced_at timestamp with time zone"
	if got := columnTypes(t, c, "crm", "contacts"); got != want {
		t.Errorf("columns:\n got %s\nwant %s", got, want)
	}
	var pk string
	if err := c.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'crm.contacts'::regclass AND contype = 'p'`).Scan(&pk); err != nil || pk != `PRIMARY KEY (key)` {
		t.Errorf("primary key = %q, %v", pk, err)
	}
	// change: a present null clears, an absent field keeps its value.
	apply(t, d,
		destination.Record{Op: destination.OpChange, Key: "a", Fields: map[string]any{"email": nil, "ltv": int64(11)}},
		destination.Record{Op: destination.OpRemove, Key: "b", Fields: map[string]any{"email": "b@x.org"}},
		destination.Record{Op: destination.OpRemove, Key: "never-there"},
		destination.Record{Op: destination.OpAdd, Key: "c", Fields: map[string]any{"nickname": "cc"}},
	)
	got := rows(t, c, "crm.contacts", `coalesce(email,'∅'), coalesce(ltv::text,'∅'), orders, vip, since AT TIME ZONE 'UTC', coalesce(nickname,'∅'), _cdp_synced_at IS NOT NULL`)
	wantRows := map[string]string{
		"a": "∅|11|2|t|2026-03-01 12:00:00|∅|t",
		"c": "c@x.org|∅|cc|t",
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("rows = %v, want %v", got, wantRows)
	}
}

func TestHostileNamesAndValues(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	exec(t, c, `CREATE TABLE victims (id int)`)
	fields := []string{`e"mail; DROP TABLE victims; --`, "Mixed Case", `it's`, "ünï"}
	keys := []string{`'; DROP TABLE victims; --`, `"quoted"`, `back\slash`, "", strings.Repeat("long", 250), "emoji 🎉", `$1`}
	for _, table := range []string{
		`evil"; DROP TABLE victims; --`,
		`"sch.ema ""x"""."ta;ble"`,
		`Public.MixedCase`,
	} {
		d := open(t, dsn, table, fields...)
		var batch []destination.Record
		for i, k := range keys {
			batch = append(batch, destination.Record{Op: destination.OpAdd, Key: k, Fields: map[string]any{
				fields[0]: k, fields[1]: int64(i), fields[2]: `a'b"c;`, fields[3]: nil,
			}})
		}
		for i, r := range apply(t, d, batch...) {
			if r.Err != nil {
				t.Errorf("%s record %d: %v", table, i, r.Err)
			}
		}
		apply(t, d, destination.Record{Op: destination.OpRemove, Key: keys[0]})
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname = 'victims'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("victims table gone after %s: %v", table, err)
		}
		quoted := map[string]string{
			`evil"; DROP TABLE victims; --`: `"evil""; DROP TABLE victims; --"`,
			`"sch.ema ""x"""."ta;ble"`:      `"sch.ema ""x"""."ta;ble"`,
			`Public.MixedCase`:              `"Public"."MixedCase"`,
		}[table]
		got := rows(t, c, quoted, `"e""mail; DROP TABLE victims; --", "Mixed Case", "it's"`)
		if len(got) != len(keys)-1 {
			t.Errorf("%s: %d rows, want %d", table, len(got), len(keys)-1)
		}
		for i, k := range keys[1:] {
			if want := fmt.Sprintf(`%s|%d|a'b"c;`, k, i+1); got[k] != want {
				t.Errorf("%s key %q: got %q, want %q", table, k, got[k], want)
			}
		}
	}
}

func TestUnstorableRecordsAreRejectedAlone(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	d := open(t, dsn, "t", "n", "s", "b")
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "seed", Fields: map[string]any{"n": int64(1), "s": "x", "b": true}})
	res := apply(t, d,
		destination.Record{Op: destination.OpAdd, Key: "str-in-bigint", Fields: map[string]any{"n": "abc"}},
		destination.Record{Op: destination.OpAdd, Key: "whole-float", Fields: map[string]any{"n": 2.0, "s": int64(5), "b": nil}},
		destination.Record{Op: destination.OpAdd, Key: "fraction", Fields: map[string]any{"n": 2.5}},
		destination.Record{Op: destination.OpAdd, Key: "nul\x00key", Fields: map[string]any{}},
		destination.Record{Op: destination.OpAdd, Key: "bad-utf8", Fields: map[string]any{"s": "\xff\xfe"}},
		destination.Record{Op: destination.OpAdd, Key: "time-in-bool", Fields: map[string]any{"b": since}},
		destination.Record{Op: "upsert", Key: "bad-op"},
		destination.Record{Op: destination.OpAdd, Key: "time-in-text", Fields: map[string]any{"s": since}},
	)
	wantErr := map[int]string{
		0: `field "n": "abc" (string) does not fit column type bigint`,
		2: `field "n": "2.5" (float64) does not fit column type bigint`,
		3: "key: holds a NUL byte",
		4: `field "s": is not valid UTF-8`,
		5: `does not fit column type boolean`,
		6: `unknown operation "upsert"`,
	}
	for i, r := range res {
		w, bad := wantErr[i]
		if bad != (r.Err != nil) || (bad && (r.Retryable || !strings.Contains(r.Err.Error(), w))) {
			t.Errorf("record %d: %+v, want error %q", i, r, w)
		}
	}
	got := rows(t, c, "t", `coalesce(n::text,'∅'), coalesce(s,'∅'), coalesce(b::text,'∅')`)
	want := map[string]string{"seed": "1|x|true", "whole-float": "2|5|∅", "time-in-text": "∅|2026-03-01T12:00:00Z|∅"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
}

func TestServerRefusalIsAllOrNothing(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	d := open(t, dsn, "t", "ltv")
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"ltv": 1.0}})
	exec(t, c, `ALTER TABLE t ADD CONSTRAINT ltv_positive CHECK (ltv >= 0)`)
	_, err := d.Apply(ctx, []destination.Record{
		{Op: destination.OpChange, Key: "a", Fields: map[string]any{"ltv": 5.0}},
		{Op: destination.OpAdd, Key: "b", Fields: map[string]any{"ltv": -1.0}},
	})
	be := batchError(t, err)
	if be.Retryable || !strings.Contains(be.Error(), `record 1 (key "b")`) || !strings.Contains(be.Error(), "ltv_positive") || !strings.Contains(be.Error(), "23514") {
		t.Errorf("check violation: retryable=%v %v", be.Retryable, be)
	}
	if got := rows(t, c, "t", "ltv"); !reflect.DeepEqual(got, map[string]string{"a": "1"}) {
		t.Errorf("partial batch applied: %v", got)
	}
	apply(t, d, destination.Record{Op: destination.OpChange, Key: "a", Fields: map[string]any{"ltv": 5.0}})
	if got := rows(t, c, "t", "ltv"); got["a"] != "5" {
		t.Errorf("after the refusal: %v", got)
	}
}

func TestReconnectAfterConnectionLoss(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	d := open(t, dsn, "t", "x")
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"x": "1"}})
	exec(t, c, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	_, err := d.Apply(ctx, []destination.Record{{Op: destination.OpAdd, Key: "b", Fields: map[string]any{"x": "2"}}})
	if be := batchError(t, err); !be.Retryable {
		t.Errorf("lost connection not retryable: %v", be)
	}
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "b", Fields: map[string]any{"x": "2"}})
	// The table can change between runs of the same connection too.
	exec(t, c, `ALTER TABLE t DROP COLUMN x`)
	_, err = d.Apply(ctx, []destination.Record{{Op: destination.OpAdd, Key: "c", Fields: map[string]any{"x": "3"}}})
	if be := batchError(t, err); !be.Retryable || !strings.Contains(be.Error(), "42703") {
		t.Errorf("dropped column: %v", be)
	}
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "c", Fields: map[string]any{"x": "3"}})
	if got := rows(t, c, "t", "coalesce(x, '∅')"); !reflect.DeepEqual(got, map[string]string{"a": "∅", "b": "∅", "c": "3"}) {
		t.Errorf("rows = %v", got)
	}
}

func TestExistingTable(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	exec(t, c, `CREATE TABLE t ("key" text PRIMARY KEY, email varchar(100), score integer)`)
	exec(t, c, `INSERT INTO t VALUES ('old', 'o@x.org', 7)`)
	d := open(t, dsn, "t", "email", "score", "tier")
	res := apply(t, d,
		destination.Record{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"email": "a@x.org", "score": int64(3), "tier": "gold"}},
		destination.Record{Op: destination.OpAdd, Key: "big", Fields: map[string]any{"score": int64(1) << 40}},
	)
	if res[0].Err != nil || res[1].Err == nil || !strings.Contains(res[1].Err.Error(), "column type integer") {
		t.Errorf("results = %+v", res)
	}
	want := "key text, email character varying, score integer, tier text, _cdp_synced_at timestamp with time zone"
	if got := columnTypes(t, c, "public", "t"); got != want {
		t.Errorf("columns:\n got %s\nwant %s", got, want)
	}
	if got := rows(t, c, "t", "email, score, coalesce(tier, '∅')"); !reflect.DeepEqual(got, map[string]string{"old": "o@x.org|7|∅", "a": "a@x.org|3|gold"}) {
		t.Errorf("rows = %v", got)
	}

	exec(t, c, `CREATE TABLE nokey (id int)`)
	_, err := open(t, dsn, "nokey", "x").Apply(ctx, []destination.Record{{Op: destination.OpAdd, Key: "a"}})
	if be := batchError(t, err); be.Retryable || !strings.Contains(be.Error(), `without a "key" column`) {
		t.Errorf("table without key: %v", be)
	}
}

func TestKeyField(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := connect(t, dsn)
	d, err := openErr(dsn, "t", "key", "key", "name")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "k1", Fields: map[string]any{"key": "k1", "name": "n"}})
	if got := columnTypes(t, c, "public", "t"); got != "key text, name text, _cdp_synced_at timestamp with time zone" {
		t.Errorf("columns = %s", got)
	}
}

func TestConnectionFailures(t *testing.T) {
	dsn := pgtest.DSN(t)
	d := open(t, "postgres://nobody@127.0.0.1:1/x?connect_timeout=2", "t")
	_, err := d.Apply(ctx, []destination.Record{{Op: destination.OpAdd, Key: "a"}})
	if be := batchError(t, err); !be.Retryable {
		t.Errorf("refused connection: %v", be)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	wrongDB := strings.Replace(dsn, cfg.Database, "no_such_db", 1)
	_, err = open(t, wrongDB, "t").Apply(ctx, []destination.Record{{Op: destination.OpAdd, Key: "a"}})
	if be := batchError(t, err); be.Retryable || !strings.Contains(be.Error(), "3D000") {
		t.Errorf("missing database: %v", be)
	}
}

func TestSettings(t *testing.T) {
	for _, c := range []struct {
		dsn, table, keyField string
		fields               []string
		msg                  string
	}{
		{"", "t", "", nil, "dsn is required"},
		{"postgres://h/db", "", "", nil, "table: required"},
		{"postgres://h/db", "a.b.c", "", nil, "want table or schema.table"},
		{"postgres://h/db", `"open`, "", nil, "unterminated"},
		{"postgres://h/db", `"a"b`, "", nil, "followed by a dot"},
		{"postgres://h/db", "a.", "", nil, "ends with a dot"},
		{"postgres://h/db", ".a", "", nil, "empty name"},
		{"postgres://h/db", strings.Repeat("x", 64), "", nil, "longer than 63 bytes"},
		{"postgres://h/db", "t", "email", []string{"key"}, "clash with the table's key column"},
		{"postgres://h/db", "t", "", []string{"_cdp_synced_at"}, "maintains"},
		{"postgres://h/db", "t", "", []string{"a\x00b"}, "NUL"},
	} {
		_, err := openErr(c.dsn, c.table, c.keyField, c.fields...)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q %q %v: err = %v, want %q", c.dsn, c.table, c.fields, err, c.msg)
		}
	}
	spec, _ := destination.Lookup("postgres_table")
	_, err := spec.New(ctx, destination.Config{Settings: map[string]string{"dsn": "postgres://h/db", "table": "t", "batch_size": "0"}})
	if err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Errorf("batch_size 0: %v", err)
	}
	d, err := spec.New(ctx, destination.Config{Settings: map[string]string{"dsn": "postgres://h/db", "table": "t", "batch_size": "50"}})
	if err != nil {
		t.Fatal(err)
	}
	if caps := d.Capabilities(); caps.MaxBatch != 50 || !caps.Supports(destination.OpRemove) {
		t.Errorf("capabilities = %+v", caps)
	}
	if caps := open(t, "postgres://h/db", "t").Capabilities(); caps.MaxBatch != 500 {
		t.Errorf("default batch = %d", caps.MaxBatch)
	}
}
