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

// commandFlagsFirst moves the flags of the command being run (say `sync plan`)
// that come after its arguments in front of them, so `cdp sync plan vip
// --detailed-exitcode` reads the flag as `cdp sync plan --detailed-exitcode
// vip` does: urfave/cli stops reading flags at the first argument. It runs
// after globalsFirst, so the global flags are already in front of the command
// name. Only commands that declare flags are touched; arguments after `--`
// are left alone, and a dash argument the command does not declare is moved
// too, so it is reported as an undefined flag rather than taken for a name.
func commandFlagsFirst(cmds []*cli.Command, args []string) []string {
	globalValue := map[string]bool{}
	for _, f := range globalFlags() {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			globalValue[n] = !isBool
		}
	}
	i := 1
	for i < len(args) { // the global flags in front of the command name
		n, inline := flagName(args[i])
		if n == "" {
			break
		}
		i++
		if globalValue[n] && !inline {
			i++
		}
	}
	var cmd *cli.Command
	for i < len(args) {
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(args[i]) {
				next = c
			}
		}
		if next == nil {
			break
		}
		cmd, cmds = next, next.Subcommands
		i++
	}
	if cmd == nil || len(cmd.Flags) == 0 || len(cmd.Subcommands) > 0 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, rest []string
	for j := i; j < len(args); j++ {
		if args[j] == "--" {
			rest = append(rest, args[j:]...)
			break
		}
		n, inline := flagName(args[j])
		switch {
		case n == "":
			rest = append(rest, args[j])
		case takesValue[n] && !inline && j+1 < len(args):
			flags = append(flags, args[j], args[j+1])
			j++
		default:
			flags = append(flags, args[j])
		}
	}
	out := append([]string{}, args[:i]...)
	out = append(out, flags...)
	return append(out, rest...)
}

// flagName returns the name of a -x, --x or --x=v argument ("" when it is not
// a flag), and whether the value is inline.
func flagName(a string) (string, bool) {
	if len(a) < 2 || a[0] != '-' || a == "--" {
		return "", false
	}
	n, _, inline := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
	return n, inline
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
			forgetCommand(),
			syncCommand(),
			destinationsCommand(),
			serveCommand(),
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
