package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/cdpkit/cdp/sync/destination"
)

// Type is the destination type this package registers.
const Type = "file"

// MaxBatch is the most records one Apply writes.
const MaxBatch = 1000

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "File export", Category: destination.CategoryData,
		Summary: "appends each run's records to a JSON Lines or CSV file in a folder",
		Settings: []destination.Setting{
			{Name: "path", Kind: destination.KindString, Required: true, Example: "exports/vip",
				Doc: "folder the run files go to (relative to the project)"},
			{Name: "format", Kind: destination.KindEnum, Default: "jsonl", Values: []string{"jsonl", "csv"},
				Doc: "file format"},
		},
		Doc:   specDoc,
		Modes: []string{"upsert", "mirror", "insert", "update"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "a line with op add"}, {Op: destination.OpChange, Sends: "a line with op change"},
			{Op: destination.OpRemove, Sends: "a line with op remove"},
			{Op: destination.OpUnsubscribe, Sends: "a line with op unsubscribe (the last delivered fields); receipt `<file>:<line>`"},
			{Op: destination.OpErase, Sends: "a tombstone line with op erase and the key only, no fields " +
				"(jsonl `{\"op\":\"erase\",\"key\":…,\"tombstone\":true}`, csv `erase,<key>,,…`); receipt `<file>:<line>`. " +
				"Earlier files of the run still hold the person: delete them, or let the tool reading them apply the tombstone"},
		},
		Limits: []string{fmt.Sprintf("%d records per write", MaxBatch)},
		New:    New,
	})
}

const specDoc = `Each run appends its records to ` + "`<path>/<sync>/<run_id>.jsonl`" + ` (or ` + "`.csv`" + `), one line per
record, fsynced before the batch is confirmed; a retried batch is appended again.

* jsonl: ` + "`{\"op\":\"add\",\"key\":\"…\",\"fields\":{…}}`" + `, op add, change, remove or unsubscribe; an
  erase is a tombstone ` + "`{\"op\":\"erase\",\"key\":\"…\",\"tombstone\":true}`" + ` with no fields.
* csv: a header ` + "`op,key,<fields>`" + `, then one row per record; an erase row is ` + "`erase,<key>`" + ` with
  every field cell empty.

The receipt of an erase or unsubscribe is the file and line written (` + "`<file>:<line>`" + `). A tombstone
tells whoever reads the files to forget the key; files of earlier runs are not rewritten.`

// Destination appends a run's records to one file. It is safe for
// concurrent use; batches are written one at a time.
type Destination struct {
	name   string
	path   string // the run's file
	format format
	fields []string // the sync's fields, in mapping order

	mu      sync.Mutex
	f       *os.File
	size    int64    // bytes in the file
	lines   int      // newlines in the file
	columns []string // csv: the field columns of the header, once known
}

var _ destination.Destination = (*Destination)(nil)

// New opens a file destination for one run; the file is created by the
// first Apply that writes a record.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	d := &Destination{name: cfg.Name, fields: cfg.Fields}
	dir := cfg.Settings["path"]
	if dir == "" {
		return nil, d.errorf("path is required")
	}
	switch f := cfg.Settings["format"]; f {
	case "", "jsonl":
		d.format = jsonl{}
	case "csv":
		d.format = csvFormat{}
	default:
		return nil, d.errorf("format %q: want jsonl or csv", f)
	}
	if err := pathPart("sync name", cfg.SyncName); err != nil {
		return nil, d.errorf("%v", err)
	}
	if err := pathPart("run id", cfg.RunID); err != nil {
		return nil, d.errorf("%v", err)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(cfg.ProjectRoot, dir)
	}
	d.path = filepath.Join(dir, cfg.SyncName, cfg.RunID+"."+d.format.ext())
	return d, nil
}

// pathPart checks that s can name one file or folder.
func pathPart(what, s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\\x00") {
		return fmt.Errorf("%s %q cannot name a file", what, s)
	}
	return nil
}

// Path returns the file the run writes.
func (d *Destination) Path() string { return d.path }

