package seed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/models"
)

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		"customers.csv":                  "customers",
		"dir/Customer Orders (2024).csv": "customer_orders_2024",
		"__x__y.CSV":                     "x_y",
		"Zoë.csv":                        "zo",
		"日本.csv":                         "",
		"a.b.csv":                        "a_b",
	} {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInferTypes(t *testing.T) {
	cases := []struct {
		cells []string
		want  string
	}{
		{[]string{"1", "-2", "0", ""}, models.TypeInteger},
		{[]string{"9223372036854775807", "-9223372036854775808"}, models.TypeInteger},
		{[]string{"9223372036854775808"}, models.TypeString},
		{[]string{"007"}, models.TypeString},
		{[]string{"-0", "10"}, models.TypeInteger},
		{[]string{"+1"}, models.TypeString},
		{[]string{"1", "2.5", "1e3", "-1.5E-3"}, models.TypeNumber},
		{[]string{"1."}, models.TypeString},
		{[]string{".5"}, models.TypeString},
		{[]string{"1e999"}, models.TypeString},
		{[]string{"NaN"}, models.TypeString},
		{[]string{"inf"}, models.TypeString},
		{[]string{"0x10"}, models.TypeString},
		{[]string{"1_000"}, models.TypeString},
		{[]string{"true", "false"}, models.TypeBoolean},
		{[]string{"True"}, models.TypeString},
		{[]string{"1", "true"}, models.TypeString},
		{[]string{"2024-02-29", "1999-01-01"}, models.TypeDate},
		{[]string{"2023-02-29"}, models.TypeString},
		{[]string{"2024-1-2"}, models.TypeString},
		{[]string{"2024-01-02 03:04:05", "2024-01-02 03:04:05.123456", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.1+05:30", "2024-01-02T03:04:05"}, models.TypeTimestamp},
		{[]string{"2024-01-02", "2024-01-02 03:04:05"}, models.TypeString},
		{[]string{"2024-01-02 25:04:05"}, models.TypeString},
		{[]string{"", ""}, models.TypeString},
		{[]string{"x", "1"}, models.TypeString},
	}
	for _, c := range cases {
		v := allTypes
		for _, cell := range c.cells {
			if cell != "" {
				v = v.and(cell)
			}
		}
		if got := v.result(); got != c.want {
			t.Errorf("cells %q: inferred %s, want %s", c.cells, got, c.want)
		}
		for _, cell := range c.cells {
			if _, ok := convert(cell, c.want); !ok {
				t.Errorf("cell %q does not convert to inferred %s", cell, c.want)
			}
		}
	}
}

func TestInferColumnsStreamsLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("n,s\n"); err != nil {
		t.Fatal(err)
	}
	for i := range 100000 {
		if _, err := f.WriteString("1,row " + string(rune('a'+i%26)) + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cols, err := InferColumns(path)
	if err != nil {
		t.Fatal(err)
	}
	if cols[0].Type != models.TypeInteger || cols[1].Type != models.TypeString {
		t.Fatalf("got %+v", cols)
	}
}

// TestStrayValueInATimestampColumn: one unparsable timestamp among many is a
// positioned error, not a column silently turned into text; a column that
// is mostly text stays text.
func TestStrayValueInATimestampColumn(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,updated_at,note\n")
	for i := 0; i < 30; i++ {
		ts := fmt.Sprintf("2024-01-%02d 10:00:00", i%28+1)
		if i == 17 {
			ts = "2024-13-45 10:00:00"
		}
		fmt.Fprintf(&b, "%d,%s,n%d\n", i, ts, i)
	}
	path := filepath.Join(dir, "x.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := InferColumns(path)
	want := path + ":19:4: error: column `updated_at` holds timestamps, but \"2024-13-45 10:00:00\" is not one (1 of 30 values; hint:"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v\nwant %s…", err, want)
	}
	// 3 of 4 values that are no timestamp: text, as before
	mixed := filepath.Join(dir, "y.csv")
	if err := os.WriteFile(mixed, []byte("a\n2024-01-01 10:00:00\nsoon\nlater\nnever\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cols, err := InferColumns(mixed)
	if err != nil || cols[0].Type != models.TypeString {
		t.Fatalf("mixed column: %v %v", cols, err)
	}
}
