// Package bigquery is the Google BigQuery warehouse: a Dialect (GoogleSQL:
// backtick-quoted identifiers and project.dataset.table relations, escaped
// string literals, INT64/FLOAT64/BOOL/TIMESTAMP/DATE/STRING, REGEXP_CONTAINS,
// TO_HEX(MD5()), outputs clustered by profile_id) and a connector built on
// cloud.google.com/go/bigquery that runs every statement as a query job
// labelled with the compiled node ID (warehouse.WithJobLabel), retries
// BigQuery's concurrent-DML serialization errors, runs DML batches as
// BEGIN TRANSACTION scripts, loads rows for seeds and estimates bytes with
// dry runs (warehouse.Estimator).
//
// Target settings: project, dataset (the schema), location, credentials_file
// (else Application Default Credentials) and endpoint (for the emulator,
// which is reached without authentication). docs/bigquery.md says which SQL
// forms were chosen so that real BigQuery and the emulator run the same text.
package bigquery
