package metacustomaudience_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	meta "github.com/cdpkit/cdp/sync/destinations/metacustomaudience"
	srvpkg "github.com/cdpkit/cdp/sync/destinationtest/metacustomaudience"
	"github.com/cdpkit/cdp/sync/hashing"
)

const (
	mary    = "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79" // sha256("mary@example.com"), Meta's example
	newMail = "f0030501023327437b06e5c6f87df7871b8e704ae608d1d0b7b24fdd2a06c716" // sha256("new@example.com")
)

func TestAppSecretProof(t *testing.T) {
	// computed with Python's hmac.new(b"app-secret", b"EAABtoken", sha256)
	if got := meta.AppSecretProof("EAABtoken", "app-secret"); got != "f8d8543ed9d717f8ce37042df51ba33498ffe41e44658fdadb5f5c959b38d6b8" {
		t.Fatalf("appsecret_proof = %s", got)
	}
	if h, _ := hashing.Lookup("meta_email").Reference(" Mary@Example.com "); h != mary {
		t.Fatalf("meta_email of Meta's example = %s", h)
	}
}

func TestCheckSyncWantsHashes(t *testing.T) {
	spec, err := destination.Lookup(meta.Type)
	if err != nil {
		t.Fatal(err)
	}
	check := func(fields []string, hashes map[string]string) []destination.Problem {
		return spec.CheckSync(destination.Values{}, destination.SyncInfo{Mode: "mirror", Fields: fields, Hashes: hashes})
	}
	cases := []struct {
		fields  []string
		hashes  map[string]string
		errs    int
		warns   int
		message string
	}{
		{[]string{"EMAIL", "FN"}, map[string]string{"EMAIL": "meta_email", "FN": "meta_name"}, 0, 0, ""},
		{[]string{"EMAIL"}, nil, 1, 0, "without a hashing profile"},
		{[]string{"EMAIL", "PHONE"}, map[string]string{"EMAIL": "google_email", "PHONE": "meta_phone"}, 0, 1, "not `meta_email`"},
		{[]string{"EMAIL", "EMIAL"}, map[string]string{"EMAIL": "meta_email"}, 1, 0, "did you mean `EMAIL`"},
		{[]string{"FN", "LN"}, map[string]string{"FN": "meta_name", "LN": "meta_name"}, 1, 0, "identifies a person"},
		{[]string{"EXTERN_ID"}, nil, 0, 0, ""},
	}
	for _, c := range cases {
		probs := check(c.fields, c.hashes)
		errs, warns, text := 0, 0, ""
		for _, p := range probs {
			if p.Warning {
				warns++
			} else {
				errs++
			}
			text += p.Message + " " + p.Hint + "\n"
		}
		if errs != c.errs || warns != c.warns || !strings.Contains(text, c.message) {
			t.Errorf("%v %v: %d errors, %d warnings:\n%s", c.fields, c.hashes, errs, warns, text)
		}
	}
}

