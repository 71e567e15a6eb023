package destination

import (
	"fmt"
	"strings"

	"github.com/cdpkit/cdp/models"
)

// Check checks every destination of a project against the spec its type
// registered, and every sync against its destination's modes and rules:
// an unknown type, a missing, empty, malformed or out-of-range setting, an
// unknown setting, and a mode the destination cannot honour are errors,
// each at the position of the value at fault. For a paused destination
// (not configured yet, or switched off) the same problems are warnings:
// nothing is sent to it until it is unpaused.
func Check(p *models.Project) models.Diagnostics {
	var ds models.Diagnostics
	values := map[string]Values{}
	specOf := map[string]*Spec{}
	paused := map[string]bool{}
	severity := func(dest string, warning bool) (models.Severity, string) {
		switch {
		case warning:
			return models.SeverityWarning, ""
		case paused[dest]:
			return models.SeverityWarning, " (the destination is paused; this is an error once it is not)"
		}
		return models.SeverityError, ""
	}
	for _, d := range p.Destinations {
		if d.Type == "" {
			continue // the loader reported the missing `type`
		}
		spec, err := Lookup(d.Type)
		if err != nil {
			known := Types()
			hint := "known types: " + strings.Join(known, ", ") + " (`cdp destinations` describes each)"
			if c := models.Closest(d.Type, known); c != "" {
				hint = "did you mean `" + c + "`? " + hint
			}
			ds = append(ds, models.Diagnostic{Pos: d.Pos, Severity: models.SeverityError, Hint: hint,
				Message: "unknown destination type `" + d.Type + "` in destination `" + d.Name + "`"})
			continue
		}
		raw := d.Settings
		if d.RateLimit != "" {
			raw = make(map[string]string, len(d.Settings)+1)
			for k, v := range d.Settings {
				raw[k] = v
			}
			raw["rate_limit"] = d.RateLimit
		}
		paused[d.Name] = d.Paused
		v, probs := spec.Parse(raw)
		if len(probs) == 0 && spec.CheckSettings != nil {
			probs = spec.CheckSettings(v)
		}
		for _, pr := range probs {
			pos := d.Pos
			if at, ok := d.SettingPos[pr.Setting]; ok && pr.Setting != "" {
				pos = at
			}
			sev, note := severity(d.Name, pr.Warning)
			ds = append(ds, models.Diagnostic{Pos: pos, Severity: sev, Hint: pr.Hint,
				Message: fmt.Sprintf("destination `%s`: %s%s", d.Name, pr.Message, note)})
		}
		values[d.Name], specOf[d.Name] = v, spec
	}
	for _, s := range p.Syncs {
		spec := specOf[s.Destination]
		if spec == nil {
			continue
		}
		if !spec.SupportsMode(s.Mode) {
			ds = append(ds, models.Diagnostic{Pos: s.Pos, Severity: models.SeverityError, // a paused sync is still wrong
				Message: fmt.Sprintf("sync `%s`: a %s destination does not support mode `%s`", s.Name, spec.Type, s.Mode),
				Hint:    "use one of " + strings.Join(spec.Modes, ", ") + " (`cdp destinations " + spec.Type + "` says what each sends)"})
			continue
		}
		ds = append(ds, consentProblems(spec, s)...)
		if spec.CheckSync == nil {
			continue
		}
		for _, pr := range spec.CheckSync(values[s.Destination], SyncInfoOf(s)) {
			sev, note := severity(s.Destination, pr.Warning)
			ds = append(ds, models.Diagnostic{Pos: s.Pos, Severity: sev, Hint: pr.Hint,
				Message: fmt.Sprintf("sync `%s` to %s destination `%s`: %s%s", s.Name, spec.Type, s.Destination, pr.Message, note)})
		}
	}
	return ds
}

// consentProblems checks a sync's consent against its destination: a
// marketing destination (email, messaging, ads) should require a consent
// purpose (a warning), and `on_withdrawal: unsubscribe` needs a destination
// with an unsubscribe primitive (an error).
func consentProblems(spec *Spec, s *models.Sync) models.Diagnostics {
	var ds models.Diagnostics
	if spec.Category.Marketing() && len(s.RequiresConsent) == 0 {
		ds = append(ds, models.Diagnostic{Pos: s.Pos, Severity: models.SeverityWarning,
			Message: fmt.Sprintf("sync `%s` sends to %s (%s, a marketing destination) but declares no consent purpose", s.Name, spec.Title, spec.Category),
			Hint:    "add `requires_consent: [<purpose>]` with a purpose of the models' `consent:` section, e.g. email_marketing (docs/privacy.md)"})
	}
	if s.OnWithdrawal == models.WithdrawalUnsubscribe && !spec.Supports(OpUnsubscribe) {
		ds = append(ds, models.Diagnostic{Pos: s.Pos, Severity: models.SeverityError,
			Message: fmt.Sprintf("sync `%s` sets `on_withdrawal: unsubscribe`, but a %s destination has no unsubscribe primitive", s.Name, spec.Type),
			Hint:    "remove `on_withdrawal` (a withdrawn member is then removed, in mirror mode, or no longer sent)"})
	}
	return ds
}

// SyncInfoOf describes a sync for CheckSync.
func SyncInfoOf(s *models.Sync) SyncInfo {
	si := SyncInfo{Name: s.Name, Mode: s.Mode, Key: s.Key, Options: s.Options}
	for _, f := range s.Fields {
		si.Fields = append(si.Fields, f.Field)
		if f.Hash != "" {
			if si.Hashes == nil {
				si.Hashes = map[string]string{}
			}
			si.Hashes[f.Field] = f.Hash
		}
		if f.Trait == s.Key && f.Hash == "" && si.KeyField == "" {
			si.KeyField = f.Field
		}
	}
	return si
}
