package identity_test

import (
	"context"
	"testing"

	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
)

func engines(t *testing.T) []engine {
	return []engine{
		{name: "duckdb", open: func(t *testing.T) warehouse.Warehouse {
			w, err := duckdb.Open(context.Background(), ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		}},
	}
}
