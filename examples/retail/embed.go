// Package retail is the example project of the CDP: "Rivage", a fashion and
// home shop whose customers are scattered over a CRM, e-commerce accounts, web
// orders, store tills and web tracking. It is what `cdp init` copies and what
// `make demo` and the integration tests run; README.md walks through it.
//
// The CSV seeds are generated, never edited by hand: run `go generate` here
// (or `go run ./examples/retail/gen` from the repository root). The ground
// truth of who is who lives in testdata/truth.csv and is not embedded.
package retail

import "embed"

//go:generate go run ./gen -out seeds -truth testdata/truth.csv -q

// Files is the runnable project, rooted at its folder: cdp.yml, models/*.yml,
// seeds/*.csv and README.md. `cdp init` writes it out as is.
//
//go:embed cdp.yml models seeds README.md
var Files embed.FS
