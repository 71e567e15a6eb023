// Package duckdb is the DuckDB target (type "duckdb"): the SQL dialect and an
// embedded, in-process connection through github.com/duckdb/duckdb-go.
//
// Importing the package registers it with the warehouse registry. A target
// reads one setting, path: the database file relative to the project root
// (parent folders are created), or empty / ":memory:" for an in-memory
// database that lives as long as the connection.
//
// Engine notes that shape the dialect:
//   - DuckDB identifiers are case-insensitive even when quoted: "Email" and
//     "email" name the same column.
//   - Query text reaches the engine as a C string, so a NUL byte would cut it
//     short; QuoteString renders NUL bytes as chr(0) joined with ||.
//   - VARCHAR comparisons honour the default_collation setting, so ByteOrder
//     pins the "binary" collation.
package duckdb
