package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/seed"
	"github.com/cdpkit/cdp/warehouse"
)

func seedCommand() *cli.Command {
	return &cli.Command{
		Name:  "seed",
		Usage: "load the project's CSV seeds into the target (tables seed_<file>)",
		Action: func(c *cli.Context) error {
			e, err := load(c)
			if err != nil {
				return err
			}
			var paths []string
			for _, p := range e.project.SeedPaths {
				paths = append(paths, filepath.Join(e.project.Root, p))
			}
			ctx, stop := signalContext(c.Context)
			defer stop()
			w, err := warehouse.Open(ctx, e.target, e.project.Root)
			if err != nil {
				return err
			}
			defer w.Close()
			start := time.Now()
			res, err := seed.Load(ctx, w, e.target.Schema, paths, seed.Options{})
			for _, r := range res {
				rel, _ := filepath.Rel(e.project.Root, r.Path)
				if e.json {
					writeJSONLine(c.App.Writer, map[string]any{"event": "seed", "file": rel, "table": e.target.Schema + "." + r.Table, "rows": r.Rows})
				} else {
					fmt.Fprintf(c.App.Writer, "seeded %-40s %8d rows from %s\n", e.target.Schema+"."+r.Table, r.Rows, rel)
				}
			}
			if err != nil {
				return err
			}
			if !e.json {
				fmt.Fprintf(c.App.Writer, "%d seed files loaded into %s (%s) in %.2fs\n", len(res), e.target.Name, e.target.Type, time.Since(start).Seconds())
			}
			return nil
		},
	}
}
