// Command receiver runs the webhook contract server of sync/destinationtest
// on a local address, for demos and subprocess tests:
//
//	go run ./sync/destinationtest/cmd/receiver -addr 127.0.0.1:8787 -secret whsec_…
//
// It prints one line per request (applied batches, faults, violations) and
// answers GET /state with the records it holds as JSON and GET /stats with
// its counters. It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

func main() {
	var (
		addr   = flag.String("addr", "127.0.0.1:8787", "address to listen on")
		secret = flag.String("secret", "", "Standard Webhooks secret (whsec_<base64> or raw); empty accepts unsigned requests")
		max    = flag.Int("max-batch", 1000, "most records per request")
		f      destinationtest.Faults
	)
	flag.IntVar(&f.Status429Every, "429-every", 0, "answer every n-th request 429")
	flag.DurationVar(&f.RetryAfter, "retry-after", time.Second, "Retry-After sent with 429s")
	flag.IntVar(&f.Status500Every, "500-every", 0, "answer every n-th request 500")
	flag.IntVar(&f.TimeoutEvery, "timeout-every", 0, "hang every n-th request until the client gives up")
	flag.IntVar(&f.DropEvery, "drop-every", 0, "close every n-th connection without a response")
	flag.Float64Var(&f.RejectRate, "reject-rate", 0, "share of records rejected")
	flag.Float64Var(&f.RetryableRecordRate, "retry-rate", 0, "share of records answered retry")
	flag.Uint64Var(&f.Seed, "seed", 1, "seed of the record-fault generator")
	flag.Parse()

	srv, err := destinationtest.Serve(*addr, destinationtest.Options{
		Secret: *secret, MaxBatch: *max, Faults: f, Log: os.Stdout,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
	fmt.Printf("receiver listening on http://%s (GET /state, GET /stats)\n", srv.Addr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
}
