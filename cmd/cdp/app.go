package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// globalFlags are accepted before the command name.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "project", Aliases: []string{"p"}, Value: ".", Usage: "project folder (holds cdp.yml)", EnvVars: []string{"CDP_PROJECT"}},
		&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "target from cdp.yml (default: its `target`)", EnvVars: []string{"CDP_TARGET"}},
		&cli.BoolFlag{Name: "json", Usage: "print JSON (one document, or JSON lines for progress)"},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug | info | warn | error"},
		&cli.StringFlag{Name: "as-of", Usage: "reference time for windows (RFC 3339 or YYYY-MM-DD); default now", EnvVars: []string{"CDP_AS_OF"}},
	}
}

// commandGlobalFlags are the global flags again, accepted after the command
// name too (`cdp run --as-of 2026-11-01`). They carry no default and no
// environment variable: when absent, the value given before the command, the
// environment or the default applies (see globalCtx).
func commandGlobalFlags() []cli.Flag {
	const globalCategory = "global options (also accepted before the command)"
	var out []cli.Flag
	for _, f := range globalFlags() {
		switch x := f.(type) {
		case *cli.StringFlag:
			out = append(out, &cli.StringFlag{Name: x.Name, Aliases: x.Aliases, Usage: x.Usage, Category: globalCategory})
		case *cli.BoolFlag:
			out = append(out, &cli.BoolFlag{Name: x.Name, Aliases: x.Aliases, Usage: x.Usage, Category: globalCategory})
		}
	}
	return out
}

// globalCtx returns the context whose value of a global flag applies: the
// command's when the flag was given after the command name, else the root's
// (given before the command, from its environment variable, or its default).
func globalCtx(c *cli.Context, name string) *cli.Context {
	names := []string{name}
	for _, f := range globalFlags() {
		if slices.Contains(f.Names(), name) {
			names = f.Names()
		}
	}
	var root *cli.Context
	for _, x := range c.Lineage() {
		if x.Command == nil {
			continue // urfave/cli's outermost wrapper holds no flags
		}
		root = x
		for _, n := range x.LocalFlagNames() {
			if slices.Contains(names, n) {
				return x
			}
		}
	}
	if root == nil {
		return c
	}
	return root
}

func globalString(c *cli.Context, name string) string { return globalCtx(c, name).String(name) }
func globalBool(c *cli.Context, name string) bool     { return globalCtx(c, name).Bool(name) }

func checkLogLevel(c *cli.Context) error {
	switch globalString(c, "log-level") {
	case "debug", "info", "warn", "error":
		return nil
	}
	return usageErr("--log-level must be debug, info, warn or error")
}

// newApp builds the CLI; *notFound is set when the command name is unknown.
func newApp(stdout, stderr io.Writer, notFound *bool) *cli.App {
	app := &cli.App{
		Name:      "cdp",
		Usage:     "a warehouse-native customer data platform: YAML models → SQL in your warehouse",
		Writer:    stdout,
		ErrWriter: stderr,
		Flags:     globalFlags(),
		Commands: []*cli.Command{
			initCommand(),
			validateCommand(),
			compileCommand(),
			seedCommand(),
			runCommand(),
			profileCommand(),
			syncCommand(),
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run() maps errors to exit codes
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErr("%v (see `cdp --help`)", err)
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(c.App.ErrWriter, "error: unknown command %q (see `cdp --help`)\n", name)
			*notFound = true
		},
	}
	for _, cmd := range app.Commands {
		cmd.Flags = append(cmd.Flags, commandGlobalFlags()...)
		cmd.Before = checkLogLevel
	}
	app.Before = checkLogLevel
	return app
}

// isUsage recognizes urfave/cli's own usage errors.
func isUsage(err error) bool {
	m := err.Error()
	return strings.Contains(m, "flag provided but not defined") || strings.Contains(m, "Required flag")
}
