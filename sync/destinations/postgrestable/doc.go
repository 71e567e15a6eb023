// Package postgrestable is the "postgres_table" destination: it keeps a
// PostgreSQL table equal to the sync's audience, one row per key.
//
// # Settings
//
//	dsn         required; a postgres:// URL or libpq key=value string
//	table       required; table or schema.table. Each dot-separated part is
//	            quoted as written (case kept); a part in double quotes may hold
//	            dots, with "" for a quote: "my.schema"."Contacts"
//	batch_size  records per transaction, 1–10000 (default 500)
//
// # Table
//
// On first use the schema and table are created when missing:
//
//	key             text PRIMARY KEY
//	<field>         one column per sync field, in mapping order
//	_cdp_synced_at  timestamptz, the time of the transaction that wrote the row
//
// A new column's type comes from the first non-null value of the field in
// the batch: string text, int64 bigint, float64 double precision, bool
// boolean, time.Time timestamptz; text when every value is null or of
// another type. Fields missing from an existing table are added (ALTER TABLE
// … ADD COLUMN IF NOT EXISTS); existing columns keep their types. A field
// named like the key column is dropped when it is the sync's key field, and
// an error otherwise.
//
// # Writes
//
// add and change upsert the row (INSERT … ON CONFLICT (key) DO UPDATE) and
// set the fields the record carries: a field absent from the record
// (null_values: skip) keeps its stored value. remove deletes the row. erase
// (cdp forget) deletes the row by key too, in every mode, and its receipt
// counts the rows deleted ("deleted 1 row"; "not found: nothing to erase"
// when none had the key); unsubscribe is rejected, a table having no such
// thing. Each
// Apply is one transaction on one connection, which is reopened after it
// breaks: the batch is written entirely or not at all.
//
// Values are converted to the column's type before anything is sent; a
// record that cannot be stored (a string in a bigint column, a fraction in an
// integer column, a NUL byte or invalid UTF-8 in text) is rejected on its
// own with a message naming the field and column, and the rest of the batch
// is written. When the server refuses the batch, the error is a BatchError:
// retryable for lost connections, serialization failures, deadlocks, lock
// timeouts, cancellations, shutdowns and insufficient resources; not
// retryable otherwise (constraint violations, permissions, invalid data),
// with the server's message and the offending record.
package postgrestable
