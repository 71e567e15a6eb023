package googledatamanager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	gdm "github.com/cdpkit/cdp/sync/destinations/googledatamanager"
	srvpkg "github.com/cdpkit/cdp/sync/destinationtest/googledatamanager"
)

const (
	mary    = "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79" // sha256("mary@example.com")
	newMail = "f0030501023327437b06e5c6f87df7871b8e704ae608d1d0b7b24fdd2a06c716" // sha256("new@example.com")
)

func TestRangeText(t *testing.T) {
	for in, want := range map[string]string{"MATCH_RATE_RANGE_20_TO_30": "20-30%", "MATCH_RATE_RANGE_91_TO_100": "91-100%",
		"MATCH_RATE_RANGE_LESS_THAN_20": "<20%", "MATCH_RATE_RANGE_NOT_ELIGIBLE": "not eligible", "MATCH_RATE_RANGE_UNKNOWN": ""} {
		if got := gdm.RangeText(in); got != want {
			t.Errorf("RangeText(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckSyncWantsHashes(t *testing.T) {
	spec, _ := destination.Lookup(gdm.Type)
	cases := []struct {
		fields []string
		hashes map[string]string
		errs   int
		warns  int
		text   string
	}{
		{[]string{"email_address"}, map[string]string{"email_address": "google_email"}, 0, 0, ""},
		{[]string{"email_address"}, nil, 1, 0, "without a hashing profile"},
		{[]string{"phone_number"}, map[string]string{"phone_number": "meta_phone"}, 0, 1, "not `google_phone`"},
		{[]string{"email_address", "address.given_name"}, map[string]string{"email_address": "google_email", "address.given_name": "google_name"}, 1, 0, "an address needs all"},
		{[]string{"address.given_name", "address.family_name", "address.region_code", "address.postal_code"},
			map[string]string{"address.given_name": "google_name", "address.family_name": "google_name", "address.region_code": "sha256"}, 1, 0, "sent in clear"},
		{[]string{"emial_address"}, nil, 2, 0, "did you mean `email_address`"},
	}
	for _, c := range cases {
		errs, warns, text := 0, 0, ""
		for _, p := range spec.CheckSync(destination.Values{}, destination.SyncInfo{Fields: c.fields, Hashes: c.hashes}) {
			if p.Warning {
				warns++
			} else {
				errs++
			}
			text += p.Message + " " + p.Hint + "\n"
		}
		if errs != c.errs || warns != c.warns || !strings.Contains(text, c.text) {
			t.Errorf("%v %v: %d errors, %d warnings:\n%s", c.fields, c.hashes, errs, warns, text)
		}
	}
}

func open(t *testing.T, s *srvpkg.Server) destination.AsyncDestination {
	t.Helper()
	d, err := destination.Open(context.Background(), gdm.Type, destination.Config{Name: "g", Settings: s.Settings("mirror"), Mode: "mirror",
		Fields: []string{"email_address"}, Hashes: map[string]string{"email_address": "google_email"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d.(destination.AsyncDestination)
}

func poll(t *testing.T, d destination.AsyncDestination, id string, batch []destination.Record) []destination.Result {
	t.Helper()
	for i := 0; i < 10; i++ {
		res, done, err := d.Poll(context.Background(), id, batch)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return res
		}
	}
	t.Fatal("the request never finished")
	return nil
}

// TestJobsResumeAndChange: a submitted request is PROCESSING, then done;
// another process (a new destination) can poll it; a changed e-mail
// removes the old hash; the service-account token is fetched once.
func TestJobsResumeAndChange(t *testing.T) {
	s := srvpkg.New(t)
	d := open(t, s)
	ctx := context.Background()
	batch := []destination.Record{{Op: destination.OpAdd, Key: "p1", Fields: map[string]any{"email_address": mary}}}
	id, err := d.Submit(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if _, done, err := d.Poll(ctx, id, batch); done || err != nil {
		t.Fatalf("the first status read must be PROCESSING: done %v, %v", done, err)
	}
	resumed := open(t, s)
	res := poll(t, resumed, id, batch)
	if res[0].Err != nil || res[0].RemoteID == "" {
		t.Fatalf("resumed poll: %+v", res)
	}
	if m, ok := resumed.(destination.MatchReporter).MatchReport(); !ok || m.Range != "41-50%" || m.Received != 1 {
		t.Fatalf("match report: %+v", m)
	}
	change := []destination.Record{{Op: destination.OpChange, Key: "p1", Fields: map[string]any{"email_address": newMail}, RemoteID: res[0].RemoteID}}
	res, err = d.Apply(ctx, change)
	if err != nil || res[0].Err != nil {
		t.Fatalf("change: %+v %v", res, err)
	}
	if aud := s.Audience("mirror"); len(aud) != 1 || aud[newMail] == nil {
		t.Fatalf("the old hash must leave the list: %v", aud)
	}
	if s.Grants() != 2 { // one token per destination opened, reused for all its requests
		t.Fatalf("want 2 tokens issued (one per destination), got %d", s.Grants())
	}
	if len(s.Violations()) > 0 {
		t.Fatal(s.Violations())
	}
}

// TestFailedRequestAndRevokedAccess: a request that ends FAILED (internal
// error) leaves its records to be retried; a refused token stops the run.
func TestFailedRequestAndRevokedAccess(t *testing.T) {
	s := srvpkg.New(t)
	d := open(t, s)
	s.FailNext(1)
	batch := []destination.Record{{Op: destination.OpAdd, Key: "p1", Fields: map[string]any{"email_address": mary}},
		{Op: destination.OpAdd, Key: "p2", Fields: map[string]any{"email_address": "Mary@example.com"}}}
	res, err := d.Apply(context.Background(), batch)
	if err != nil || res[0].Err == nil || !res[0].Retryable || res[1].Err == nil || !res[1].Permanent {
		t.Fatalf("want p1 retryable (request FAILED), p2 refused before sending: %+v %v", res, err)
	}
	if len(s.Audience("mirror")) != 0 {
		t.Fatal("a failed request changes nothing")
	}
	s.Revoke()
	_, err = d.Apply(context.Background(), batch[:1])
	if !destination.IsFatal(err) {
		t.Fatalf("a refused token must stop the run: %v", err)
	}
}
