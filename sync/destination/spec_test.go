package destination_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

var spec = &destination.Spec{Type: "demo", Settings: append([]destination.Setting{
	{Name: "token", Kind: destination.KindSecret, Required: true, Doc: "t"},
	{Name: "mode", Kind: destination.KindEnum, Values: []string{"a", "b"}, Default: "a", Doc: "m"},
	{Name: "tags", Kind: destination.KindList, Doc: "l"},
	{Name: "bulk", Kind: destination.KindBool, Default: "false", Doc: "b"},
}, destination.HTTPSettings(destination.HTTPDefaults{BaseURL: "https://api.example.com", BatchSize: 50, MaxBatch: 100,
	RateLimit: "10/s", Concurrency: 2, Timeout: 30 * time.Second})...)}

func TestParseValuesAndDefaults(t *testing.T) {
	v, probs := spec.Parse(map[string]string{"token": "s3cret", "tags": "vip, eu ,", "rate_limit": "120/m", "timeout": "5s"})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if v.String("token") != "s3cret" || v.String("mode") != "a" || strings.Join(v.List("tags"), "|") != "vip|eu" || v.Bool("bulk") ||
		v.Int("batch_size") != 50 || v.Int("concurrency") != 2 || v.Duration("timeout") != 5*time.Second || v.Rate("rate_limit") != 2 ||
		v.URL("base_url").Host != "api.example.com" {
		t.Errorf("values: %+v", v)
	}
	c := destination.HTTPCapabilities(v, destination.OpAdd)
	if c.MaxBatch != 50 || c.RateLimit != 2 || c.Concurrency != 2 || c.Timeout != 5*time.Second || !c.Supports(destination.OpAdd) {
		t.Errorf("capabilities: %+v", c)
	}
}

func TestParseProblems(t *testing.T) {
	_, probs := spec.Parse(map[string]string{"token": "s3cret-value", "mode": "c", "bulk": "yes", "batch_size": "101",
		"concurrency": "x", "timeout": "-1s", "base_url": "ftp://h", "rate_limit": "0/s", "tokn": "x"})
	var got []string
	for _, p := range probs {
		got = append(got, p.Setting+": "+p.Message)
		if strings.Contains(p.Message+p.Hint, "s3cret-value") {
			t.Errorf("a secret leaked into %q", p.Message)
		}
	}
	want := []string{
		"mode: bad `mode` `c`: not one of a, b",
		"bulk: bad `bulk` `yes`: not true or false",
		"base_url: bad `base_url` `ftp://h`: scheme \"ftp\" is not accepted",
		"rate_limit: bad rate_limit `0/s`: the count must be positive",
		"batch_size: bad `batch_size` `101`: above the maximum 100",
		"concurrency: bad `concurrency` `x`: not a whole number",
		"timeout: bad `timeout` `-1s`: not positive",
		"tokn: unknown setting `tokn` for a demo destination",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if probs[len(probs)-1].Hint == "" || !strings.Contains(probs[len(probs)-1].Hint, "did you mean `token`") {
		t.Errorf("hint: %q", probs[len(probs)-1].Hint)
	}
	_, probs = spec.Parse(map[string]string{"token": " "})
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "is empty") {
		t.Errorf("empty required: %+v", probs)
	}
	_, probs = spec.Parse(map[string]string{})
	if len(probs) != 1 || probs[0].Setting != "" || !strings.Contains(probs[0].Message, "needs `token`") {
		t.Errorf("missing required: %+v", probs)
	}
}

func TestIdempotencyKeyNamesContent(t *testing.T) {
	a := []destination.Record{{Op: destination.OpAdd, Key: "a@x", Hash: "h1"}, {Op: destination.OpRemove, Key: "b@x"}}
	b := []destination.Record{{Op: destination.OpAdd, Key: "a@x", Hash: "h1", RemoteID: "9"}, {Op: destination.OpRemove, Key: "b@x"}}
	if destination.IdempotencyKey("s", a) != destination.IdempotencyKey("s", b) {
		t.Error("the same content must give the same key")
	}
	for _, other := range [][]destination.Record{
		{{Op: destination.OpChange, Key: "a@x", Hash: "h1"}, {Op: destination.OpRemove, Key: "b@x"}},
		{{Op: destination.OpAdd, Key: "a@x", Hash: "h2"}, {Op: destination.OpRemove, Key: "b@x"}},
		{{Op: destination.OpAdd, Key: "a@x", Hash: "h1"}},
	} {
		if destination.IdempotencyKey("s", a) == destination.IdempotencyKey("s", other) {
			t.Errorf("different content, same key: %+v", other)
		}
	}
	if destination.IdempotencyKey("s", a) == destination.IdempotencyKey("t", a) {
		t.Error("another sync must give another key")
	}
}
