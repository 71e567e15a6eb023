// Package warehouse owns the seam between shared code and each warehouse:
// the Dialect interface (all SQL quoting and dialect-specific functions), the
// Warehouse connection interface, and the registry that dialect packages
// (warehouse/duckdb, warehouse/postgres, …) fill from init().
package warehouse
