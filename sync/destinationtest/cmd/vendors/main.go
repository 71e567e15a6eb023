// Command vendors serves local contract servers of vendor APIs (HubSpot,
// Klaviyo) for demos and manual tries:
//
//	go run ./sync/destinationtest/cmd/vendors -hubspot 127.0.0.1:0 -klaviyo 127.0.0.1:0 -env .demo/vendors.env
//
// It writes the settings a project needs to reach them as shell exports
// (HUBSPOT_URL, HUBSPOT_TOKEN, HUBSPOT_VIP_LIST, KLAVIYO_URL,
// KLAVIYO_API_KEY, KLAVIYO_LIST_ID) to the -env file, prints what each
// server holds on SIGUSR1 (and when it stops), and stops on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/destinationtest/hubspot"
	"github.com/cdpkit/cdp/sync/destinationtest/klaviyo"
)

func main() {
	var (
		hubAddr = flag.String("hubspot", "", "address of a HubSpot contract server (empty: none)")
		klaAddr = flag.String("klaviyo", "", "address of a Klaviyo contract server (empty: none)")
		envFile = flag.String("env", "", "file to write the shell exports to (default: standard output)")
	)
	flag.Parse()
	var servers []destinationtest.Vendor
	var env []string
	if *hubAddr != "" {
		s, err := hubspot.Serve(*hubAddr)
		if err != nil {
			fail(err)
		}
		defer s.Close()
		servers = append(servers, s)
		env = append(env, "HUBSPOT_URL="+s.URL(), "HUBSPOT_TOKEN="+s.Token(), "HUBSPOT_VIP_LIST="+s.ListID())
	}
	if *klaAddr != "" {
		s, err := klaviyo.Serve(*klaAddr)
		if err != nil {
			fail(err)
		}
		defer s.Close()
		servers = append(servers, s)
		env = append(env, "KLAVIYO_URL="+s.URL(), "KLAVIYO_API_KEY="+s.Key(), "KLAVIYO_LIST_ID="+s.ListID())
	}
	if len(servers) == 0 {
		fail(fmt.Errorf("name at least one of -hubspot and -klaviyo"))
	}
	exports := ""
	for _, e := range env {
		exports += "export " + e + "\n"
	}
	if *envFile == "" {
		fmt.Print(exports)
	} else if err := os.WriteFile(*envFile, []byte(exports), 0o600); err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	for {
		select {
		case <-usr1:
			report(os.Stdout, servers)
		case <-ctx.Done():
			return
		}
	}
}

// report prints what each server holds: every object, and the list members
// a mirror sync keeps.
func report(w io.Writer, servers []destinationtest.Vendor) {
	for _, s := range servers {
		all, members := s.Audience("upsert"), s.Audience("mirror")
		st := s.Stats()
		fmt.Fprintf(w, "%s: %d people, %d in the list; %d requests (%d writes, %d throttled, %d contract violations)\n",
			s.Type(), len(all), len(members), st.Requests, st.Writes, st.Throttled, st.Invalid)
		keys := make([]string, 0, len(members))
		for k := range members {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i == 3 {
				fmt.Fprintf(w, "  … %d more\n", len(keys)-3)
				break
			}
			fmt.Fprintf(w, "  %s %s\n", k, strings.TrimSpace(members[k]["name"]))
		}
		if e, ok := s.(interface{ Erased() []string }); ok && len(e.Erased()) > 0 {
			fmt.Fprintf(w, "  GDPR-deleted contacts (record IDs): %s\n", strings.Join(e.Erased(), ", "))
		}
		for _, v := range s.Violations() {
			fmt.Fprintf(w, "  violation: %s\n", v)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "vendors:", err)
	os.Exit(1)
}
