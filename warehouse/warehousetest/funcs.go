package warehousetest

import (
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// HashFraction is the Go reference of Dialect.HashFraction: the first four
// bytes of the MD5 of s, big-endian, divided by 2^32.
func HashFraction(s string) float64 {
	sum := md5.Sum([]byte(s))
	return float64(binary.BigEndian.Uint32(sum[:4])) / 4294967296.0
}

// testTypesAndCasts stores a value of every CDP type in a column of
// TypeName's type through Cast and reads it back with its Go type.
func testTypesAndCasts(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	ts := utc(2024, 2, 29, 23, 59, 58, 123456)
	day := utc(2023, 12, 31, 0, 0, 0, 0)
	cols := []struct{ name, typ, text string }{
		{"s", models.TypeString, "héllo 'x'"},
		{"i", models.TypeInteger, "-9007199254740993"},
		{"n", models.TypeNumber, "-1.5e-7"},
		{"b", models.TypeBoolean, "true"},
		{"ts", models.TypeTimestamp, "2024-02-29 23:59:58.123456"},
		{"d", models.TypeDate, "2023-12-31"},
	}
	table := d.Table(Schema, "typed")
	var defs, names, vals []string
	for _, c := range cols {
		defs = append(defs, d.QuoteIdent(c.name)+" "+d.TypeName(c.typ))
		names = append(names, d.QuoteIdent(c.name))
		vals = append(vals, d.Cast(d.QuoteString(c.text), c.typ))
	}
	mustExec(t, w, d.DropTable(table), "CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")",
		"INSERT INTO "+table+" ("+strings.Join(names, ", ")+") VALUES ("+strings.Join(vals, ", ")+")",
		"INSERT INTO "+table+" ("+strings.Join(names, ", ")+") VALUES (NULL, NULL, NULL, NULL, NULL, NULL)")
	rows := queryRows(t, w, "SELECT "+strings.Join(names, ", ")+" FROM "+table+" ORDER BY "+d.QuoteIdent("i")+" NULLS LAST",
		func() []any {
			return []any{new(sql.NullString), new(sql.NullInt64), new(sql.NullFloat64), new(sql.NullBool), new(sql.NullTime), new(sql.NullTime)}
		})
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	r := rows[0]
	if v := r[0].(*sql.NullString); v.String != "héllo 'x'" {
		t.Errorf("string: got %q", v.String)
	}
	if v := r[1].(*sql.NullInt64); v.Int64 != -9007199254740993 {
		t.Errorf("integer: got %d", v.Int64)
	}
	if v := r[2].(*sql.NullFloat64); v.Float64 != -1.5e-7 {
		t.Errorf("number: got %v", v.Float64)
	}
	if v := r[3].(*sql.NullBool); !v.Bool {
		t.Errorf("boolean: got %v", v.Bool)
	}
	if v := r[4].(*sql.NullTime); !v.Time.Equal(ts) {
		t.Errorf("timestamp: got %v, want %v", v.Time, ts)
	}
	if v := r[5].(*sql.NullTime); !v.Time.Equal(day) {
		t.Errorf("date: got %v, want %v", v.Time, day)
	}
	for i, v := range rows[1] {
		if val, err := v.(driver.Valuer).Value(); err != nil || val != nil {
			t.Errorf("NULL row, column %s: got %v, %v", cols[i].name, val, err)
		}
	}
	for _, c := range []struct{ expr, want string }{
		{d.CastText("42"), "42"},
		{d.CastText(d.Cast("'-7'", models.TypeInteger)), "-7"},
		{d.CastText("TRUE"), "true"},
		{d.CastText(d.QuoteString("x'y")), "x'y"},
		{d.Cast("12", models.TypeString), "12"},
	} {
		if got := queryString(t, w, "SELECT "+c.expr); got != c.want {
			t.Errorf("SELECT %s = %q, want %q", c.expr, got, c.want)
		}
	}
}

// substringLiterals are the needles of the Contains/StartsWith/EndsWith test.
var substringLiterals = []string{
	"", "%", "_", `\`, "'", ";", "a", "%_", `\%`, "é", "🎉", "--", `"`, "x'y",
	"off_", "50%", "it's", "quote'", "'starts", "日本", "\n", "*/",
}

