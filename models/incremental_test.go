package models

import "testing"

// TestOverlap checks the project and per-source overlaps and their errors.
func TestOverlap(t *testing.T) {
	p, ds := load(t, map[string]string{
		"models/base.yml": baseModels,
		"cdp.yml":         defaultCdpYML + "incremental: { overlap: 2d }\n",
		"models/more.yml": "sources:\n  - name: late\n    table: raw.late\n    timestamp: ts\n    overlap: 6h\n" +
			"    identifiers: [{ column: email, type: email }]\n  - name: zero\n    table: raw.zero\n    timestamp: ts\n    overlap: 0\n",
	})
	if ds.HasErrors() {
		t.Fatal(ds.Error())
	}
	for name, want := range map[string]int{"crm": 48, "late": 6, "zero": 0} {
		if got := p.OverlapHours(p.Source(name)); got != want {
			t.Errorf("overlap of %s: %d hours, want %d", name, got, want)
		}
	}
	runErrorCases(t, []errorCase{
		{name: "bad project overlap", files: map[string]string{"cdp.yml": defaultCdpYML + "incremental: { overlap: 3 days }\n"},
			want: []want{{at: "cdp.yml:4:25: error", msg: "bad overlap `3 days`", hint: "`6h`"}}},
		{name: "unknown incremental key", files: map[string]string{"cdp.yml": defaultCdpYML + "incremental: { overlapp: 1d }\n"},
			want: []want{{at: "cdp.yml:4:16: error", msg: "overlapp"}}},
		{name: "bad source overlap", files: map[string]string{"models/x.yml": "sources:\n  - name: x\n    table: raw.x\n    timestamp: ts\n    overlap: -1h\n"},
			want: []want{{at: "models/x.yml:5:14: error", msg: "bad overlap `-1h`"}, {at: "models/x.yml:2:5: warning", msg: "no identifiers"}}},
		{name: "overlap without timestamp", files: map[string]string{"models/x.yml": "sources:\n  - name: x\n    table: raw.x\n    overlap: 1d\n"},
			want: []want{{at: "models/x.yml:4:14: warning", msg: "no `timestamp`"}, {at: "models/x.yml:2:5: warning", msg: "no identifiers"}}},
	})
}