func open(t *testing.T, s *srvpkg.Server, mode string) destination.Destination {
	t.Helper()
	d, err := destination.Open(context.Background(), meta.Type, destination.Config{Name: "m", Settings: s.Settings(mode), Mode: mode,
		Fields: []string{"EMAIL", "FN"}, Hashes: map[string]string{"EMAIL": "meta_email", "FN": "meta_name"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestChangedIdentifierLeavesTheAudience: a record whose e-mail changed
// (same key) takes its old hash out of the audience; a removal sends the
// row last confirmed; an unhashed value is refused without being sent.
func TestChangedIdentifierLeavesTheAudience(t *testing.T) {
	s := srvpkg.New(t)
	d := open(t, s, "mirror")
	ctx := context.Background()
	res, err := d.Apply(ctx, []destination.Record{
		{Op: destination.OpAdd, Key: "p1", Fields: map[string]any{"EMAIL": mary, "FN": nil}},
		{Op: destination.OpAdd, Key: "p2", Fields: map[string]any{"EMAIL": "mary@example.com"}},
	})
	if err != nil || res[0].Err != nil || res[1].Err == nil || !res[1].Permanent {
		t.Fatalf("add: %+v %v", res, err)
	}
	if s.Members() != 1 || len(s.Calls()) != 1 {
		t.Fatalf("one member in one request, got %d members, calls %+v", s.Members(), s.Calls())
	}
	res, err = d.Apply(ctx, []destination.Record{{Op: destination.OpChange, Key: "p1", Fields: map[string]any{"EMAIL": newMail}, RemoteID: res[0].RemoteID}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("change: %+v %v", res, err)
	}
	aud := s.Audience("mirror")
	if len(aud) != 1 || aud[newMail] == nil {
		t.Fatalf("after the change the audience must hold the new hash only: %v", aud)
	}
	res, err = d.Apply(ctx, []destination.Record{{Op: destination.OpRemove, Key: "p1", Fields: map[string]any{"EMAIL": newMail}, RemoteID: res[0].RemoteID}})
	if err != nil || res[0].Err != nil || s.Members() != 0 {
		t.Fatalf("remove: %+v %v, %d members left", res, err, s.Members())
	}
	calls := s.Calls()
	if len(calls) != 4 || calls[1].Method != http.MethodDelete || calls[2].Method != http.MethodPost || calls[3].Method != http.MethodDelete {
		t.Fatalf("want POST, DELETE old, POST new, DELETE: %+v", calls)
	}
	if m, ok := d.(destination.MatchReporter).MatchReport(); !ok || m.Received != 2 {
		t.Fatalf("match report: %+v %v", m, ok)
	}
	if len(s.Violations()) > 0 {
		t.Fatal(s.Violations())
	}
}

// TestGraphErrors: Meta's throttling codes are retried as throttling, an
// invalid token stops the run, other errors reject the batch.
func TestGraphErrors(t *testing.T) {
	cases := []struct {
		code          string
		throttled     bool
		fatal         bool
		retryable     bool
		header, waits string
	}{
		{`{"error":{"message":"(#17) User request limit reached","code":17,"error_subcode":2446079}}`, true, false, true, "", ""},
		{`{"error":{"message":"(#80003) too many calls","code":80003}}`, true, false, true,
			`{"1":[{"type":"custom_audience","estimated_time_to_regain_access":2}]}`, "2m0s"},
		{`{"error":{"message":"(#4) Application request limit reached","code":4}}`, true, false, true, "", ""},
		{`{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463}}`, false, true, false, "", ""},
		{`{"error":{"message":"(#100) Invalid parameter","code":100}}`, false, false, false, "", ""},
		{`{"error":{"message":"An unknown error occurred","code":1}}`, false, false, true, "", ""},
	}
	for _, c := range cases {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.header != "" {
				w.Header().Set("X-Business-Use-Case-Usage", c.header)
			}
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(c.code))
		}))
		d, err := destination.Open(context.Background(), meta.Type, destination.Config{Name: "m", Mode: "upsert",
			Settings: map[string]string{"base_url": hs.URL, "access_token": "t", "app_secret": "s", "audience_id": "1"},
			Fields:   []string{"EMAIL"}, Hashes: map[string]string{"EMAIL": "meta_email"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Apply(context.Background(), []destination.Record{{Op: destination.OpAdd, Key: "k", Fields: map[string]any{"EMAIL": mary}}})
		var be *destination.BatchError
		if !errors.As(err, &be) || be.Throttled != c.throttled || be.Fatal != c.fatal || be.Retryable != c.retryable ||
			(c.waits != "" && be.RetryAfter.String() != c.waits) {
			t.Errorf("%s: got %+v", c.code, be)
		}
		hs.Close()
	}
}

func TestOpenRefusesPlainPII(t *testing.T) {
	s := srvpkg.New(t)
	_, err := destination.Open(context.Background(), meta.Type, destination.Config{Name: "m", Settings: s.Settings("mirror"),
		Mode: "mirror", Fields: []string{"EMAIL"}})
	if err == nil || !strings.Contains(err.Error(), "hashing profile") {
		t.Fatalf("want a refusal of plain EMAIL, got %v", err)
	}
}
