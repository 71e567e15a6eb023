package destination

import (
	"fmt"
	"strings"
)

// modeOps is what each sync mode sends (its diff operations).
var modeOps = map[string][]Op{
	"upsert": {OpAdd, OpChange},
	"mirror": {OpAdd, OpChange, OpRemove},
	"insert": {OpAdd},
	"update": {OpChange},
}

// privacyOps are the operations of consent and erasure, with when the
// engine sends them.
var privacyOps = []struct {
	op   Op
	when string
}{
	{OpUnsubscribe, "a member withdrew a consent the sync requires (`on_withdrawal: unsubscribe`)"},
	{OpErase, "`cdp forget`: the person asked to be erased"},
}

// privacySends is what a privacy operation sends, or why nothing is.
func (s *Spec) privacySends(op Op) string {
	if sends := s.opSends("", op); sends != "" {
		return sends
	}
	if op == OpUnsubscribe {
		return "no unsubscribe primitive: a withdrawn member is removed (mirror) or no longer sent (upsert, insert)"
	}
	return "no erase primitive: the person must be deleted in the tool by hand; `cdp forget --status` lists it as manual"
}

// settingDefault renders a setting's default for docs.
func settingDefault(st Setting) string {
	switch {
	case st.Required:
		return "required"
	case st.Default != "":
		return "`" + st.Default + "`"
	}
	return "—"
}

// settingKind renders a setting's kind with its bounds.
func settingKind(st Setting) string {
	switch st.Kind {
	case KindInt:
		if st.Max > 0 {
			return fmt.Sprintf("int %d–%d", st.Min, st.Max)
		}
		return fmt.Sprintf("int ≥ %d", st.Min)
	case KindEnum:
		return "one of " + strings.Join(st.Values, ", ")
	}
	return string(st.Kind)
}

// opSends returns what an operation sends in a mode, per the spec.
func (s *Spec) opSends(mode string, op Op) string {
	sends := ""
	for _, o := range s.Operations {
		switch {
		case o.Op != op:
		case o.Mode == mode:
			return o.Sends
		case o.Mode == "" && sends == "":
			sends = o.Sends
		}
	}
	return sends
}

// Markdown renders the destination's reference page
// (docs/destinations/<type>.md), generated from the spec.
func (s *Spec) Markdown() string {
	var b strings.Builder
	title := s.Title
	if title == "" {
		title = s.Type
	}
	fmt.Fprintf(&b, "# %s (`type: %s`)\n\n", title, s.Type)
	b.WriteString("<!-- generated from the destination's spec by `make golden`; do not edit -->\n\n")
	if s.Summary != "" {
		fmt.Fprintf(&b, "%s.\n\n", strings.TrimSuffix(upperFirst(s.Summary), "."))
	}
	if s.Doc != "" {
		b.WriteString(strings.TrimSpace(s.Doc) + "\n\n")
	}
	b.WriteString("## Settings\n\n| setting | kind | default | description |\n|---|---|---|---|\n")
	for _, st := range s.Settings {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", st.Name, settingKind(st), settingDefault(st), st.Doc)
	}
	b.WriteString("\nEvery value may use `${VAR}` or `${VAR:-default}`; secrets belong in the environment.\n")
	b.WriteString("\n## Modes\n\n| mode | operation | sends |\n|---|---|---|\n")
	for _, m := range s.Modes {
		for _, op := range modeOps[m] {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", m, op, s.opSends(m, op))
		}
	}
	b.WriteString("\n## Privacy\n\n| operation | when | sends |\n|---|---|---|\n")
	for _, op := range privacyOps {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", op.op, op.when, s.privacySends(op.op))
	}
	if len(s.Limits) > 0 {
		b.WriteString("\n## Limits\n\n")
		for _, l := range s.Limits {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	if len(s.References) > 0 {
		b.WriteString("\n## Vendor documentation followed\n\n")
		for _, r := range s.References {
			fmt.Fprintf(&b, "- <%s>\n", r)
		}
	}
	return b.String()
}

// Describe renders the destination for `cdp destinations TYPE`: its
// settings, modes with the operations each sends, and limits.
func (s *Spec) Describe() string {
	var b strings.Builder
	title := s.Title
	if title == "" {
		title = s.Type
	}
	fmt.Fprintf(&b, "%s (type: %s): %s\n\nsettings:\n", title, s.Type, s.Summary)
	w, kw, dw := 0, 0, 0
	for _, st := range s.Settings {
		w = max(w, len(st.Name))
		kw = max(kw, len([]rune(settingKind(st))))
		dw = max(dw, len([]rune(strings.Trim(settingDefault(st), "`"))))
	}
	for _, st := range s.Settings {
		fmt.Fprintf(&b, "  %-*s  %-*s  %-*s  %s\n", w, st.Name, kw, settingKind(st), dw, strings.Trim(settingDefault(st), "`"), st.Doc)
	}
	b.WriteString("\nmodes:\n")
	for _, m := range s.Modes {
		for _, op := range modeOps[m] {
			fmt.Fprintf(&b, "  %-7s %-7s %s\n", m, op, s.opSends(m, op))
		}
	}
	b.WriteString("\nprivacy:\n")
	for _, op := range privacyOps {
		fmt.Fprintf(&b, "  %-11s %s\n", op.op, s.privacySends(op.op))
	}
	if len(s.Limits) > 0 {
		b.WriteString("\nlimits:\n")
		for _, l := range s.Limits {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
