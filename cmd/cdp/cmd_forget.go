package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/warehouse"
)

func forgetCommand() *cli.Command {
	return &cli.Command{
		Name:      "forget",
		Usage:     "record a data-subject erasure request (GDPR art. 17); the next `cdp run` and `cdp sync run` erase the person everywhere",
		ArgsUsage: "ID_TYPE:VALUE  (e.g. email:camille.moreau@orange.fr)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "reason", Usage: "why (e.g. a DSR ticket), kept in the ledger"},
			&cli.BoolFlag{Name: "status", Usage: "print the erasure ledger: each request and each destination's state and receipt"},
			&cli.BoolFlag{Name: "report", Usage: "list the source rows that still hold a forgotten person's identifiers, with the SQL to delete them"},
		},
		Action: func(c *cli.Context) error {
			status, report := c.Bool("status"), c.Bool("report")
			switch {
			case (status || report) && c.NArg() > 0:
				return usageErr("--status and --report take no ID_TYPE:VALUE")
			case !status && !report && c.NArg() != 1:
				return usageErr("forget takes one ID_TYPE:VALUE such as email:camille.moreau@orange.fr")
			}
			e, err := load(c)
			if err != nil {
				return err
			}
			if !status && !report {
				if _, _, err := privacy.ParseRef(e.project, c.Args().First()); err != nil {
					return usageErr("%v", err)
				}
			}
			g, err := e.compile("forget")
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
			out := c.App.Writer
			switch {
			case status:
				st, err := privacy.Status(ctx, w, g.Tables)
				if err != nil {
					return err
				}
				if e.json {
					writeJSON(out, st)
				} else {
					printErasures(out, st)
				}
				return nil
			case report:
				rep, err := privacy.Report(ctx, w, g.Tables, e.project, func(s *models.Source, salt string) string {
					return compiler.ForgottenRowsSQL(e.project, g.Tables, s, salt)
				})
				if err != nil {
					return err
				}
				if e.json {
					writeJSON(out, rep)
				} else {
					printReport(out, rep)
				}
				return nil
			}
			r, err := privacy.Forget(ctx, w, g.Tables, e.project, c.Args().First(), c.String("reason"), time.Now().UTC())
			if err != nil {
				return err
			}
			if e.json {
				writeJSON(out, r)
				return nil
			}
			if r.Existing {
				fmt.Fprintf(out, "erasure %s for this %s was already requested at %s; the next `cdp run` applies it\n",
					r.ID, r.IDType, r.RequestedAt.Format(time.RFC3339))
				return nil
			}
			fmt.Fprintf(out, "erasure %s recorded (%s, stored as a salted hash only)\n", r.ID, r.IDType)
			fmt.Fprintln(out, "next: `cdp run` removes the person from every CDP table and blocks re-identification;")
			fmt.Fprintln(out, "      `cdp sync run --all` erases them at every destination that had them; `cdp forget --status` tracks it")
			return nil
		},
	}
}

func printErasures(w io.Writer, st []privacy.RequestStatus) {
	if len(st) == 0 {
		fmt.Fprintln(w, "no erasure requests")
		return
	}
	for _, r := range st {
		reason := ""
		if r.Reason != "" {
			reason = fmt.Sprintf(" %q", r.Reason)
		}
		fmt.Fprintf(w, "%s  %s  %s%s  requested %s", r.ID, r.State, r.IDType, reason, r.RequestedAt.Format(time.RFC3339))
		if r.AppliedAt != nil {
			fmt.Fprintf(w, ", applied %s", r.AppliedAt.Format(time.RFC3339))
		}
		if r.Profiles != nil {
			fmt.Fprintf(w, " (%d profile(s))", *r.Profiles)
		}
		fmt.Fprintln(w)
		if r.Status == privacy.StatusRequested {
			fmt.Fprintln(w, "    waiting for the next complete `cdp run`")
			continue
		}
		if len(r.Targets) == 0 {
			fmt.Fprintln(w, "    no destination had received this person")
		}
		for _, g := range r.Targets {
			line := fmt.Sprintf("    %-24s %-20s %-8s", g.Sync, g.Destination, g.Status)
			if g.Receipt != "" {
				line += " receipt: " + g.Receipt
			}
			if g.ConfirmedAt != nil {
				line += " at " + g.ConfirmedAt.Format(time.RFC3339)
			}
			if g.Error != "" {
				line += " error: " + g.Error
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	}
}

// printReport prints, per source, the rows that still hold a forgotten
// person's identifiers and the statement that deletes them.
func printReport(w io.Writer, rep []privacy.SourceRows) {
	if len(rep) == 0 {
		fmt.Fprintln(w, "no source row holds a forgotten identifier")
		return
	}
	fmt.Fprintln(w, "source rows that still hold a forgotten person's identifiers (the sources are yours: delete them upstream)")
	for _, r := range rep {
		where := "SQL source"
		if r.Table != "" {
			where = r.Table
		}
		fmt.Fprintf(w, "\n%s (%s): %d row(s)", r.Source, where, r.Rows)
		if r.DeleteSQL == "" && len(r.Keys) > 0 {
			fmt.Fprintf(w, ", %s %s", r.PrimaryKey, strings.Join(r.Keys, ", "))
		}
		fmt.Fprintln(w)
		if r.DeleteSQL != "" {
			fmt.Fprintf(w, "  %s;\n", strings.ReplaceAll(r.DeleteSQL, "\n", "\n  "))
		}
		if r.Note != "" {
			fmt.Fprintf(w, "  (%s)\n", r.Note)
		}
	}
}
