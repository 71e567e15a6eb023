package phone

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/cdpkit/cdp/warehouse"
)

// Reasons a phone value is rejected with (the audit table's reason column).
// ReasonInvalidFor is followed by the number's region ("GB", or "+800" for
// a non-geographical calling code).
const (
	ReasonNotANumber  = "not a phone number"
	ReasonCountryCode = "invalid country code"
	ReasonShortIDD    = "too short after the international prefix"
	ReasonTooShort    = "too short"
	ReasonTooLong     = "too long"
	ReasonInvalidFor  = "invalid number for "
	maxInputLength    = 250
	minNSN, maxNSN    = 2, 17
	otherDigits       = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669" +
		"\u06F0\u06F1\u06F2\u06F3\u06F4\u06F5\u06F6\u06F7\u06F8\u06F9" +
		"\uFF10\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18\uFF19"
	asciiDigits        = "012345678901234567890123456789"
	alphaLetters       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	keypadDigits       = "2223334445556667777888999922233344455566677778889999"
	plusChars          = "+\uFF0B"
	validPunctuation   = "-x\u2010-\u2015\u2212\u30FC\uFF0D-\uFF0F \u00A0\u00AD\u200B\u2060\u3000()\uFF08\uFF09\uFF3B\uFF3D.\\[\\]/~\u2053\u223C\uFF5E"
	extSeparators      = "[ \u00A0\t,]*"
	extSeparatorsNoCom = "[ \u00A0\t]*"
	extAfterLabel      = "[:.\uFF0E]?[ \u00A0\t,-]*"
	extExplicitLabels  = "(?:e?xt(?:ensi(?:o\u0301?|\u00F3))?n?|\uFF45?\uFF58\uFF54\uFF4E?|\u0434\u043E\u0431|anexo)"
	extAmbiguousLabels = "(?:[x\uFF58#\uFF03~\uFF5E]|int|\uFF49\uFF4E\uFF54)"
)

// extPatterns is libphonenumber's EXTN_PATTERNS_FOR_PARSING over
// lower-cased text whose digits are ASCII (see Build).
var extPatterns = ";ext=[0-9]{1,20}|" +
	extSeparators + extExplicitLabels + extAfterLabel + "[0-9]{1,20}#?|" +
	extSeparators + extAmbiguousLabels + extAfterLabel + "[0-9]{1,9}#?|" +
	"[- ]+[0-9]{1,6}#|" +
	extSeparatorsNoCom + "(?:,{2}|;)" + extAfterLabel + "[0-9]{1,15}#?|" +
	extSeparatorsNoCom + ",+" + extAfterLabel + "[0-9]{1,9}#?"

// viablePattern is libphonenumber's VALID_PHONE_NUMBER_PATTERN over
// lower-cased text whose digits are ASCII.
var viablePattern = "^(?:[0-9]{2}|[" + plusChars + "]*(?:[" + validPunctuation + "*]*[0-9]){3,}[" +
	validPunctuation + "*a-z0-9]*(?:" + extPatterns + ")?)$"

// Pipeline is the SQL of one normalization: Setup runs first (scratch
// tables, on engines without materialized WITH queries), then Select gives
// the rows, then Cleanup drops the scratch tables.
type Pipeline struct {
	Setup   []string
	Select  string
	Cleanup []string
}

var stageRef = regexp.MustCompile(`\bph_[a-z0-9]+\b`)

// Build renders the normalization as a Pipeline (see query for input and
// output). On dialects with materialized WITH queries it is one query; on
// the others every stage is a scratch table named by scratch(stage).
func Build(d warehouse.Dialect, regions, input string, scratch func(stage string) string) Pipeline {
	stages := query(d, regions, input)
	if m, ok := d.(interface{ MaterializedCTE() string }); ok {
		var w strings.Builder
		for i, st := range stages[:len(stages)-1] {
			if i == 0 {
				w.WriteString("WITH ")
			} else {
				w.WriteString(",\n")
			}
			w.WriteString(st.name + " AS " + m.MaterializedCTE() + "(\n" + st.body + "\n)")
		}
		return Pipeline{Select: w.String() + "\n" + stages[len(stages)-1].body}
	}
	names := map[string]string{}
	var p Pipeline
	for _, st := range stages {
		body := stageRef.ReplaceAllStringFunc(st.body, func(n string) string {
			if t, ok := names[n]; ok {
				return t
			}
			return n
		})
		if st.name == "" {
			p.Select = body
			break
		}
		names[st.name] = scratch(st.name)
		p.Setup = append(p.Setup, warehouse.CreateScratchTableAs(d, names[st.name], body)...)
		p.Cleanup = append(p.Cleanup, d.DropTable(names[st.name]))
	}
	p.Setup, p.Cleanup = warehouse.Script(d, p.Setup), warehouse.Script(d, p.Cleanup)
	return p
}

