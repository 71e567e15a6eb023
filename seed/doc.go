// Package seed loads CSV seed files into the target warehouse (`cdp seed`).
//
// Each *.csv file of the seed paths becomes one table, seed_<file stem> by
// default (the stem lower-cased, with runs of other characters turned into
// _), in the target schema. Column names come from the header row. Column
// types are inferred in Go from every cell of the file:
//
//	integer    -12, 0, 42 (no leading zeros, fits in 64 bits)
//	number     1.5, -0.25, 6.02e23 (no leading zeros)
//	boolean    true, false
//	date       2024-05-01
//	timestamp  2024-05-01 13:04:05[.fraction], or RFC 3339 / 2024-05-01T13:04:05[.fraction][Z|±hh:mm],
//	           stored in UTC
//	string     anything else, including columns whose cells disagree
//
// An empty cell is NULL and does not vote. A column whose cells are all empty
// is a string column. Values such as 007 or 1e999 stay strings, so nothing is
// rounded or lost. But a column of at least 20 values that are dates (or
// timestamps) except for at most 5% is an error at the first stray cell
// ("column `updated_at` holds timestamps, but "2024-13-45" is not one"):
// one typo would otherwise turn the column into text and fail a run later.
//
// Files are read twice (once to infer, once to load) and never held in
// memory. Every file is checked before anything is loaded, and problems are
// reported together as file:line:col: error: message. Rows go through
// warehouse.BulkLoader when the warehouse has it (one transaction per table),
// else through batched INSERT statements rendered by the dialect.
package seed
