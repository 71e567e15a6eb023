package models

import (
	"strings"
	"testing"
)

// errorCase is one broken project: the files to add to the base project and the
// diagnostics expected, as "file:line:col: severity" plus a message substring
// and optionally a hint substring.
type errorCase struct {
	name  string
	files map[string]string
	want  []want
}

type want struct {
	at, msg, hint string
}

func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"models/base.yml": baseModels}
			for k, v := range tc.files {
				files[k] = v
			}
			_, ds := load(t, files)
			errs := 0
			for _, w := range tc.want {
				if strings.HasSuffix(w.at, "error") {
					errs++
				}
				found := false
				for _, d := range ds {
					if strings.HasPrefix(d.String(), w.at+": ") && strings.Contains(d.Message, w.msg) && strings.Contains(d.Hint, w.hint) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing %s: …%s… (hint …%s…)", w.at, w.msg, w.hint)
				}
			}
			if got := len(ds.Errors()); got != errs {
				t.Errorf("got %d errors, want %d", got, errs)
			}
			if t.Failed() {
				t.Logf("diagnostics:\n%s", ds.Error())
			}
		})
	}
}

func TestBaseProjectIsClean(t *testing.T) {
	_, ds := load(t, map[string]string{"models/base.yml": baseModels})
	if len(ds) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", ds.Error())
	}
}
