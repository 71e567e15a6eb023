package models

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLargeProject checks that a big project (thousands of items, many broken
// references) loads quickly: no quadratic hint search or lookups.
func TestLargeProject(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	var b strings.Builder
	b.WriteString("traits:\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "  - { name: t%d, from: crm.c%d }\n", i, i)
	}
	b.WriteString("segments:\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "  - { name: s%d, where: { all: [ { trait: x%d, eq: 1 }, { segment: s%d } ] } }\n", i, i, i+1)
	}
	start := time.Now()
	_, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/big.yml": b.String()})
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	if n := len(ds.Errors()); n != 20001 {
		t.Errorf("got %d errors, want 20001 (20000 unknown traits, 1 unknown segment)", n)
	}
}
