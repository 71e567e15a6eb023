// Command cdp compiles YAML customer-data models into SQL that runs inside
// the user's warehouse, and runs them: see `cdp --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

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
	// A reader that goes away (`cdp run | head -1`) must not kill the
	// process mid-run, which would leave its cdp_runs row `running`: with
	// SIGPIPE ignored a write to stdout fails with EPIPE instead, and
	// pipeWriter cancels the command, which records the run as cancelled.
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := runContext(ctx, os.Args, &pipeWriter{w: os.Stdout, cancel: cancel}, os.Stderr)
	cancel()
	os.Exit(code)
}

// pipeWriter is stdout that cancels the command when its reader has gone
// (EPIPE): nothing more can be shown, so the command stops cleanly.
type pipeWriter struct {
	w      io.Writer
	cancel context.CancelFunc
}

// Write writes p, cancelling the command on a broken pipe.
func (p *pipeWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.cancel()
	}
	return n, err
}

// run executes the CLI and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run under ctx: cancelling it stops the command as a signal
// does.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var notFound bool
	app := newApp(stdout, stderr, &notFound)
	err := app.RunContext(ctx, commandFlagsFirst(app.Commands, globalsFirst(args)))
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