// testSubstrings compares Contains, StartsWith and EndsWith with the strings
// package over hostile values and needles.
func testSubstrings(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	vals := HostileStrings()
	table := d.Table(Schema, "substr")
	insertValues(t, w, table, vals)
	for _, lit := range append(slices.Clone(substringLiterals), vals[:12]...) {
		q := fmt.Sprintf("SELECT id, %s, %s, %s FROM %s ORDER BY id",
			d.Contains("v", lit), d.StartsWith("v", lit), d.EndsWith("v", lit), table)
		rows := queryRows(t, w, q, func() []any { return []any{new(int64), new(bool), new(bool), new(bool)} })
		for _, r := range rows {
			v := vals[*r[0].(*int64)]
			got := [3]bool{*r[1].(*bool), *r[2].(*bool), *r[3].(*bool)}
			want := [3]bool{strings.Contains(v, lit), strings.HasPrefix(v, lit), strings.HasSuffix(v, lit)}
			if got != want {
				t.Errorf("value %q, literal %q: contains/starts/ends = %v, want %v", clip(v), lit, got, want)
			}
		}
	}
}

// testRegexp compares RegexpMatch and RegexpReplaceAll with Go's regexp on
// patterns whose meaning RE2 and the other engines share.
func testRegexp(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	vals := HostileStrings()
	table := d.Table(Schema, "regexp")
	insertValues(t, w, table, vals)
	for _, pat := range []string{`^a`, `e$`, `[%_]`, `\\`, `'`, `;\s*`, `\d+`, `^$`, `(ab|cd|it)`, `é`, `🎉`, `^[a-z]+$`, `"`, `[^ -~]`} {
		re := regexp.MustCompile(pat)
		q := fmt.Sprintf("SELECT id, %s FROM %s ORDER BY id", d.RegexpMatch("v", pat), table)
		for _, r := range queryRows(t, w, q, func() []any { return []any{new(int64), new(bool)} }) {
			v := vals[*r[0].(*int64)]
			if got, want := *r[1].(*bool), re.MatchString(v); got != want {
				t.Errorf("RegexpMatch(%q, %q) = %v, want %v", clip(v), pat, got, want)
			}
		}
	}
	checkReplace(t, w, table, vals, []struct{ pat, repl, goRepl string }{
		{`[aeiou]`, "*", "*"},
		{`'`, "''", "''"},
		{`\s+`, "_", "_"},
		{`[;"]`, "", ""},
	})
}

