package file_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
)

// TestEraseTombstone writes an erase as a tombstone with the key only —
// none of the person's fields — in both formats, with the file and line as
// the receipt; a key never written gets its tombstone too.
func TestEraseTombstone(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			root := t.TempDir()
			d := open(t, root, map[string]string{"path": "out", "format": format}, "email", "ltv")
			for _, op := range []destination.Op{destination.OpErase, destination.OpUnsubscribe} {
				if !d.Capabilities().Supports(op) {
					t.Errorf("%s is not among the capabilities", op)
				}
			}
			apply(t, d, destination.Record{Op: destination.OpAdd, Key: "a@x.org", Fields: map[string]any{"email": "a@x.org", "ltv": 5.0}})
			res := apply(t, d,
				destination.Record{Op: destination.OpErase, Key: "a@x.org", Fields: map[string]any{"email": "secret@x.org", "ltv": 5.0}},
				destination.Record{Op: destination.OpUnsubscribe, Key: "b@x.org", Fields: map[string]any{"email": "b@x.org"}},
				destination.Record{Op: destination.OpErase, Key: "never@x.org"})
			path := filepath.Join(root, "out", "vip_export", "20260301T120000Z-1."+format)
			first := 2 // jsonl: the add is line 1
			if format == "csv" {
				first = 3 // the header, then the add
			}
			for i, r := range res {
				if want := fmt.Sprintf("%s:%d", path, first+i); r.Err != nil || r.Receipt != want {
					t.Errorf("record %d: %+v, want receipt %s", i, r, want)
				}
			}
			got := read(t, path)
			if strings.Contains(got, "secret@x.org") {
				t.Errorf("the tombstone carries the person's fields:\n%s", got)
			}
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			want := map[string][]string{
				"jsonl": {`{"op":"erase","key":"a@x.org","tombstone":true}`, `{"op":"unsubscribe","key":"b@x.org","fields":{"email":"b@x.org"}}`,
					`{"op":"erase","key":"never@x.org","tombstone":true}`},
				"csv": {"erase,a@x.org,,", "unsubscribe,b@x.org,b@x.org,", "erase,never@x.org,,"},
			}[format]
			if tail := lines[first-1:]; strings.Join(tail, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(tail, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestEraseReceiptAfterReopen counts the lines of a file an earlier
// destination of the same run wrote.
func TestEraseReceiptAfterReopen(t *testing.T) {
	root := t.TempDir()
	d := open(t, root, map[string]string{"path": "out"})
	apply(t, d, destination.Record{Op: destination.OpAdd, Key: "a", Fields: map[string]any{"x": "1\n2"}},
		destination.Record{Op: destination.OpAdd, Key: "b"})
	d.Close()
	d = open(t, root, map[string]string{"path": "out"})
	res := apply(t, d, destination.Record{Op: destination.OpErase, Key: "a"})
	if !strings.HasSuffix(res[0].Receipt, ".jsonl:3") {
		t.Errorf("receipt %q, want line 3", res[0].Receipt)
	}
}
