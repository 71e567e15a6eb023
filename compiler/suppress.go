package compiler

import (
	"fmt"
	"io"
	"strings"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// suppressBatch is the number of rows per INSERT of a suppression file.
const suppressBatch = 500

// suppressValue is one identifier of a suppression file: its type, the
// value normalized like the type's identifiers ("" when the normalizer
// rejects it), the value as written and why it was rejected.
type suppressValue struct {
	IDType, Value, Raw, Reason string
}

// readSuppressFile reads a suppression list's CSV file (relative to the
// project root) and normalizes every identifier cell in Go, like the
// warehouse normalizes source identifiers. Empty cells are skipped; a cell
// the normalizer rejects is kept with its reason, so nothing is dropped
// without a trace.
func readSuppressFile(p *models.Project, s *models.Suppression) ([]suppressValue, error) {
	r, header, closeFile, err := models.OpenCSV(s.FilePath(p.Root))
	if err != nil {
		return nil, fmt.Errorf("suppression list %s: file %s: %w", s.Name, s.File, err)
	}
	defer closeFile()
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	var out []suppressValue
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("suppression list %s: file %s: %w", s.Name, s.File, err)
		}
		for _, id := range s.Identifiers {
			i, ok := col[id.Column]
			if !ok {
				return nil, fmt.Errorf("suppression list %s: file %s has no column %q", s.Name, s.File, id.Column)
			}
			if i >= len(row) || strings.TrimSpace(row[i]) == "" {
				continue
			}
			it := p.IDType(id.Type)
			if it == nil {
				continue // reported by validate
			}
			v := suppressValue{IDType: id.Type, Raw: row[i]}
			if norm, ok := identity.NormalizeGoIn(it, row[i], ""); ok {
				v.Value = norm
			} else {
				v.Reason = identity.InvalidGoIn(it, row[i], "")
				if v.Reason == "" {
					v.Reason = "rejected by the normalizer"
				}
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// suppressFileSteps load every suppression file into its SuppressList
// table (list, id_type, id_value, raw_value, reason), replaced by each run.
func suppressFileSteps(p *models.Project, t layout.Tables) ([]Step, error) {
	d := t.D
	text := d.TypeName(models.TypeString)
	var steps []Step
	for _, s := range p.Suppressions {
		if s.File == "" {
			continue
		}
		vals, err := readSuppressFile(p, s)
		if err != nil {
			return nil, err
		}
		tbl := t.Q(t.SuppressList(s.Name))
		steps = append(steps,
			S("replace the suppression list "+safeComment(s.Name)+" (file "+safeComment(s.File)+")", d.DropTable(tbl)),
			S("", "CREATE TABLE "+tbl+" (list "+text+", id_type "+text+", id_value "+text+", raw_value "+text+", reason "+text+")"))
		for start := 0; start < len(vals); start += suppressBatch {
			end := min(start+suppressBatch, len(vals))
			rows := make([]string, 0, end-start)
			for _, v := range vals[start:end] {
				rows = append(rows, "("+d.QuoteString(s.Name)+", "+d.QuoteString(v.IDType)+", "+nullable(t, v.Value)+", "+
					d.QuoteString(v.Raw)+", "+nullable(t, v.Reason)+")")
			}
			steps = append(steps, S("", "INSERT INTO "+tbl+" (list, id_type, id_value, raw_value, reason) VALUES\n"+strings.Join(rows, ",\n")))
		}
	}
	return steps, nil
}

// nullable quotes a literal, or NULL for "".
func nullable(t layout.Tables, v string) string {
	if v == "" {
		return t.D.CastText("NULL")
	}
	return t.D.QuoteString(v)
}

// suppressedSQL selects the profiles that carry an identifier of a
// suppression list, once per (profile, list, id type).
func suppressedSQL(p *models.Project, t layout.Tables) string {
	d := t.D
	q := d.QuoteIdent
	var parts []string
	for _, s := range p.Suppressions {
		if s.File != "" {
			parts = append(parts, "SELECT "+d.QuoteString(s.Name)+" AS list, id_type, id_value FROM "+t.Q(t.SuppressList(s.Name)))
			continue
		}
		for _, id := range s.Identifiers {
			it := p.IDType(id.Type)
			if it == nil || it.Normalize == "phone" {
				continue // reported by validate
			}
			parts = append(parts, "SELECT "+d.QuoteString(s.Name)+" AS list, "+d.QuoteString(id.Type)+" AS id_type, "+
				identity.NormalizeSQL(d, it, "l."+q(id.Column))+" AS id_value FROM "+d.Relation(s.Table)+" AS l")
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "SELECT "+d.CastText("NULL")+" AS list, "+d.CastText("NULL")+" AS id_type, "+d.CastText("NULL")+" AS id_value"+warehouse.NoRows)
	}
	return "SELECT DISTINCT i.profile_id, l.list, l.id_type\nFROM (\n" + strings.Join(parts, "\nUNION ALL\n") + "\n) AS l\n" +
		"JOIN " + t.Q(t.Identifiers()) + " AS i ON i.id_type = l.id_type AND i.id_value = l.id_value"
}
