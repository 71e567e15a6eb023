package privacy

import (
	"context"
	"fmt"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// SourceRows is what Report found in one source for one identifier.
type SourceRows struct {
	Source     string `json:"source"`
	Identifier string `json:"identifier"` // the column (or expression) and its id type
	Rows       int64  `json:"rows"`       // -1 when it could not be counted (see Note)
	// DeleteSQL deletes those rows (matching by the tombstone hashes, so it
	// holds no plain value); "" when the identifier is not a plain column.
	DeleteSQL string `json:"delete_sql,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Report lists, per source table and identifier column, the rows that
// still hold a tombstoned identifier. The sources are the user's: `cdp`
// never deletes from them, it only excludes those rows from every run.
func Report(ctx context.Context, w warehouse.Warehouse, t layout.Tables, p *models.Project) ([]SourceRows, error) {
	if err := Ensure(ctx, w, t); err != nil {
		return nil, err
	}
	salt, err := readSalt(ctx, w, t)
	if err != nil || salt == "" {
		return nil, err
	}
	d := t.D
	var out []SourceRows
	for _, s := range p.Sources {
		for _, id := range s.Identifiers {
			it := p.IDType(id.Type)
			if it == nil {
				continue
			}
			if n, err := count(ctx, w, "SELECT COUNT(*) FROM "+t.Q(t.Tombstones())+" WHERE id_type = "+d.QuoteString(id.Type)); err != nil {
				return nil, err
			} else if n == 0 {
				continue
			}
			r := SourceRows{Source: s.Name, Identifier: id.Column + " (" + id.Type + ")", Rows: -1}
			switch {
			case s.SQL != "" || id.Column == "":
				r.Identifier = id.Type
				r.Note = "the source or identifier is SQL: find its rows upstream by the person's " + id.Type
				out = append(out, r)
				continue
			case it.Normalize == "phone":
				r.Note = "phone numbers are matched after libphonenumber parsing, which the tombstone hash cannot reverse: find the rows upstream by the person's number"
				out = append(out, r)
				continue
			}
			cond := fmt.Sprintf("%s IN (SELECT id_hash FROM %s WHERE id_type = %s)",
				HashSQL(d, salt, d.QuoteString(id.Type), identity.NormalizeSQL(d, it, d.QuoteIdent(id.Column))),
				t.Q(t.Tombstones()), d.QuoteString(id.Type))
			n, err := count(ctx, w, "SELECT COUNT(*) FROM "+d.Relation(s.Table)+" WHERE "+cond)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			if n == 0 {
				continue
			}
			r.Rows = n
			r.DeleteSQL = "DELETE FROM " + d.Relation(s.Table) + " WHERE " + cond
			out = append(out, r)
		}
	}
	return out, nil
}
