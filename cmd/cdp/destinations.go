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
			if c := models.Closest(d.Type, known); c != "" {
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
			if c := models.Closest(k, settings); c != "" {
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