// Capabilities declares add, change, remove, unsubscribe and erase, 1000
// records per batch.
func (d *Destination) Capabilities() destination.Capabilities {
	return destination.Capabilities{
		Ops: []destination.Op{destination.OpAdd, destination.OpChange, destination.OpRemove,
			destination.OpUnsubscribe, destination.OpErase},
		MaxBatch: MaxBatch,
	}
}

// Apply appends the batch with one write and fsyncs it. Records that cannot
// be written (unencodable values, fields outside the csv header) are
// rejected; the others are confirmed only once on disk.
func (d *Destination) Apply(_ context.Context, batch []destination.Record) ([]destination.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.columns == nil {
		if err := d.settleColumns(batch); err != nil {
			return nil, err
		}
	}
	results := make([]destination.Result, len(batch))
	var buf []byte
	at := make([]int, len(batch)) // offset of each record's line in buf
	for i, r := range batch {
		line, err := d.format.record(r, d.columns)
		if err != nil {
			results[i] = destination.Result{Err: d.errorf("record %d: %v", i, err)}
			continue
		}
		at[i] = len(buf)
		buf = append(buf, line...)
	}
	if len(buf) == 0 {
		return results, nil
	}
	if err := d.open(); err != nil {
		return nil, err
	}
	var head []byte
	if d.size == 0 {
		head = d.format.header(d.columns)
	}
	first := d.lines + bytes.Count(head, []byte{'\n'}) + 1 // line number of buf's first line
	if err := d.write(append(head, buf...)); err != nil {
		return nil, err
	}
	for i, r := range batch {
		if results[i].Err == nil && (r.Op == destination.OpErase || r.Op == destination.OpUnsubscribe) {
			results[i].Receipt = fmt.Sprintf("%s:%d", d.path, first+bytes.Count(buf[:at[i]], []byte{'\n'}))
		}
	}
	return results, nil
}

// settleColumns fixes the csv columns: those of an existing file, else the
// sync's fields or the first batch's.
func (d *Destination) settleColumns(batch []destination.Record) error {
	var size int64
	if st, err := os.Stat(d.path); err == nil {
		size = st.Size()
	}
	columns, err := d.format.columns(d.path, size, d.fields, batch)
	if err != nil {
		return &destination.BatchError{Err: d.errorf("%v", err)}
	}
	d.columns = append([]string{}, columns...) // non-nil: settled
	return nil
}

// open opens the file for appending, creating it and its folders.
func (d *Destination) open() error {
	if d.f != nil {
		return nil
	}
	dir := filepath.Dir(d.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return d.ioError("creating the folder", err)
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return d.ioError("opening the file", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return d.ioError("opening the file", err)
	}
	if st.Size() == 0 {
		// Make the new file's name durable along with its content.
		if err := syncDir(dir); err != nil {
			f.Close()
			return d.ioError("syncing the folder", err)
		}
	}
	d.f, d.size = f, st.Size()
	if d.size > 0 {
		b, err := os.ReadFile(d.path)
		if err != nil {
			f.Close()
			d.f = nil
			return d.ioError("reading the file", err)
		}
		d.lines = bytes.Count(b, []byte{'\n'})
	}
	return nil
}

// write appends buf and fsyncs; on failure it truncates the partial write.
func (d *Destination) write(buf []byte) error {
	_, err := d.f.Write(buf)
	if err == nil {
		err = d.f.Sync()
	}
	if err != nil {
		_ = d.f.Truncate(d.size)
		return d.ioError("writing", err)
	}
	d.size += int64(len(buf))
	d.lines += bytes.Count(buf, []byte{'\n'})
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// ioError classifies a file system failure: permissions, read-only file
// systems and paths that are not folders will not heal by themselves; a full
// disk or an I/O error may.
func (d *Destination) ioError(what string, err error) error {
	retryable := true
	for _, e := range []error{fs.ErrPermission, syscall.EROFS, syscall.ENOTDIR, syscall.EISDIR, syscall.ENAMETOOLONG, syscall.EINVAL} {
		if errors.Is(err, e) {
			retryable = false
		}
	}
	return &destination.BatchError{Err: d.errorf("%s: %w", what, err), Retryable: retryable}
}

// Close closes the file.
func (d *Destination) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("file %s: "+format, append([]any{d.name}, args...)...)
}
