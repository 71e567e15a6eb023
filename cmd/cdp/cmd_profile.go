package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/lookup"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

func profileCommand() *cli.Command {
	return &cli.Command{
		Name:      "profile",
		Usage:     "the 360° view of one person: identifiers, traits, segments, consent; --export: everything the CDP holds about them",
		ArgsUsage: "LOOKUP  (TYPE:VALUE such as email:ana@example.org, or profile:ID)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "export", Usage: "write one JSON document with everything the CDP holds about the person (GDPR art. 15): identifiers, traits, segments, consent, source rows, deliveries"},
			&cli.StringFlag{Name: "out", Usage: "with --export: write the document to this file (readable by its owner only) instead of stdout"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("profile takes one LOOKUP such as email:ana@example.org or profile:ID")
			}
			if c.String("out") != "" && !c.Bool("export") {
				return usageErr("--out goes with --export")
			}
			e, err := load(c)
			if err != nil {
				return err
			}
			if err := checkLookup(e, c.Args().First()); err != nil {
				return err
			}
			g, err := e.compile("profile")
			if err != nil {
				return err
			}
			ctx, stop := signalContext(c.Context)
			defer stop()
			w, err := warehouse.Open(ctx, e.target, e.project.Root)
			if err != nil {
				return err
			}
			defer w.Close()
			id, err := lookup.Resolve(ctx, w, e.project, g.Tables, c.Args().First())
			switch {
			case err != nil:
			case c.Bool("export"):
				var x *lookup.Export
				if x, err = lookup.ExportProfile(ctx, w, e.project, g.Tables, id); err == nil {
					return writeExport(c, e, x)
				}
			default:
				var v *lookup.View
				if v, err = lookup.Profile(ctx, w, e.project, g.Tables, id); err == nil {
					if e.json {
						writeJSON(c.App.Writer, v)
					} else {
						printProfile(c.App.Writer, v)
					}
					return nil
				}
			}
			if errors.Is(err, lookup.ErrNotFound) {
				return &exitError{code: exitFailure, err: err}
			}
			return err
		},
	}
}

// writeExport writes the export document to stdout, or to the --out file
// (mode 0600: it is personal data) and then says so.
func writeExport(c *cli.Context, e *env, x *lookup.Export) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return err
	}
	path := c.String("out")
	if path == "" {
		_, err := c.App.Writer.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write the export: %w", err)
	}
	if e.json {
		writeJSON(c.App.Writer, map[string]any{"profile_id": x.Profile.ID, "saved_to": path})
		return nil
	}
	rows := 0
	for _, s := range x.Sources {
		rows += len(s.Rows)
	}
	delivered := 0
	for _, s := range x.Syncs {
		if s.State != nil {
			delivered++
		}
	}
	fmt.Fprintf(c.App.Writer, "exported profile %s to %s: %d identifier(s), %d segment(s), %d source row(s), delivered by %d sync(s)\n",
		x.Profile.ID, path, len(x.Identifiers), len(x.Segments), rows, delivered)
	return nil
}

// checkLookup rejects a malformed LOOKUP as a usage error (exit 2) before
// connecting: it must be TYPE:VALUE with a declared identifier type, or profile:ID.
func checkLookup(e *env, key string) error {
	typ, val, ok := strings.Cut(key, ":")
	if !ok || typ == "" || val == "" {
		return usageErr("lookup %q: use TYPE:VALUE (e.g. email:ana@example.org) or profile:ID", key)
	}
	if typ == "profile" || e.project.IDType(typ) != nil {
		return nil
	}
	names := []string{"profile"}
	for _, x := range e.project.Identity.IDTypes {
		names = append(names, x.Name)
	}
	return usageErr("lookup %q: unknown identifier type %q (known: %s)", key, typ, strings.Join(names, ", "))
}

func printProfile(w io.Writer, v *lookup.View) {
	fmt.Fprintf(w, "profile %s\n\nidentifiers (%d):\n", v.ProfileID, len(v.Identifiers))
	for _, x := range v.Identifiers {
		fmt.Fprintf(w, "  %-14s %-40s first seen %s, last seen %s, %d source(s)\n", x.Type, x.Value,
			fmtTime(x.FirstSeenAt), fmtTime(x.LastSeenAt), x.SourceCount)
	}
	fmt.Fprintf(w, "\ntraits:\n")
	for _, t := range v.Traits {
		fmt.Fprintf(w, "  %-22s %s\n", t.Name, fmtValue(t.Value))
	}
	fmt.Fprintf(w, "\nsegments (%d):\n", len(v.Segments))
	for _, s := range v.Segments {
		hold := ""
		if s.InHoldout {
			hold = "  [holdout: never synced]"
		}
		fmt.Fprintf(w, "  %-22s since %s%s\n", s.Segment, fmtTime(s.EnteredAt), hold)
	}
	if len(v.Consent) > 0 {
		fmt.Fprintf(w, "\nconsent (%d):\n", len(v.Consent))
	}
	for _, c := range v.Consent {
		allowed := "not allowed"
		if c.Allowed {
			allowed = "allowed"
		}
		line := fmt.Sprintf("  %-22s %-8s %-11s", c.Purpose, c.State, allowed)
		switch {
		case c.Source != nil:
			line += fmt.Sprintf(" decided %s in %s", fmtTime(c.DecidedAt), *c.Source)
		case c.State == models.ConsentUnknown:
			line += " no statement (the purpose's default applies)"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if len(v.Syncs) > 0 {
		fmt.Fprintf(w, "\nsyncs:\n")
	}
	for _, s := range v.Syncs {
		switch {
		case s.Key == nil:
			fmt.Fprintf(w, "  %-22s not synced: no key\n", s.Sync)
		case s.Delivered:
			fmt.Fprintf(w, "  %-22s delivered %s as %s\n", s.Sync, fmtTime(s.DeliveredAt), *s.Key)
		default:
			fmt.Fprintf(w, "  %-22s not delivered (%s)\n", s.Sync, *s.Key)
		}
		if s.LastError != nil {
			fmt.Fprintf(w, "  %-22s last rejection: %s\n", "", *s.LastError)
		}
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "∅"
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprint(v)
}
