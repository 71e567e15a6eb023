// Package postgres is the PostgreSQL target (type "postgres"): the SQL
// dialect and a connection over github.com/jackc/pgx/v5.
//
// Importing the package registers it with the warehouse registry. A target
// needs one setting, dsn: a libpq connection string or postgres:// URL.
//
// Engine notes that shape the dialect:
//   - Identifiers longer than MaxIdentifierBytes are silently truncated by the
//     server; callers that build names should stay within the limit.
//   - Text values cannot hold NUL bytes. QuoteString renders them as chr(0),
//     which the server rejects with a clear error instead of storing
//     something else.
//   - Strings with backslashes are written as E'…' literals so they mean the
//     same whatever standard_conforming_strings says.
//   - RegexpMatch and RegexpReplaceAll run PostgreSQL's regular expressions
//     (Spencer ARE), which agree with RE2 on the common syntax (classes,
//     anchors, \d \s \w, groups, alternation, bounded repeats) but not on
//     every corner.
//   - Results are read in text format; numeric, json, uuid and other types
//     without a Go counterpart in database/sql scan as their text form.
package postgres
