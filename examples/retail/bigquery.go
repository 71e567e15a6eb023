package retail

import (
	"strings"

	"github.com/cdpkit/cdp/models"
)

// AdaptForBigQuery rewrites the example's two source expressions written for
// DuckDB and PostgreSQL (and accepted by Snowflake) into GoogleSQL, as a
// BigQuery user of the example would: VARCHAR is STRING, and the euro rates
// become NUMERIC literals so that amounts stay exact decimals (a bare 1.17
// is FLOAT64 in BigQuery). Everything the CDP itself generates is unchanged.
// It returns how many expressions it rewrote (2 for the example as shipped).
func AdaptForBigQuery(p *models.Project) int {
	n := 0
	for _, s := range p.Sources {
		for _, id := range s.Identifiers {
			if strings.Contains(id.Expr, "AS VARCHAR") {
				id.Expr = strings.ReplaceAll(id.Expr, "AS VARCHAR", "AS STRING")
				n++
			}
		}
		if strings.Contains(s.SQL, "NUMERIC(12, 2)") {
			r := strings.NewReplacer("NUMERIC(12, 2)) * 1.17", "NUMERIC) * NUMERIC '1.17'",
				"NUMERIC(12, 2)) * 0.92", "NUMERIC) * NUMERIC '0.92'", "NUMERIC(12, 2))", "NUMERIC)")
			s.SQL = r.Replace(s.SQL)
			n++
		}
	}
	return n
}
