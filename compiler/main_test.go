package compiler_test

import (
	"testing"

	"github.com/cdpkit/cdp/internal/pgtest"
)

// TestMain stops the PostgreSQL server the engine tests started.
func TestMain(m *testing.M) { pgtest.Main(m) }
