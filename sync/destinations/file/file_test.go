package file_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/file"
)

func open(t *testing.T, root string, settings map[string]string, fields ...string) destination.Destination {
	t.Helper()
	spec, err := destination.Lookup("file")
	if err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(context.Background(), destination.Config{
		Name: "audit", Settings: settings, ProjectRoot: root, SyncName: "vip_export", RunID: "20260301T120000Z-1", Fields: fields,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func apply(t *testing.T, d destination.Destination, batch ...destination.Record) []destination.Result {
	t.Helper()
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(batch) {
		t.Fatalf("%d results for %d records", len(res), len(batch))
	}
	return res
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var when = time.Date(2026, 3, 1, 13, 4, 5, 500_000_000, time.FixedZone("CET", 3600))

func sample() []destination.Record {
	return []destination.Record{
		{Op: destination.OpAdd, Key: "a@x.org", Fields: map[string]any{"email": "a@x.org", "ltv": 1234.5, "orders": int64(3), "vip": true, "since": when}},
		{Op: destination.OpChange, Key: `b,"quoted"@x.org`, Fields: map[string]any{"email": "line\nbreak", "ltv": nil, "orders": int64(-1), "vip": false, "since": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}},
		{Op: destination.OpRemove, Key: "c@x.org", Fields: map[string]any{"ltv": 1e21, "orders": int64(0)}},
	}
}

func TestJSONL(t *testing.T) {
	root := t.TempDir()
	d := open(t, root, map[string]string{"path": "out"})
	apply(t, d, sample()...)
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "d", Fields: nil})
	want := `{"op":"add","key":"a@x.org","fields":{"email":"a@x.org","ltv":1234.5,"orders":3,"since":"2026-03-01T12:04:05.5Z","vip":true}}
{"op":"change","key":"b,\"quoted\"@x.org","fields":{"email":"line\nbreak","ltv":null,"orders":-1,"since":"2026-01-02T00:00:00Z","vip":false}}
{"op":"remove","key":"c@x.org","fields":{"ltv":1e+21,"orders":0}}
{"op":"add","key":"d","fields":{}}
`
	path := filepath.Join(root, "out", "vip_export", "20260301T120000Z-1.jsonl")
	if got := read(t, path); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if p := d.(*file.Destination).Path(); p != path {
		t.Errorf("Path() = %s", p)
	}
}

func TestCSV(t *testing.T) {
	dir := t.TempDir() // absolute: the project root is ignored
	d := open(t, "/nonexistent", map[string]string{"path": dir, "format": "csv"}, "email", "vip", "ltv", "orders", "since")
	apply(t, d, sample()...)
	want := `op,key,email,vip,ltv,orders,since
add,a@x.org,a@x.org,true,1234.5,3,2026-03-01T12:04:05.5Z
change,"b,""quoted""@x.org","line
break",false,,-1,2026-01-02T00:00:00Z
remove,c@x.org,,,1e+21,0,
`
	path := filepath.Join(dir, "vip_export", "20260301T120000Z-1.csv")
	if got := read(t, path); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A second destination of the same run (a restarted process) appends
	// without a second header.
	d.Close()
	d2 := open(t, "/nonexistent", map[string]string{"path": dir, "format": "csv"}, "email", "vip", "ltv", "orders", "since")
	apply(t, d2, destination.Record{Op: destination.OpAdd, Key: "e", Fields: map[string]any{"ltv": 0.000001, "orders": int64(math.MaxInt64)}})
	want += "add,e,,,0.000001,9223372036854775807,\n"
	if got := read(t, path); got != want {
		t.Errorf("after reopen got\n%s\nwant\n%s", got, want)
	}
	// A different mapping does not silently mix columns.
	d2.Close()
	d3 := open(t, "/nonexistent", map[string]string{"path": dir, "format": "csv"}, "email")
	_, err := d3.Apply(context.Background(), sample()[:1])
	var be *destination.BatchError
	if !errors.As(err, &be) || be.Retryable || !strings.Contains(err.Error(), "exists with header") {
		t.Errorf("changed mapping: %v", err)
	}
}

func TestCSVWithoutDeclaredFields(t *testing.T) {
	root := t.TempDir()
	d := open(t, root, map[string]string{"path": "out", "format": "csv"})
	res := apply(t, d,
		destination.Record{Op: destination.OpAdd, Key: "k1", Fields: map[string]any{"b": "x", "a": int64(1)}},
	)
	res = append(res, apply(t, d,
		destination.Record{Op: destination.OpAdd, Key: "k2", Fields: map[string]any{"a": int64(2)}},
		destination.Record{Op: destination.OpAdd, Key: "k3", Fields: map[string]any{"c": "new"}},
	)...)
	if res[0].Err != nil || res[1].Err != nil || res[2].Err == nil || res[2].Retryable {
		t.Errorf("results = %+v", res)
	}
	want := "op,key,a,b\nadd,k1,1,x\nadd,k2,2,\n"
	if got := read(t, filepath.Join(root, "out", "vip_export", "20260301T120000Z-1.csv")); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRejectedRecordsAreNotWritten(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		root := t.TempDir()
		d := open(t, root, map[string]string{"path": ".", "format": format}, "x")
		res := apply(t, d,
			destination.Record{Op: destination.OpAdd, Key: "nan", Fields: map[string]any{"x": math.NaN()}},
			destination.Record{Op: "upsert", Key: "op", Fields: map[string]any{"x": 1.0}},
			destination.Record{Op: destination.OpAdd, Key: "ok", Fields: map[string]any{"x": 2.0}},
		)
		if res[0].Err == nil || res[1].Err == nil || res[2].Err != nil || res[0].Retryable {
			t.Errorf("%s: results %+v", format, res)
		}
		got := read(t, filepath.Join(root, "vip_export", "20260301T120000Z-1."+format))
		if strings.Contains(got, "nan") || strings.Contains(got, "upsert") || !strings.Contains(got, "ok") {
			t.Errorf("%s: file %q", format, got)
		}
	}
}

func TestNothingWrittenNoFile(t *testing.T) {
	root := t.TempDir()
	d := open(t, root, map[string]string{"path": "out"})
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "nan", Fields: map[string]any{"x": math.NaN()}})
	d.Close()
	if _, err := os.Stat(filepath.Join(root, "out")); !os.IsNotExist(err) {
		t.Errorf("a run that wrote nothing created files: %v", err)
	}
}

