// Package synctest is the test harness of the sync engine and the
// destination guarantee suite: a synthetic audience (World) that changes
// between runs the way real ones do (newcomers, changed traits, people
// leaving, merges, key changes), loaded as the profile and segment tables
// the engine reads on real warehouses (DuckDB, a throwaway PostgreSQL, the
// BigQuery emulator), and Model, what a destination obeying a sync mode
// must hold after each run.
package synctest