// testRegexpReplaceEscapes checks the escapes of RegexpReplaceAll's
// replacement: \\ for a backslash and \1…\9 for groups.
func testRegexpReplaceEscapes(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	vals := HostileStrings()
	table := d.Table(Schema, "regexp_escapes")
	insertValues(t, w, table, vals)
	checkReplace(t, w, table, vals, []struct{ pat, repl, goRepl string }{
		{`%`, `\\`, `\`},
		{`([a-z]+)@([a-z]+)`, `\2 at \1`, "${2} at ${1}"},
	})
}

// checkReplace compares RegexpReplaceAll with Go's ReplaceAllString over
// the values stored in table.
func checkReplace(t *testing.T, w warehouse.Warehouse, table string, vals []string, cases []struct{ pat, repl, goRepl string }) {
	d := w.Dialect()
	for _, c := range cases {
		re := regexp.MustCompile(c.pat)
		q := fmt.Sprintf("SELECT id, %s FROM %s ORDER BY id", d.RegexpReplaceAll("v", c.pat, c.repl), table)
		for _, r := range queryRows(t, w, q, func() []any { return []any{new(int64), new(string)} }) {
			v := vals[*r[0].(*int64)]
			if got, want := *r[1].(*string), re.ReplaceAllString(v, c.goRepl); got != want {
				t.Errorf("RegexpReplaceAll(%q, %q, %q) = %q, want %q", clip(v), c.pat, c.repl, clip(got), clip(want))
			}
		}
	}
}

// testHash checks MD5Hex and HashFraction against crypto/md5 so that every
// dialect assigns the same hash buckets.
func testHash(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	vals := HostileStrings()
	for i := range 2000 {
		vals = append(vals, fmt.Sprintf("profile-%d", i), fmt.Sprintf("seg|%d|ü", i*7919))
	}
	table := d.Table(Schema, "hash")
	insertValues(t, w, table, vals)
	q := fmt.Sprintf("SELECT id, %s, %s FROM %s ORDER BY id", d.MD5Hex("v"), d.HashFraction("v"), table)
	rows := queryRows(t, w, q, func() []any { return []any{new(int64), new(string), new(float64)} })
	if len(rows) != len(vals) {
		t.Fatalf("got %d rows, want %d", len(rows), len(vals))
	}
	for _, r := range rows {
		v := vals[*r[0].(*int64)]
		sum := md5.Sum([]byte(v))
		if got, want := *r[1].(*string), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("MD5Hex(%q) = %s, want %s", clip(v), got, want)
		}
		if got, want := *r[2].(*float64), HashFraction(v); got != want {
			t.Errorf("HashFraction(%q) = %v, want %v", clip(v), got, want)
		}
	}
}

// testSHA256 checks SHA256Hex against crypto/sha256 over hostile values
// (empty, non-ASCII, 20 kB) and that NULL hashes to NULL.
func testSHA256(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	vals := append(HostileStrings(), "a", "ß", "\u00e9 vs e\u0301", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢")
	table := d.Table(Schema, "sha256")
	insertValues(t, w, table, vals)
	q := fmt.Sprintf("SELECT id, %s FROM %s ORDER BY id", d.SHA256Hex("v"), table)
	rows := queryRows(t, w, q, func() []any { return []any{new(int64), new(string)} })
	if len(rows) != len(vals) {
		t.Fatalf("got %d rows, want %d", len(rows), len(vals))
	}
	for _, r := range rows {
		v := vals[*r[0].(*int64)]
		sum := sha256.Sum256([]byte(v))
		if got, want := *r[1].(*string), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("SHA256Hex(%q) = %s, want %s", clip(v), got, want)
		}
	}
	q = "SELECT " + d.SHA256Hex("v") + " FROM (SELECT " + d.Cast("NULL", models.TypeString) + " AS v) AS n"
	nul := queryRows(t, w, q, func() []any { return []any{new(sql.NullString)} })
	if len(nul) != 1 || nul[0][0].(*sql.NullString).Valid {
		t.Errorf("SHA256Hex(NULL) = %v, want NULL", nul)
	}
}

// byteOrderValues mixes case, accents, digits, punctuation and scripts whose
// linguistic order differs from byte order.
var byteOrderValues = []string{
	"B", "a", "A", "b", "é", "e", "z", "Z", "ä", "😀", "", "10", "9", "_", "-", " ",
	"~", "ß", "ss", "Å", "å", "a b", "ab", "a-b", "aB", "Ab", "日本", "ｚ", "É", "ź", "ǅ",
}

// testByteOrder checks that ORDER BY, MIN and MAX over ByteOrder follow Go's
// byte-wise string order.
func testByteOrder(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	table := d.Table(Schema, "byte_order")
	insertValues(t, w, table, byteOrderValues)
	want := slices.Clone(byteOrderValues)
	sort.Strings(want)
	rows := queryRows(t, w, "SELECT v FROM "+table+" ORDER BY "+d.ByteOrder("v"), func() []any { return []any{new(string)} })
	var got []string
	for _, r := range rows {
		got = append(got, *r[0].(*string))
	}
	if !slices.Equal(got, want) {
		t.Errorf("ORDER BY ByteOrder:\n got %q\nwant %q", got, want)
	}
	q := fmt.Sprintf("SELECT MIN(%s), MAX(%s) FROM %s", d.ByteOrder("v"), d.ByteOrder("v"), table)
	mm := queryRows(t, w, q, func() []any { return []any{new(string), new(string)} })
	if lo, hi := *mm[0][0].(*string), *mm[0][1].(*string); lo != want[0] || hi != want[len(want)-1] {
		t.Errorf("MIN/MAX over ByteOrder = %q, %q; want %q, %q", lo, hi, want[0], want[len(want)-1])
	}
	q = fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s < %s", table, d.ByteOrder("v"), d.ByteOrder(d.QuoteString("a")))
	cnt := queryRows(t, w, q, func() []any { return []any{new(int64)} })
	wantCnt := 0
	for _, v := range byteOrderValues {
		if v < "a" {
			wantCnt++
		}
	}
	if n := *cnt[0][0].(*int64); n != int64(wantCnt) {
		t.Errorf("values < 'a' in byte order: got %d, want %d", n, wantCnt)
	}
}

// testTimestamps round-trips TimestampLiteral and SubtractHours.
func testTimestamps(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	for _, ts := range []time.Time{
		utc(2024, 2, 29, 23, 59, 59, 999999),
		utc(1970, 1, 1, 0, 0, 0, 0),
		utc(2038, 1, 19, 3, 14, 8, 500000),
		utc(1999, 12, 31, 12, 0, 0, 1),
		utc(1900, 3, 1, 1, 2, 3, 0),
		time.Date(2000, 1, 1, 3, 0, 0, 0, zone),
	} {
		for _, h := range []int{0, 1, 7, -30, 24 * 400} {
			lit := d.TimestampLiteral(ts)
			q := "SELECT " + lit + ", " + d.SubtractHours(lit, h)
			rows := queryRows(t, w, q, func() []any { return []any{new(time.Time), new(time.Time)} })
			got, sub := *rows[0][0].(*time.Time), *rows[0][1].(*time.Time)
			if !got.Equal(ts) {
				t.Errorf("TimestampLiteral(%v) read back as %v", ts, got)
			}
			if want := ts.Add(-time.Duration(h) * time.Hour); !sub.Equal(want) {
				t.Errorf("SubtractHours(%v, %d) = %v, want %v", ts, h, sub, want)
			}
		}
	}
}
