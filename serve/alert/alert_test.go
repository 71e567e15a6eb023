package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/serve/daemon"
	"github.com/cdpkit/cdp/serve/schedule"
	"github.com/cdpkit/cdp/sync/destinations/webhook"
	"github.com/cdpkit/cdp/sync/engine"
)

type inbox struct {
	mu   sync.Mutex
	msgs []map[string]any
	bad  []string
}

func (b *inbox) server(t *testing.T, secret string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		defer b.mu.Unlock()
		if secret != "" {
			key, _ := webhook.DecodeSecret(secret)
			want := webhook.Sign(key, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), body)
			if r.Header.Get("webhook-signature") != want || r.Header.Get("webhook-id") == "" {
				b.bad = append(b.bad, "bad signature")
			}
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			b.bad = append(b.bad, err.Error())
		}
		b.msgs = append(b.msgs, m)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (b *inbox) texts() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		out = append(out, m["text"].(string))
	}
	return out
}

func TestDedupAndRecovery(t *testing.T) {
	var slack, hook inbox
	secret := "whsec_c2VjcmV0LWZvci10ZXN0cw=="
	clock := schedule.NewFake(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC))
	n := New([]Channel{
		{Name: "ops", Type: "slack", URL: slack.server(t, "").URL},
		{Name: "pager", Type: "webhook", URL: hook.server(t, secret).URL, Secret: secret, On: []string{KindFailure}},
	}, clock, nil)
	fail := daemon.SyncOutcome{Sync: "vip", RunID: "r1", Status: "failed", Err: errors.New("HTTP 500")}
	for range 4 {
		n.SyncDone(fail)
	}
	ok := daemon.SyncOutcome{Sync: "vip", RunID: "r5", Status: "success", Finished: clock.Now(), Interval: time.Minute,
		Result: &engine.Result{Plan: engine.Counts{Add: 100}, Added: 100}}
	n.SyncDone(ok)
	n.SyncDone(fail) // a new episode: alerts again
	// 10 of 100 rejected: above the 5% default; only Slack wants rejections.
	part := daemon.SyncOutcome{Sync: "vip", RunID: "r7", Status: "partial", Finished: clock.Now(), Interval: time.Minute,
		Result: &engine.Result{Plan: engine.Counts{Add: 100}, Added: 90, Failed: 10}}
	n.SyncDone(part)
	n.SyncDone(part)
	// Stale: no success for more than 3 minutes.
	clock.Advance(2 * time.Minute)
	n.CheckStale()
	clock.Advance(2 * time.Minute)
	n.CheckStale()
	n.CheckStale()
	n.Close()
	want := []string{
		"cdp: sync vip failed (run r1): HTTP 500",
		"cdp: sync vip recovered (failure) in run r5",
		"cdp: sync vip failed (run r1): HTTP 500",
		"cdp: sync vip recovered (failure) in run r7",
		"cdp: sync vip rejected 10 of 100 records (10.0%) in run r7",
		"cdp: sync vip has not succeeded for 4m0s (last success 2026-11-01T10:00:00Z)",
	}
	if got := slack.texts(); !equal(got, want) {
		t.Errorf("slack got\n%q\nwant\n%q", got, want)
	}
	if got := hook.texts(); len(got) != 4 || len(hook.bad) > 0 {
		t.Errorf("webhook got %q (problems %v); want 2 failures and 2 recoveries, signed", got, hook.bad)
	}
	if hook.msgs[0]["kind"] != "failure" || hook.msgs[0]["type"] != "cdp.alert" || hook.msgs[1]["type"] != "cdp.alert.recovered" {
		t.Errorf("webhook payload: %v", hook.msgs[:2])
	}
}

func TestShutdownIsNoFailure(t *testing.T) {
	var slack inbox
	n := New([]Channel{{Name: "ops", Type: "slack", URL: slack.server(t, "").URL}}, schedule.NewFake(time.Now()), nil)
	n.SyncDone(daemon.SyncOutcome{Sync: "vip", Status: "failed", Err: errors.Join(errors.New("x"), contextCanceled())})
	n.Close()
	if len(slack.texts()) != 0 {
		t.Fatal("alerted on a cancelled run")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHostHidesSecrets(t *testing.T) {
	if h := Host("https://user:pw@hooks.slack.com/services/T0/B0/XYZ?token=1"); h != "hooks.slack.com" {
		t.Fatal(h)
	}
}

func contextCanceled() error { return contextErr }

var contextErr = context.Canceled
