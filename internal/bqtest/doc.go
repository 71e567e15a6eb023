// Package bqtest gives tests a BigQuery to run against: the BigQuery
// emulator (github.com/goccy/bigquery-emulator, pinned in
// tools/bigquery-emulator/go.mod).
//
// Open returns a warehouse on an emulator process private to the calling
// test, so a test may use fixed dataset names (cdp, raw) as it does on
// DuckDB and PostgreSQL. It listens on free ports of 127.0.0.1 and stops
// when the test ends; on Linux it also dies with the test binary
// (parent-death signal), and Main stops any left over. The emulator binary is
// .cache/bin/bigquery-emulator at the root of the module, built on first use
// when missing (about five minutes and a few GB of memory; `make test`
// builds it first), or the file named by CDP_BIGQUERY_EMULATOR.
//
// When the emulator can neither be found nor built, Open skips the test, or
// fails it when the CI environment variable is "true".
//
// Real opens the real BigQuery project named by CDP_TEST_BIGQUERY_PROJECT
// (location CDP_TEST_BIGQUERY_LOCATION, credentials from Application Default
// Credentials) and skips the test when it is not set.
package bqtest
