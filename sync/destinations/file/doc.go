// Package file is the "file" destination: each sync run appends its records
// to one local file, for audits, demos and hand-offs to other tools.
//
// # Settings
//
//	path    required; a folder, relative to the project root unless absolute
//	format  jsonl (default) or csv
//
// A run writes <path>/<sync>/<run_id>.jsonl (or .csv), creating folders as
// needed. Every Apply appends the whole batch with one write and fsyncs the
// file before it returns, so a confirmed record is on disk; a failed write
// is truncated away. Retried batches are appended again (at-least-once).
//
// # jsonl
//
// One object per line: {"op":"add","key":"…","fields":{…}}, field names
// sorted. Times are RFC 3339 in UTC. op is add, change, remove or
// unsubscribe; an erasure (cdp forget) is a tombstone with the key only and
// no fields: {"op":"erase","key":"…","tombstone":true}.
//
// # csv
//
// A header op,key,<fields in the sync's mapping order> (or, when the sync
// declares none, the sorted field names of the first batch), written when
// the file is created. Values: null as an empty cell, times RFC 3339 in UTC,
// numbers in shortest form (an exponent only from 1e21 or below 1e-6), booleans
// true/false. A record with a field outside the header is rejected. An
// erasure's row is its tombstone: erase,<key> and every field cell empty.
//
// The receipt of an erase or unsubscribe is "<file>:<line>", the path and
// 1-based line where its line starts. Files of earlier runs are not
// rewritten: the tombstone tells their reader to forget the key.
//
// In both formats a record with a NaN or infinite number, or an unknown
// operation, is rejected and the rest of the batch is written.
package file
