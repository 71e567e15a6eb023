package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/examples/retail"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "scaffold a runnable project (the retail example with its seeds), or an empty one with --blank",
		ArgsUsage: "DIR",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "blank", Usage: "an empty, valid project (cdp.yml, an empty models/ and seeds/) instead of the retail example"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("init takes one DIR")
			}
			dir := c.Args().First()
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return usageErr("%s is not empty; choose a new folder so nothing is overwritten", dir)
			}
			if c.Bool("blank") {
				return initBlank(c, dir)
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

// blankCdpYML is the cdp.yml of `cdp init --blank`; %[1]s is the project name.
const blankCdpYML = `# A new cdp project: declare sources, identity, traits, segments and syncs
# in models/*.yml (docs/yaml-reference.md), then: cdp validate && cdp run
name: %[1]s
entity: customer
model_paths: [models]
seed_paths: [seeds]
target: local
targets:
  local: { type: duckdb, path: .cdp/%[1]s.duckdb, schema: cdp }
`

// blankModels is the one model file of `cdp init --blank`: comments only.
const blankModels = `# Sources are tables already in the warehouse, e.g.
# sources:
#   - name: crm_contacts
#     table: seed_crm_contacts
#     timestamp: updated_at
#     identifiers:
#       - { column: email, type: email }

# Which identifiers belong to one person: each source maps its columns to
# these types.
identity:
  id_types:
    - { name: email, normalize: email }
`

// initBlank writes an empty, valid project into dir.
func initBlank(c *cli.Context, dir string) error {
	name := blankName(filepath.Base(filepath.Clean(dir)))
	files := map[string]string{
		"cdp.yml":            fmt.Sprintf(blankCdpYML, name),
		"models/project.yml": blankModels,
		"seeds/.gitkeep":     "",
		".gitignore":         ".cdp/\n",
	}
	for _, path := range []string{"cdp.yml", "models/project.yml", "seeds/.gitkeep", ".gitignore"} {
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("init %s: %w", dir, err)
		}
		if err := os.WriteFile(dst, []byte(files[path]), 0o644); err != nil {
			return fmt.Errorf("init %s: %w", dir, err)
		}
	}
	if c.Bool("json") {
		writeJSON(c.App.Writer, map[string]any{"created": dir, "files": len(files)})
		return nil
	}
	fmt.Fprintf(c.App.Writer, "created %s (an empty project, %d files). Next:\n  cd %s\n  edit models/project.yml, then cdp validate\n", dir, len(files), dir)
	return nil
}

// blankName turns a folder name into a project name ([a-z][a-z0-9_]*, at
// most 63 bytes), "project" when nothing is left.
func blankName(base string) string {
	var b []byte
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b = append(b, byte(r))
		case r == '-' || r == ' ' || r == '.':
			b = append(b, '_')
		}
	}
	s := strings.TrimLeft(string(b), "0123456789_")
	if len(s) > 63 {
		s = s[:63]
	}
	if s == "" {
		return "project"
	}
	return s
}
