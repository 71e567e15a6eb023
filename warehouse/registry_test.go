package warehouse_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	_ "github.com/cdpkit/cdp/warehouse/duckdb"
	_ "github.com/cdpkit/cdp/warehouse/postgres"
)

func TestRegisteredTypes(t *testing.T) {
	types := warehouse.Types()
	for _, want := range []string{"duckdb", "postgres"} {
		if !slices.Contains(types, want) {
			t.Errorf("Types() = %v, missing %s", types, want)
		}
		d, err := warehouse.DialectFor(want)
		if err != nil {
			t.Fatal(err)
		}
		if d.Name() != want {
			t.Errorf("DialectFor(%s).Name() = %s", want, d.Name())
		}
	}
	if _, err := warehouse.DialectFor("oracle"); err == nil || !strings.Contains(err.Error(), "duckdb") {
		t.Errorf("DialectFor(oracle): %v; want an error listing the known types", err)
	}
}

func TestOpenThroughRegistry(t *testing.T) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, &models.Target{Name: "mem", Type: "duckdb", Settings: map[string]string{"path": ":memory:"}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, ok := w.(warehouse.BulkLoader); !ok {
		t.Error("duckdb warehouse is not a BulkLoader")
	}
	if _, err := w.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	_, err = warehouse.Open(ctx, &models.Target{Name: "pg", Type: "postgres"}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "target pg: postgres needs a dsn setting") {
		t.Errorf("postgres without dsn: %v", err)
	}
	_, err = warehouse.Open(ctx, &models.Target{Name: "x", Type: "nope"}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "unknown type") {
		t.Errorf("unknown type: %v", err)
	}
}
