package main

import (
	"slices"
	"sort"
	"strings"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
)

// commonKeys are the keys every destination has besides its type's settings.
var commonKeys = []string{"name", "type", "rate_limit"}

// checkDestinations checks each destination against the Spec its type
// registered: an unknown type and a missing or empty required setting are
// errors, a setting the type does not read is a warning. Diagnostics point at
// the destination (the loader keeps no position per setting).
func checkDestinations(p *models.Project) models.Diagnostics {
	var ds models.Diagnostics
	for _, d := range p.Destinations {
		if d.Type == "" {
			continue // the loader reported the missing `type`
		}
		spec, err := destination.Lookup(d.Type)
		if err != nil {
			known := destination.Types()
			hint := "known types: " + strings.Join(known, ", ")
			if c := closest(d.Type, known); c != "" {
				hint = "did you mean `" + c + "`? " + hint
			}
			ds = append(ds, models.Diagnostic{Pos: d.Pos, Severity: models.SeverityError, Hint: hint,
				Message: "unknown destination type `" + d.Type + "` in destination `" + d.Name + "`"})
			continue
		}
		settings := settingNames(spec)
		required := "requires " + strings.Join(spec.Required, ", ") + " and accepts "
		if len(spec.Required) == 0 {
			required = "accepts "
		}
		takes := d.Type + " " + required + strings.Join(settings[len(spec.Required):], ", ")
		for _, k := range spec.Required {
			v, ok := d.Settings[k]
			switch {
			case !ok:
				ds = append(ds, models.Diagnostic{Pos: d.Pos, Severity: models.SeverityError,
					Message: "destination `" + d.Name + "` (" + d.Type + ") needs `" + k + "`",
					Hint:    "add `" + k + ": …` to the destination; " + takes})
			case strings.TrimSpace(v) == "":
				ds = append(ds, models.Diagnostic{Pos: d.Pos, Severity: models.SeverityError,
					Message: "setting `" + k + "` of destination `" + d.Name + "` (" + d.Type + ") is empty",
					Hint:    "give it a value; if it comes from `${VAR}`, set the variable or give a default with `${VAR:-…}`"})
			}
		}
		keys := make([]string, 0, len(d.Settings))
		for k := range d.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if slices.Contains(settings, k) || slices.Contains(commonKeys, k) {
				continue
			}
			hint := takes
			if c := closest(k, settings); c != "" {
				hint = "did you mean `" + c + "`? " + hint
			}
			ds = append(ds, models.Diagnostic{Pos: d.Pos, Severity: models.SeverityWarning, Hint: hint,
				Message: "unknown setting `" + k + "` in destination `" + d.Name + "` (" + d.Type + "); it is ignored"})
		}
	}
	return ds
}

// settingNames lists the settings a destination of spec's type reads, in
// declaration order: required, optional, then rate_limit (which every
// destination accepts).
func settingNames(spec destination.Spec) []string {
	var out []string
	for _, k := range slices.Concat(spec.Required, spec.Optional, []string{"rate_limit"}) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// closest returns the candidate within a small edit distance of s (a
// plausible typo), or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", 1<<30
	limit := min(3, max(1, (len(s)+2)/3))
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist <= limit {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
