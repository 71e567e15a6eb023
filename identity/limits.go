package identity

import (
	"fmt"

	"github.com/cdpkit/cdp/program"
)

// limits rebuilds the components that break a limit, tier by tier, as an
// exact priority-ordered greedy merge (see the package documentation).
func (b *builder) limits() []program.Step {
	nodes, labels := b.w("nodes"), b.w("labels")
	viol, vn, pend, rej, cur := b.w("viol"), b.w("vn"), b.w("pend"), b.w("rej"), b.w("cur")
	te, tl, sv := b.w("tier_pairs"), b.w("tier_labels"), b.w("tier_over")
	ec, cnt, lm := b.w("ec"), b.w("cnt"), b.w("lm")
	tier := "(SELECT tier FROM " + cur + ")"
	sumOne := func(i int) string {
		return fmt.Sprintf("COUNT(CASE WHEN n.id_type = %s THEN 1 END)", b.q(b.lims[i].Name))
	}
	sumTwo := func(i int) string { return fmt.Sprintf("x.lim_%d + y.lim_%d", i, i) }

	var s []program.Step
	s = append(s, b.ctas("components that break a limit", "viol", fmt.Sprintf(
		"SELECT l.label FROM %s l JOIN %s n ON n.node_id = l.node_id GROUP BY l.label HAVING %s",
		labels, nodes, b.overLimit(sumOne)))...)
	s = append(s, b.ctas("their nodes, each its own cluster to start", "vn", fmt.Sprintf(
		"SELECT l.node_id, l.node_id AS cluster FROM %s l WHERE l.label IN (SELECT label FROM %s)", labels, viol))...)
	s = append(s, b.ctas("their links in priority order: tier, earliest timestamp, then value", "pend", fmt.Sprintf(
		"SELECT e.a, e.b, e.tier, ROW_NUMBER() OVER (ORDER BY e.tier, (e.ts IS NULL), e.ts, e.a, e.b) AS ord FROM %s e JOIN %s v ON v.node_id = e.a",
		b.w("edges"), vn))...)
	s = append(s, b.ctas("links dropped by a limit", "rej", fmt.Sprintf(
		"SELECT a, b, ord, %s AS reason FROM %s WHERE 1 = 0", b.d.CastText("NULL"), pend))...)
	s = append(s, b.ctas("the tier being resolved", "cur", "SELECT MIN(tier) AS tier FROM "+pend)...)

	var tierBody []program.Step
	tierBody = append(tierBody, b.ctas("clusters joined by this tier's links", "tier_pairs", fmt.Sprintf(
		`SELECT DISTINCT LEAST(ca.cluster, cb.cluster) AS a, GREATEST(ca.cluster, cb.cluster) AS b
FROM %s e JOIN %s ca ON ca.node_id = e.a JOIN %s cb ON cb.node_id = e.b
WHERE e.tier = %s AND ca.cluster <> cb.cluster`, pend, vn, vn, tier))...)
	tierBody = append(tierBody, b.ctas("", "tier_labels", fmt.Sprintf(
		"SELECT DISTINCT x AS node_id, x AS label FROM (SELECT a AS x FROM %s UNION ALL SELECT b AS x FROM %s) u", te, te))...)
	tierBody = append(tierBody, b.components("tier", "SELECT a, b FROM "+te, tl)...)
	tierBody = append(tierBody, b.ctas("groups of clusters whose union breaks a limit", "tier_over", fmt.Sprintf(
		"SELECT t.label FROM %s t JOIN %s v ON v.cluster = t.node_id JOIN %s n ON n.node_id = v.node_id GROUP BY t.label HAVING %s",
		tl, vn, nodes, b.overLimit(sumOne)))...)
	tierBody = append(tierBody, program.S("merge the groups that fit every limit",
		b.d.UpdateFrom(vn+" AS v", "cluster", "t.label", tl+" AS t",
			"t.node_id = v.cluster AND t.label <> v.cluster AND t.label NOT IN (SELECT label FROM "+sv+")")))

	var resolve []program.Step
	resolve = append(resolve, b.ctas("pending links of the tier with their clusters", "ec", fmt.Sprintf(
		`SELECT e.ord, e.a, e.b, ca.cluster AS ca, cb.cluster AS cb
FROM %s e JOIN %s ca ON ca.node_id = e.a JOIN %s cb ON cb.node_id = e.b
WHERE e.tier = %s`, pend, vn, vn, tier))...)
	resolve = append(resolve, program.S("links inside one cluster are settled",
		fmt.Sprintf("DELETE FROM %s WHERE ord IN (SELECT ord FROM %s WHERE ca = cb)", pend, ec)))
	resolve = append(resolve, b.ctas("limited identifiers per cluster", "cnt", fmt.Sprintf(
		"SELECT v.cluster, %s FROM %s v JOIN %s n ON n.node_id = v.node_id WHERE v.cluster IN (SELECT ca FROM %s UNION ALL SELECT cb FROM %s) GROUP BY v.cluster",
		b.limitCountCols("n.id_type"), vn, nodes, ec, ec))...)
	resolve = append(resolve, program.S("reject links whose clusters together break a limit (clusters only grow: final)", fmt.Sprintf(
		`INSERT INTO %s (a, b, ord, reason)
SELECT ec.a, ec.b, ec.ord, %s
FROM %s ec JOIN %s x ON x.cluster = ec.ca JOIN %s y ON y.cluster = ec.cb
WHERE ec.ca <> ec.cb AND %s`, rej, b.limitReason(sumTwo), ec, cnt, cnt, b.overLimit(sumTwo))))
	resolve = append(resolve, program.S("", fmt.Sprintf(
		"DELETE FROM %s WHERE ord IN (SELECT ord FROM %s)", pend, rej)))
	resolve = append(resolve, b.ctas("accept links that are the earliest pending link at both of their clusters", "lm", fmt.Sprintf(
		`WITH r AS (
  SELECT ec.ord, ec.ca, ec.cb FROM %s ec WHERE ec.ca <> ec.cb AND ec.ord NOT IN (SELECT ord FROM %s)
), mo AS (
  SELECT c, MIN(ord) AS m FROM (SELECT ca AS c, ord FROM r UNION ALL SELECT cb AS c, ord FROM r) u GROUP BY c
)
SELECT r.ord, r.ca, r.cb FROM r
JOIN mo ma ON ma.c = r.ca AND ma.m = r.ord
JOIN mo mb ON mb.c = r.cb AND mb.m = r.ord`, ec, rej))...)
	resolve = append(resolve, program.S("merge the accepted links' clusters", b.d.UpdateFrom(vn+" AS v", "cluster", "m.dst",
		fmt.Sprintf("(SELECT ca AS c, LEAST(ca, cb) AS dst FROM %s UNION ALL SELECT cb AS c, LEAST(ca, cb) AS dst FROM %s) AS m", lm, lm),
		"m.c = v.cluster AND m.dst <> v.cluster")))
	resolve = append(resolve, program.S("", fmt.Sprintf(
		"DELETE FROM %s WHERE ord IN (SELECT ord FROM %s)", pend, lm)))

	tierBody = append(tierBody, program.Step{Loop: &program.Loop{
		Label:     "resolve the tier's remaining links in priority order",
		Until:     fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE tier = %s", pend, tier),
		Body:      resolve,
		MaxRounds: b.rounds(100000),
	}})
	tierBody = append(tierBody, program.S("next tier", fmt.Sprintf(
		"UPDATE %s SET tier = (SELECT MIN(tier) FROM %s) WHERE TRUE", cur, pend)))

	s = append(s, program.Step{Loop: &program.Loop{
		Label:     "limits: rebuild breaking components tier by tier, strongest first",
		Until:     program.CountRows(pend),
		Body:      tierBody,
		MaxRounds: len(b.p.Identity.IDTypes) + 1,
	}})
	return s
}
