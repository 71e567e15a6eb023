// Package warehousetest is the conformance suite every warehouse dialect
// must pass against its real engine: quoting of hostile identifiers and
// literals, the string, regexp, hash, ordering and time helpers of
// warehouse.Dialect (checked against Go reference implementations, so all
// dialects agree with each other), table and view replacement, and the
// optional warehouse.BulkLoader.
//
// A dialect package runs it from an ordinary test:
//
//	func TestConformance(t *testing.T) { warehousetest.RunDialectSuite(t, openTestWarehouse(t)) }
//
// and reuses CheckQuoteString and CheckQuoteIdent in its fuzz targets.
package warehousetest