func TestUnwritablePathIsNotRetryable(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "blocker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d := open(t, root, map[string]string{"path": "blocker"})
	_, err := d.Apply(context.Background(), sample())
	var be *destination.BatchError
	if !errors.As(err, &be) || be.Retryable || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("err = %v", err)
	}
}

func TestSettings(t *testing.T) {
	spec, _ := destination.Lookup("file")
	for _, c := range []struct {
		cfg destination.Config
		msg string
	}{
		{destination.Config{SyncName: "s", RunID: "r"}, "path is required"},
		{destination.Config{Settings: map[string]string{"path": "x", "format": "xml"}, SyncName: "s", RunID: "r"}, "jsonl or csv"},
		{destination.Config{Settings: map[string]string{"path": "x"}, SyncName: "../up", RunID: "r"}, "cannot name a file"},
		{destination.Config{Settings: map[string]string{"path": "x"}, SyncName: "s", RunID: ".."}, "cannot name a file"},
	} {
		if _, err := spec.New(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: err = %v, want %q", c.cfg, err, c.msg)
		}
	}
	d := open(t, t.TempDir(), map[string]string{"path": "x"})
	if c := d.Capabilities(); c.MaxBatch != 1000 || !c.Supports(destination.OpAdd) || !c.Supports(destination.OpChange) || !c.Supports(destination.OpRemove) {
		t.Errorf("capabilities = %+v", c)
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[any]string{
		nil: "", "s": "s", int64(-7): "-7", 0.1: "0.1", 1e20: "100000000000000000000", 1e-7: "1e-07",
		true: "true", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC): "2026-01-01T00:00:00Z",
	} {
		if got, err := file.Format(v); err != nil || got != want {
			t.Errorf("Format(%v) = %q, %v; want %q", v, got, err, want)
		}
	}
	if _, err := file.Format(math.Inf(1)); err == nil {
		t.Error("Format(+Inf) succeeded")
	}
}
