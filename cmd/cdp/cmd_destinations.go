package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
)

func destinationsCommand() *cli.Command {
	return &cli.Command{
		Name:      "destinations",
		Usage:     "list destination types, or describe one: its settings, modes, limits and what each mode sends",
		ArgsUsage: "[TYPE]",
		Action:    destinationsAction,
	}
}

// destinationInfo is the JSON form of a destination type.
type destinationInfo struct {
	Type       string                  `json:"type"`
	Title      string                  `json:"title"`
	Summary    string                  `json:"summary"`
	Settings   []destination.Setting   `json:"settings,omitempty"`
	Modes      []string                `json:"modes"`
	Operations []destination.Operation `json:"operations,omitempty"`
	Limits     []string                `json:"limits,omitempty"`
	References []string                `json:"references,omitempty"`
}

func destinationsAction(c *cli.Context) error {
	asJSON := c.Bool("json")
	w := c.App.Writer
	if c.NArg() > 1 {
		return usageErr("destinations takes at most one TYPE")
	}
	if c.NArg() == 1 {
		s, err := destination.Lookup(c.Args().First())
		if err != nil {
			hint := ""
			if m := models.Closest(c.Args().First(), destination.Types()); m != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", m)
			}
			return usageErr("%v%s", err, hint)
		}
		if asJSON {
			writeJSON(w, destinationInfo{Type: s.Type, Title: s.Title, Summary: s.Summary, Settings: s.Settings,
				Modes: s.Modes, Operations: s.Operations, Limits: s.Limits, References: s.References})
			return nil
		}
		fmt.Fprint(w, s.Describe())
		return nil
	}
	var all []destinationInfo
	for _, typ := range destination.Types() {
		s, _ := destination.Lookup(typ)
		all = append(all, destinationInfo{Type: s.Type, Title: s.Title, Summary: s.Summary, Modes: s.Modes})
	}
	if asJSON {
		writeJSON(w, map[string]any{"destinations": all})
		return nil
	}
	for _, d := range all {
		fmt.Fprintf(w, "%-22s %-28s %s\n", d.Type, strings.Join(d.Modes, ","), d.Summary)
	}
	fmt.Fprintln(w, "\n`cdp destinations TYPE` describes one; docs/destinations/TYPE.md has the same reference.")
	return nil
}

// syncCheck asks each selected sync's destination whether the mapped fields
// exist there with fitting types, sending nothing.
func syncCheck(c *cli.Context) error {
	e, eng, closeFn, err := openEngine(c)
	if err != nil {
		return err
	}
	defer closeFn()
	syncs, err := selectSyncs(e.project, c.Args().Slice())
	if err != nil {
		return err
	}
	ctx, stop := signalContext(c.Context)
	defer stop()
	w := c.App.Writer
	type report struct {
		Sync     string                     `json:"sync"`
		Checked  bool                       `json:"checked"`
		Problems []destination.FieldProblem `json:"problems"`
		Note     string                     `json:"note,omitempty"`
	}
	var out []report
	bad := 0
	for _, s := range syncs {
		fields := make([]destination.FieldInfo, len(s.Fields))
		for i, f := range s.Fields {
			fields[i] = destination.FieldInfo{Field: f.Field, Type: traitType(e.project, f.Trait)}
			if f.Hash != "" { // a hashed field carries a hex digest
				fields[i].Type = models.TypeString
			}
		}
		probs, checked, err := eng.CheckFields(ctx, s, fields)
		if err != nil {
			return &exitError{code: exitFailure, err: fmt.Errorf("sync %s: %w", s.Name, err)}
		}
		r := report{Sync: s.Name, Checked: checked, Problems: probs}
		if probs == nil {
			r.Problems = []destination.FieldProblem{}
		}
		if !checked {
			r.Note = "the destination type has no schema endpoint; nothing to check"
		}
		bad += len(probs)
		out = append(out, r)
	}
	if e.json {
		writeJSON(w, map[string]any{"checks": out})
	} else {
		for _, r := range out {
			switch {
			case !r.Checked:
				fmt.Fprintf(w, "sync %s: %s\n", r.Sync, r.Note)
			case len(r.Problems) == 0:
				fmt.Fprintf(w, "sync %s: every mapped field exists at the destination\n", r.Sync)
			default:
				fmt.Fprintf(w, "sync %s: %d problem(s)\n", r.Sync, len(r.Problems))
				for _, p := range r.Problems {
					fmt.Fprintf(w, "  field %s: %s\n", p.Field, p.Message)
				}
			}
		}
	}
	if bad > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d mapped field(s) do not fit their destination", bad)}
	}
	return nil
}

// traitType is the CDP type a trait is known to have ("" when only the
// warehouse knows).
func traitType(p *models.Project, name string) string {
	if name == models.ProfileIDColumn {
		return models.TypeString
	}
	t := p.Trait(name)
	switch {
	case t == nil:
		return ""
	case t.Type != "":
		return t.Type
	case t.IsIdentifier():
		return models.TypeString
	case t.Aggregate == models.AggCount || t.Aggregate == models.AggCountDistinct:
		return models.TypeInteger
	case t.Aggregate == models.AggSum || t.Aggregate == models.AggAvg:
		return models.TypeNumber
	}
	return ""
}
