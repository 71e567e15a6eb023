// Command cdp compiles YAML customer-data models into SQL that runs inside
// the user's warehouse, and runs them: see `cdp --help`.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	_ "github.com/cdpkit/cdp/warehouse/bigquery"
	_ "github.com/cdpkit/cdp/warehouse/duckdb"
	_ "github.com/cdpkit/cdp/warehouse/postgres"
	_ "github.com/cdpkit/cdp/warehouse/snowflake"
)

// Exit codes (docs/cli.md).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	// exitConflict: `sync run --plan` refused a plan the state or the
	// sync's definition moved away from; nothing was sent.
	exitConflict = 4
)

// exitError carries an exit code through urfave/cli.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	var notFound bool
	app := newApp(stdout, stderr, &notFound)
	err := app.Run(commandFlagsFirst(app.Commands, globalsFirst(args)))
	if err == nil {
		if notFound {
			return exitUsage
		}
		return exitOK
	}
	var ee *exitError
	code := exitFailure
	if errors.As(err, &ee) {
		code = ee.code
	} else if isUsage(err) {
		code = exitUsage
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "error:", msg)
	}
	return code
}
