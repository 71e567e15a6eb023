package main

import (
	"fmt"
	"io"
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
	app.Before = func(c *cli.Context) error {
		switch c.String("log-level") {
		case "debug", "info", "warn", "error":
			return nil
		}
		return usageErr("--log-level must be debug, info, warn or error")
	}
	return app
}

// isUsage recognizes urfave/cli's own usage errors.
func isUsage(err error) bool {
	m := err.Error()
	return strings.Contains(m, "flag provided but not defined") || strings.Contains(m, "Required flag")
}
