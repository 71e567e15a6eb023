// Package snowflake is the Snowflake target (type "snowflake"): the SQL
// dialect and a connection over github.com/snowflakedb/gosnowflake.
//
// Importing the package registers it with the warehouse registry. A target
// needs account, user, database and warehouse, a password or a
// private_key_path (key-pair authentication), and optionally a role; see
// docs/snowflake.md.
//
// Engine notes that shape the dialect:
//   - Snowflake folds unquoted names to upper case. QuoteIdent writes plain
//     lower-case names in upper case ("PROFILE_ID"), so the tables the CDP
//     builds can be queried unquoted, and Relation upper-cases the unquoted
//     parts of user-written relations (raw.crm_contacts is
//     "RAW"."CRM_CONTACTS"). Rows lower-cases such column names again, so
//     shared code reads the names it wrote. Names that differ only in case
//     (id and ID) are the same name here.
//   - Single-quoted strings read backslash escapes: QuoteString doubles
//     backslashes.
//   - REGEXP_LIKE matches the whole string, so RegexpMatch uses
//     REGEXP_INSTR for an unanchored search.
//   - Intermediate tables are TRANSIENT (warehouse.ScratchTables): no
//     Fail-safe storage for tables rebuilt every run.
//   - Any DDL commits an open transaction; only DML groups are atomic.
package snowflake
