package phone

import (
	"strconv"
	"strings"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// RegionsTable names the metadata table of a metadata version.
func RegionsTable(version string) string { return "cdp_phone_regions_" + version }

// regionColumns are the metadata table's columns (all text but ord,
// nregions, min_length, max_length and chunk).
func regionColumns() []string {
	cols := []string{"chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths",
		"min_length", "max_length", "local_lengths", "leading_digits"}
	for i := 0; i < NumTypes; i++ {
		cols = append(cols, "t"+strconv.Itoa(i), "t"+strconv.Itoa(i)+"_lengths")
	}
	return cols
}

func isIntColumn(c string) bool {
	switch c {
	case "chunk", "ord", "nregions", "min_length", "max_length":
		return true
	}
	return false
}

// chunkSize is how many regions one INSERT writes.
const chunkSize = 40

// Setup renders the statements that create and fill the metadata table
// (quoted, qualified name table) when it is missing or incomplete. They are
// idempotent: each chunk of rows is inserted only when absent.
func Setup(d warehouse.Dialect, table string) []string {
	meta, _ := Metadata()
	cols := regionColumns()
	var ddl []string
	for _, c := range cols {
		t := models.TypeString
		if isIntColumn(c) {
			t = models.TypeInteger
		}
		ddl = append(ddl, d.QuoteIdent(c)+" "+d.TypeName(t))
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = d.QuoteIdent(c)
	}
	out := []string{"CREATE TABLE IF NOT EXISTS " + table + " (" + strings.Join(ddl, ", ") + ")"}
	for start := 0; start < len(meta.Regions); start += chunkSize {
		chunk := start / chunkSize
		var rows []string
		for _, r := range meta.Regions[start:min(start+chunkSize, len(meta.Regions))] {
			rows = append(rows, "SELECT "+strings.Join(regionValues(d, chunk, r), ", "))
		}
		out = append(out, "INSERT INTO "+table+" ("+strings.Join(quoted, ", ")+")\nSELECT * FROM (\n"+
			strings.Join(rows, "\nUNION ALL ")+"\n) AS v\nWHERE NOT EXISTS (SELECT 1 FROM "+table+" WHERE "+
			d.QuoteIdent("chunk")+" = "+strconv.Itoa(chunk)+")")
	}
	return out
}

func regionValues(d warehouse.Dialect, chunk int, r Region) []string {
	q := d.QuoteString
	minL, maxL := -1, -1
	if len(r.Lengths) > 0 && r.Lengths[0] != -1 {
		minL, maxL = r.Lengths[0], r.Lengths[len(r.Lengths)-1]
	}
	cols := regionColumns()
	v := []string{strconv.Itoa(chunk), q(r.ID), q(strconv.Itoa(r.CC)), strconv.Itoa(r.Ord), strconv.Itoa(r.NRegions),
		q(r.IDD), q(r.NPP), q(r.NPT), q(r.Probe), q(r.General), q(lengthList(r.Lengths)),
		strconv.Itoa(minL), strconv.Itoa(maxL), q(lengthList(r.Local)), q(r.Leading)}
	for _, t := range r.Types {
		v = append(v, q(t.Pattern), q(lengthList(t.Lengths)))
	}
	for i := range v {
		v[i] += " AS " + d.QuoteIdent(cols[i])
	}
	return v
}

// lengthList renders lengths as ",4,5," ("" for none).
func lengthList(ls []int) string {
	if len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte(',')
	for _, l := range ls {
		b.WriteString(strconv.Itoa(l))
		b.WriteByte(',')
	}
	return b.String()
}
