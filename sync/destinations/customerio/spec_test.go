package customerio

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
)

func parse(t *testing.T, raw map[string]string) (destination.Values, []destination.Problem) {
	t.Helper()
	spec, err := destination.Lookup(Type)
	if err != nil {
		t.Fatal(err)
	}
	return spec.Parse(raw)
}

func TestSpecParse(t *testing.T) {
	base := map[string]string{"site_id": "s", "api_key": "k"}
	v, probs := parse(t, base)
	if len(probs) != 0 || v.String("base_url") != USBaseURL || v.Int("batch_size") != DefaultBatch ||
		v.Rate("rate_limit") != 100 || v.String("identifier") != "email" || v.String("region") != "us" {
		t.Errorf("defaults: %v %v", probs, v)
	}
	for _, c := range []struct{ setting, value, want string }{
		{"batch_size", "1001", "above the maximum 1000"},
		{"identifier", "phone", "not one of email, id"},
		{"region", "apac", "not one of us, eu"},
		{"segment_id", "0", "below the minimum 1"},
		{"segment_idd", "3", "unknown setting"},
	} {
		raw := map[string]string{"site_id": "s", "api_key": "k", c.setting: c.value}
		_, probs := parse(t, raw)
		if len(probs) != 1 || !strings.Contains(probs[0].Message, c.want) {
			t.Errorf("%s=%s: %+v", c.setting, c.value, probs)
		}
	}
	if _, probs := parse(t, map[string]string{"site_id": "s"}); len(probs) != 1 || !strings.Contains(probs[0].Message, "api_key") {
		t.Errorf("missing api_key: %+v", probs)
	}
}

func TestCheckSync(t *testing.T) {
	spec, _ := destination.Lookup(Type)
	v, _ := parse(t, map[string]string{"site_id": "s", "api_key": "k"})
	sync := destination.SyncInfo{Mode: "mirror", Key: "email", Fields: []string{"email", "first_name"}, KeyField: "email"}
	if p := spec.CheckSync(v, sync); len(p) != 1 || p[0].Warning || !strings.Contains(p[0].Message, "segment_id") {
		t.Errorf("mirror without a segment: %+v", p)
	}
	withSeg, _ := parse(t, map[string]string{"site_id": "s", "api_key": "k", "segment_id": "4"})
	if p := spec.CheckSync(withSeg, sync); len(p) != 0 {
		t.Errorf("mirror with a segment: %+v", p)
	}
	sync.Mode, sync.Key = "upsert", "user_id"
	sync.Fields = append(sync.Fields, "_update", strings.Repeat("n", 151))
	p := spec.CheckSync(withSeg, sync)
	var errs, warns int
	for _, x := range p {
		if x.Warning {
			warns++
		} else {
			errs++
		}
	}
	if errs != 2 || warns != 2 {
		t.Errorf("problems %+v", p)
	}
	if _, err := New(context.Background(), destination.Config{Values: v, Mode: "mirror"}); err == nil {
		t.Error("New must refuse mirror without segment_id")
	}
}

func TestRegion(t *testing.T) {
	for _, c := range []struct {
		raw  map[string]string
		want string
	}{
		{map[string]string{"region": "eu"}, EUBaseURL},
		{map[string]string{}, USBaseURL},
		{map[string]string{"region": "eu", "base_url": "http://127.0.0.1:9"}, "http://127.0.0.1:9"},
	} {
		c.raw["site_id"], c.raw["api_key"] = "s", "k"
		v, _ := parse(t, c.raw)
		d, err := New(context.Background(), destination.Config{Settings: c.raw, Values: v, Mode: "upsert"})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.(*Destination).client.BaseURL.String(); got != c.want {
			t.Errorf("%v: base URL %s, want %s", c.raw, got, c.want)
		}
		caps := d.Capabilities()
		if caps.MaxBatch != DefaultBatch || caps.Supports(destination.OpRemove) || caps.IdentifierOf != "email" {
			t.Errorf("capabilities %+v", caps)
		}
	}
}

func TestChunks(t *testing.T) {
	e := func(n int) []byte { return []byte(strings.Repeat("x", n)) }
	entries := [][]byte{e(200_000), e(200_000), e(99_986), e(10)}
	raw := make([]json.RawMessage, len(entries))
	for i := range entries {
		raw[i] = entries[i]
	}
	got := chunks(raw)
	// 12 bytes of envelope + 200000 + 1 + 200000 + 1 + 99986 = 500000 fits exactly
	if len(got) != 2 || len(got[0]) != 3 || len(got[1]) != 1 {
		t.Errorf("chunks %v", got)
	}
	if b := body(raw, got[0]); len(b) != MaxBatchBytes {
		t.Errorf("body of %d bytes", len(b))
	}
}
