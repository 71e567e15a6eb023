package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// globalFlags are accepted before the command name, and after it (see globalsFirst).
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "project", Aliases: []string{"p"}, Value: ".", Usage: "project folder (holds cdp.yml)", EnvVars: []string{"CDP_PROJECT"}},
		&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "target from cdp.yml (default: its `target`)", EnvVars: []string{"CDP_TARGET"}},
		&cli.BoolFlag{Name: "json", Usage: "print JSON (one document, or JSON lines for progress)"},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug | info | warn | error"},
		&cli.StringFlag{Name: "as-of", Usage: "reference time for windows (RFC 3339 or YYYY-MM-DD); default now", EnvVars: []string{"CDP_AS_OF"}},
	}
}

// globalsFirst moves the global flags given after the command name, as in
// `cdp run --as-of 2026-11-01` or `cdp sync plan --json`, in front of it,
// where urfave/cli reads them; everything else keeps its order. A flag given
// both before and after the command takes the later value. Arguments after
// `--` are left alone.
func globalsFirst(args []string) []string {
	takesValue := map[string]bool{} // every name of a global flag → whether it takes a value
	for _, f := range globalFlags() {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	// flagName returns the name of a -x, --x or --x=v argument, and whether the value is inline.
	flagName := func(a string) (string, bool) {
		if len(a) < 2 || a[0] != '-' || a == "--" {
			return "", false
		}
		n, _, inline := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		return n, inline
	}
	cmd := 1
	for cmd < len(args) {
		n, inline := flagName(args[cmd])
		if n == "" {
			break
		}
		cmd++
		if takesValue[n] && !inline {
			cmd++
		}
	}
	if cmd >= len(args) || args[cmd] == "--" {
		return args
	}
	var moved, rest []string
	for i := cmd + 1; i < len(args); i++ {
		if args[i] == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		n, inline := flagName(args[i])
		value, global := takesValue[n]
		switch {
		case !global || value && !inline && i+1 == len(args): // not ours, or missing its value: let urfave/cli judge
			rest = append(rest, args[i])
		case value && !inline:
			moved = append(moved, args[i], args[i+1])
			i++
		default:
			moved = append(moved, args[i])
		}
	}
	out := append([]string{}, args[:cmd]...)
	out = append(out, moved...)
	out = append(out, args[cmd])
	return append(out, rest...)
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
