package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// defaultCdpYML is the cdp.yml used when a test case does not bring its own.
const defaultCdpYML = `name: test
targets:
  local: { type: duckdb, path: test.duckdb }
`

// baseModels declares a little of everything, so error cases can refer to it.
const baseModels = `identity:
  id_types:
    - name: email
      normalize: email
    - name: user_id
sources:
  - name: crm
    table: raw.crm
    timestamp: updated_at
    identifiers:
      - { column: email, type: email }
  - name: events
    table: raw.events
    timestamp: ts
    event: event_name
    identifiers:
      - { column: user_id, type: user_id }
  - name: orders
    table: raw.orders
    identifiers:
      - { column: email, type: email }
traits:
  - { name: email, from: crm.email }
  - { name: country, from: crm.country }
  - { name: ltv, from: orders.amount, aggregate: sum }
segments:
  - name: base_seg
    where: { trait: country, eq: FR }
destinations:
  - { name: hook, type: webhook, url: "http://x" }
`

// writeProject writes files (path → content) under a temporary root; cdp.yml
// defaults to defaultCdpYML.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	if _, ok := files["cdp.yml"]; !ok {
		files["cdp.yml"] = defaultCdpYML
	}
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// mapEnv returns a Getenv over a fixed map.
func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// load loads files with an empty environment.
func load(t testing.TB, files map[string]string) (*Project, Diagnostics) {
	t.Helper()
	return LoadWithOptions(writeProject(t, files), LoadOptions{Getenv: mapEnv(nil)})
}

// hasDiag reports whether ds holds a diagnostic whose rendering starts with
// prefix ("file:line:col: severity") and whose message contains msg.
func hasDiag(ds Diagnostics, prefix, msg string) bool {
	for _, d := range ds {
		if strings.HasPrefix(d.String(), prefix+": ") && strings.Contains(d.Message, msg) {
			return true
		}
	}
	return false
}
