package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/examples/retail"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "scaffold a runnable project (the retail example with its seeds)",
		ArgsUsage: "DIR",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("init takes one DIR")
			}
			dir := c.Args().First()
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return usageErr("%s is not empty; choose a new folder so nothing is overwritten", dir)
			}
			n := 0
			err := fs.WalkDir(retail.Files, ".", func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				dst := filepath.Join(dir, filepath.FromSlash(path))
				if d.IsDir() {
					return os.MkdirAll(dst, 0o755)
				}
				b, err := retail.Files.ReadFile(path)
				if err != nil {
					return err
				}
				n++
				return os.WriteFile(dst, b, 0o644)
			})
			if err != nil {
				return fmt.Errorf("init %s: %w", dir, err)
			}
			if c.Bool("json") {
				writeJSON(c.App.Writer, map[string]any{"created": dir, "files": n})
				return nil
			}
			fmt.Fprintf(c.App.Writer, "created %s (%d files). Next:\n  cd %s\n  cdp seed && cdp run --as-of 2026-11-01\n", dir, n, dir)
			return nil
		},
	}
}