type stage struct{ name, body string }

// query lists the stages of the SELECT that normalizes phone numbers the way
// libphonenumber parses them (phonenumbers.Parse, then IsValidNumber, then
// E.164). input is a relation with the text columns raw and region (an ISO
// region code libphonenumber supports, or ” when unknown); the result has
// raw, region, e164 (NULL when invalid) and reason (NULL when valid).
// regions is the (quoted, qualified) metadata table of Setup.
func query(d warehouse.Dialect, regions, input string) []stage {
	q := d.QuoteString
	m := func(expr, pattern string) string { return d.RegexpMatch(expr, pattern) }
	re := func(expr, pattern, repl string) string { return d.RegexpReplaceAll(expr, pattern, repl) }
	dm := func(expr, patternExpr string) string { return d.RegexpMatchExpr(expr, patternExpr) }
	full := func(expr, pat string) string { return dm(expr, "'^(?:' || "+pat+" || ')$'") }
	start := func(expr, pat string) string { return dm(expr, "'^(?:' || "+pat+" || ')'") }
	txt := d.CastText
	lenIn := func(list, expr string) string {
		return "STRPOS(" + list + ", ',' || " + txt("LENGTH("+expr+")") + " || ',') > 0"
	}
	// possible: testNumberLength gives IS_POSSIBLE or TOO_LONG
	possible := func(x, r string) string {
		return "(NOT " + lenIn(r+".local_lengths", x) + " AND " + r + ".min_length <> -1 AND (LENGTH(" + x + ") > " +
			r + ".max_length OR " + lenIn(r+".lengths", x) + "))"
	}
	tooLong := func(x, r string) string {
		return "(NOT " + lenIn(r+".local_lengths", x) + " AND " + r + ".min_length <> -1 AND LENGTH(" + x + ") > " +
			r + ".max_length)"
	}
	// stripCand: the national number without its national prefix (or with
	// the transform rule applied), before the viability check of strip.
	stripCand := func(x, r string) string {
		pre := "'^(?:' || " + r + ".npp || ')'"
		return "CASE WHEN " + r + ".npp IS NULL OR " + r + ".npp = '' OR " + x + " = '' OR NOT " + start(x, r+".npp") +
			" THEN " + x +
			" WHEN " + r + ".npt <> '' AND " + dm(x, r+".probe") + " THEN " + d.RegexpReplaceExpr(x, pre, r+".npt") +
			" ELSE SUBSTR(" + x + ", LENGTH(" + x + ") - LENGTH(" + d.RegexpReplaceExpr(x, pre, "''") + ") + 1) END"
	}
	strip := func(x, cand, r string) string {
		return "CASE WHEN " + r + ".npp IS NOT NULL AND " + full(x, r+".general") + " AND NOT " +
			full(cand, r+".general") + " THEN " + x + " ELSE " + cand + " END"
	}
	meta, _ := Metadata()
	cc3 := func(x string) string {
		var b strings.Builder
		b.WriteString("CASE")
		for i := 0; i < 3; i++ {
			if len(meta.CCs[i]) == 0 {
				continue
			}
			sub := "SUBSTR(" + x + ", 1, " + strconv.Itoa(i+1) + ")"
			b.WriteString(" WHEN " + sub + " IN (" + quoteAll(d, meta.CCs[i]) + ") THEN " + sub)
		}
		b.WriteString(" END")
		return b.String()
	}
	lower := d.Lower
	viable := func(x string) string { return "(LENGTH(" + x + ") >= 2 AND " + m(lower(x), viablePattern) + ")" }

	var stages []stage
	cte := func(name, body string) { stages = append(stages, stage{name, body}) }
	// 1. digits of other scripts as ASCII; the RFC 3966 phone-context
	cte("ph_in", "SELECT raw, COALESCE(region, '') AS region, TRANSLATE(raw, "+q(otherDigits)+", "+q(asciiDigits)+") AS s\nFROM "+input)
	cte("ph_ctx", "SELECT raw, region, s, STRPOS(s, ';phone-context=') AS pc, STRPOS(s, 'tel:') AS tel,\n"+
		"  CASE WHEN STRPOS(s, ';phone-context=') > 0 THEN SUBSTR(s, STRPOS(s, ';phone-context=') + 15) END AS ctx_tail\nFROM ph_in")
	cte("ph_ctx2", "SELECT raw, region, s, pc, tel,\n"+
		"  CASE WHEN STRPOS(ctx_tail, ';') > 0 THEN SUBSTR(ctx_tail, 1, STRPOS(ctx_tail, ';') - 1) ELSE ctx_tail END AS ctx\nFROM ph_ctx")
	// 2. the national number for parsing (buildNationalNumberForParsing)
	extract := "CASE WHEN " + m("s", "["+plusChars+"0-9]") + " THEN " +
		re(re("s", "^[^"+plusChars+"0-9]+", ""), `[\\/] *x(?:.|\n)*$`, "") + " ELSE '' END"
	telStart := "CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END"
	cte("ph_nat", "SELECT raw, region,\n"+
		"  (pc > 0 AND (ctx IS NULL OR ctx = '' OR NOT ("+m("ctx", `^\+(?:[0-9]|[-.()])*[0-9](?:[0-9]|[-.()])*$`)+" OR "+
		m("ctx", `^(?:[a-zA-Z0-9]+(?:-*[a-zA-Z0-9])*\.)*[a-zA-Z]+(?:-*[a-zA-Z0-9])*\.?$`)+"))) AS bad_ctx,\n"+
		"  CASE WHEN pc > 1 THEN CASE WHEN ctx LIKE '+%' THEN ctx ELSE '' END || SUBSTR(s, "+telStart+", pc - ("+telStart+"))\n"+
		"    ELSE "+extract+" END AS nn0\nFROM ph_ctx2")
	cte("ph_nat2", "SELECT raw, region, bad_ctx,\n"+
		"  CASE WHEN STRPOS(nn0, ';isub=') > 1 THEN SUBSTR(nn0, 1, STRPOS(nn0, ';isub=') - 1) ELSE nn0 END AS nn1\nFROM ph_nat")
	// 3. viability, the region check, the extension (maybeStripExtension)
	extLen := "LENGTH(" + re(lower("nn1"), "(?:"+extPatterns+")$", "") + ")"
	cte("ph_ext", "SELECT raw, region, bad_ctx, nn1, "+viable("nn1")+" AS viable,\n"+
		"  "+extLen+" AS ext_at\nFROM ph_nat2")
	cte("ph_nn", "SELECT raw, region, bad_ctx, viable, "+m("nn1", "["+plusChars+"]")+" AS has_plus,\n"+
		"  CASE WHEN ext_at < LENGTH(nn1) AND "+viable("SUBSTR(nn1, 1, ext_at)")+" THEN SUBSTR(nn1, 1, ext_at) ELSE nn1 END AS nn\nFROM ph_ext")
	// 4. a leading plus; normalize (vanity letters on the keypad, digits only)
	cte("ph_rest", "SELECT raw, region, bad_ctx, viable, has_plus, "+m("nn", "^["+plusChars+"]")+" AS plus,\n"+
		"  "+re("nn", "^["+plusChars+"]+", "")+" AS rest\nFROM ph_nn")
	alpha := "(STRPOS(rest, " + q("\n") + ") = 0 AND LENGTH(" + re("rest", "[^A-Za-z]", "") + ") >= 3)"
	cte("ph_d", "SELECT raw, region, bad_ctx, viable, has_plus, plus,\n"+
		"  "+re("CASE WHEN "+alpha+" THEN TRANSLATE(rest, "+q(alphaLetters)+", "+q(keypadDigits)+") ELSE rest END", "[^0-9]", "")+" AS dg\nFROM ph_rest")
	// 5. the international prefix of the region and the country code
	iddLen := "LENGTH(dg) - LENGTH(" + d.RegexpReplaceExpr("dg", "'^(?:' || r.idd || ')'", "''") + ")"
	cte("ph_idd", "SELECT k.raw, k.region, k.bad_ctx, k.viable, k.has_plus, k.plus, k.dg, r.cc AS region_cc,\n"+
		"  CASE WHEN r.idd IS NOT NULL AND r.idd <> '' THEN "+iddLen+" ELSE 0 END AS idd_len\n"+
		"FROM ph_d k LEFT JOIN "+regions+" r ON r.id = k.region")
	cte("ph_cc", "SELECT raw, region, bad_ctx, viable, has_plus, plus, dg, region_cc,\n"+
		"  (idd_len > 0 AND SUBSTR(dg, idd_len + 1, 1) <> '0') AS idd, SUBSTR(dg, idd_len + 1) AS after_idd,\n"+
		"  "+cc3("dg")+" AS cc_plus, "+cc3("SUBSTR(dg, idd_len + 1)")+" AS cc_idd,\n"+
		"  CASE WHEN region_cc IS NOT NULL AND SUBSTR(dg, 1, LENGTH(region_cc)) = region_cc THEN SUBSTR(dg, LENGTH(region_cc) + 1) END AS p0\n"+
		"FROM ph_idd")
	// the national number a default-region number has once its country code
	// is taken off (maybeExtractCountryCode, number without +)
	cte("ph_p1", "SELECT k.*, "+stripCand("k.p0", "r")+" AS p_cand\nFROM ph_cc k LEFT JOIN "+regions+" r ON r.id = k.region")
	cte("ph_p2", "SELECT k.*, CASE WHEN k.p0 IS NULL THEN NULL ELSE "+strip("k.p0", "k.p_cand", "r")+" END AS p1,\n"+
		"  CASE WHEN k.p0 IS NULL THEN FALSE ELSE "+tooLong("k.dg", "r")+" END AS dg_too_long,\n"+
		"  CASE WHEN k.p0 IS NULL THEN FALSE ELSE "+full("k.dg", "r.general")+" END AS dg_valid\n"+
		"FROM ph_p1 k LEFT JOIN "+regions+" r ON r.id = k.region")
	cte("ph_p3", "SELECT k.*, CASE WHEN k.p1 IS NULL THEN FALSE ELSE "+full("k.p1", "r.general")+" END AS p1_valid\n"+
		"FROM ph_p2 k LEFT JOIN "+regions+" r ON r.id = k.region")
	// the path without a plus (also the retry of a plus number whose code is unknown)
	noPlusCC := "CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END"
	noPlusN := "CASE WHEN idd THEN SUBSTR(after_idd, LENGTH(cc_idd) + 1) WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN p1 END"
	reason := "CASE WHEN LENGTH(raw) > " + strconv.Itoa(maxInputLength) + " THEN " + q(ReasonTooLong) +
		" WHEN bad_ctx OR NOT viable THEN " + q(ReasonNotANumber) +
		" WHEN region = '' AND NOT has_plus THEN " + q(ReasonCountryCode) +
		" WHEN plus AND LENGTH(dg) <= 2 THEN " + q(ReasonShortIDD) +
		" WHEN plus AND cc_plus IS NOT NULL THEN NULL" +
		" WHEN idd AND LENGTH(after_idd) <= 2 THEN " + q(ReasonShortIDD) +
		" WHEN idd AND cc_idd IS NULL THEN " + q(ReasonCountryCode) +
		" WHEN plus AND (" + noPlusCC + ") IS NULL THEN " + q(ReasonCountryCode) +
		" WHEN region = '' AND (" + noPlusCC + ") IS NULL THEN " + q(ReasonCountryCode) + " END"
	cte("ph_pick", "SELECT raw, region, "+reason+" AS reason0,\n"+
		"  CASE WHEN plus AND cc_plus IS NOT NULL THEN cc_plus ELSE COALESCE("+noPlusCC+", region_cc) END AS cc,\n"+
		"  CASE WHEN plus AND cc_plus IS NOT NULL THEN SUBSTR(dg, LENGTH(cc_plus) + 1) ELSE COALESCE("+noPlusN+", dg) END AS n0,\n"+
		"  ((plus AND cc_plus IS NOT NULL) OR ("+noPlusCC+") IS NOT NULL) AS cc_found\nFROM ph_p3")
	// 6. the national prefix of the number's region (or of the default one)
	cte("ph_m", "SELECT k.raw, k.region, k.reason0, k.cc, k.n0, COALESCE(mc.id, mr.id) AS meta_id\n"+
		"FROM ph_pick k LEFT JOIN "+regions+" mc ON k.cc_found AND mc.cc = k.cc AND mc.ord = 0\n"+
		"LEFT JOIN "+regions+" mr ON NOT k.cc_found AND mr.id = k.region")
	cte("ph_s1", "SELECT k.raw, k.region, k.reason0, k.cc, k.n0, k.meta_id, "+stripCand("k.n0", "r")+" AS n_cand\n"+
		"FROM ph_m k LEFT JOIN "+regions+" r ON r.id = k.meta_id")
	cte("ph_s2", "SELECT k.raw, k.region, k.reason0, k.cc, k.n0, "+strip("k.n0", "k.n_cand", "r")+" AS n_strip, k.meta_id\n"+
		"FROM ph_s1 k LEFT JOIN "+regions+" r ON r.id = k.meta_id")
	cte("ph_n", "SELECT k.raw, k.region, k.cc,\n"+
		"  COALESCE(k.reason0, CASE WHEN LENGTH(k.n0) < "+strconv.Itoa(minNSN)+" THEN "+q(ReasonTooShort)+" END) AS reason1,\n"+
		"  CASE WHEN r.id IS NOT NULL AND "+possible("k.n_strip", "r")+" THEN k.n_strip ELSE k.n0 END AS nsn\n"+
		"FROM ph_s2 k LEFT JOIN "+regions+" r ON r.id = k.meta_id")
	cte("ph_len", "SELECT raw, region, cc, nsn, COALESCE(reason1,\n"+
		"  CASE WHEN LENGTH(nsn) < "+strconv.Itoa(minNSN)+" THEN "+q(ReasonTooShort)+" WHEN LENGTH(nsn) > "+strconv.Itoa(maxNSN)+
		" THEN "+q(ReasonTooLong)+" END) AS reason\nFROM ph_n")
	// 7. validity: the region of the number among those of its calling code
	// (getRegionCodeForNumber), then its number types (getNumberTypeHelper)
	genOK := "((c.lengths = '' OR " + lenIn("c.lengths", "k.nsn") + ") AND " + full("k.nsn", "c.general") + ")"
	var typeOK []string
	for i := 0; i < NumTypes; i++ {
		p, l := "c.t"+strconv.Itoa(i), "c.t"+strconv.Itoa(i)+"_lengths"
		typeOK = append(typeOK, "("+p+" <> '' AND ("+l+" = '' OR "+lenIn(l, "k.nsn")+") AND "+full("k.nsn", p)+")")
	}
	claim := "CASE WHEN k.nregions = 1 THEN 1 WHEN k.leading_digits <> '' THEN CASE WHEN " + start("k.nsn", "k.leading_digits") +
		" THEN 1 ELSE 0 END WHEN k.ok THEN 1 ELSE 0 END"
	// Each stage reads only the one before it (no self-join on raw and
	// region, which the BigQuery emulator re-evaluates): the candidates
	// carry the parsed number, a LEFT JOIN keeps numbers without one, and
	// the grouping picks the first claiming region and checks it is valid.
	cte("ph_cand", "SELECT k.raw, k.region, k.cc, k.nsn, k.reason, c.ord, c.nregions, c.leading_digits,\n"+
		"  ("+genOK+" AND ("+strings.Join(typeOK, "\n    OR ")+")) AS ok\n"+
		"FROM ph_len k LEFT JOIN "+regions+" c ON c.cc = k.cc AND k.reason IS NULL")
	cte("ph_claim", "SELECT k.raw, k.region, k.cc, k.nsn, k.reason, k.ord, CASE WHEN k.ok THEN 1 ELSE 0 END AS ok,\n  "+
		claim+" AS claim\nFROM ph_cand k")
	cte("ph_valid", "SELECT raw, region, MIN(cc) AS cc, MIN(nsn) AS nsn, MIN(reason) AS reason,\n"+
		"  MIN(CASE WHEN claim = 1 THEN ord END) AS chosen, MIN(CASE WHEN claim = 1 AND ok = 1 THEN ord END) AS chosen_ok\n"+
		"FROM ph_claim\nGROUP BY raw, region")
	valid := "(k.chosen IS NOT NULL AND k.chosen = k.chosen_ok)"
	invalidFor := "CASE WHEN mc.id LIKE '001:%' THEN '+' || k.cc ELSE mc.id END"
	cte("", "SELECT k.raw, k.region,\n"+
		"  CASE WHEN k.reason IS NULL AND "+valid+" THEN '+' || k.cc || k.nsn END AS e164,\n"+
		"  CASE WHEN k.reason IS NOT NULL THEN k.reason WHEN "+valid+" THEN NULL"+
		" WHEN mc.id IS NULL THEN "+q(ReasonCountryCode)+" ELSE "+q(ReasonInvalidFor)+" || "+invalidFor+" END AS reason\n"+
		"FROM ph_valid k LEFT JOIN "+regions+" mc ON mc.cc = k.cc AND mc.ord = 0")
	return stages
}

func quoteAll(d warehouse.Dialect, vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = d.QuoteString(v)
	}
	return strings.Join(out, ", ")
}
