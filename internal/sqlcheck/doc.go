// Package sqlcheck parses SQL with independent parsers, so statements the
// CDP compiles for warehouses that no test can reach (Snowflake, BigQuery)
// are at least proven to be well-formed in the warehouse's dialect.
//
// The parsers are npm packages pinned in tools/sqlcheck/package-lock.json:
// @polyglot-sql/sdk (a port of sqlglot, for Snowflake and BigQuery) and
// sql-parser-cst (BigQuery). Open installs them with `npm ci` into
// tools/sqlcheck/node_modules when that folder is missing or was installed
// from another lockfile, then Check runs tools/sqlcheck/check.mjs with Node.
// Parsers maps a dialect name to the parsers that check it; a dialect with no
// entry is not checked.
//
// ForTest gives tests a Checker: it skips the test when node or npm is not
// on PATH, except with CI=true, where that is a failure.
package sqlcheck
