package engine

import (
	"strings"
	"testing"
)

func TestReadPlanKeepsNumbersAsTheWarehouseGaveThem(t *testing.T) {
	p, err := ReadPlan([]byte(`{"format": 1, "project": "p", "syncs": [{"sync": "s", "records": [
		{"op": "add", "key": "k", "fields": {"n": 9007199254740993, "f": 1.5, "s": "x", "z": null, "o": {"m": 2}}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	f := p.Syncs[0].Records[0].Fields
	if f["n"] != int64(9007199254740993) || f["f"] != 1.5 || f["s"] != "x" || f["z"] != nil || f["o"].(map[string]any)["m"] != int64(2) {
		t.Fatalf("fields: %#v", f)
	}
	for _, bad := range []string{`{"format": 2, "syncs": []}`, `{"format": 1, "syncs": [null]}`, `nope`} {
		if _, err := ReadPlan([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestDefinitionFingerprintAndChange(t *testing.T) {
	a := Definition{Mode: "mirror", Key: "email", Fields: []string{"email=email", "name=first_name"}, NullValues: "skip",
		Destination: "hook", DestinationType: "webhook"}
	b := a
	b.Fields = []string{"name=first_name", "email=email"} // the order is part of the definition
	if a.Fingerprint() == b.Fingerprint() || a.Fingerprint() != (Definition{Mode: "mirror", Key: "email",
		Fields: []string{"email=email", "name=first_name"}, NullValues: "skip", Destination: "hook", DestinationType: "webhook"}).Fingerprint() {
		t.Fatal("the fingerprint must follow the definition exactly")
	}
	b = a
	b.DestinationType, b.Key = "hubspot", "id"
	if got := definitionChange(a, b); !strings.Contains(got, `key "email" → "id"`) || !strings.Contains(got, `destination type "webhook" → "hubspot"`) {
		t.Fatalf("change: %s", got)
	}
}

func TestStateChangeSaysWhatMoved(t *testing.T) {
	was := StateVersion{Runs: 2, LastRun: "r1", Committed: 10, Rows: 5, Digest: "1-2"}
	for _, c := range []struct {
		now  StateVersion
		want string
	}{
		{StateVersion{Runs: 3, LastRun: "r2", Committed: 12, Rows: 6, Digest: "3-4"}, "1 run(s) since, the last r2"},
		{StateVersion{Runs: 2, LastRun: "r1", Committed: 11, Rows: 6, Digest: "3-4"}, "run r1 committed more batches"},
		{StateVersion{Runs: 2, LastRun: "r1", Committed: 10, Rows: 5, Digest: "9-9"}, "changed outside a run"},
	} {
		if got := stateChange(was, c.now); !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.now, got, c.want)
		}
	}
}
