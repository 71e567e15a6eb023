// Package pgtest gives tests a real PostgreSQL database.
//
// DSN returns a connection string for a fresh, empty database private to the
// calling test. The server comes from the CDP_TEST_POSTGRES_DSN environment
// variable when it is set (the role needs CREATEDB; databases are dropped
// when the test ends). Otherwise the first call starts a throwaway server for
// the whole test binary: initdb into a unique temporary folder (as the
// postgres OS user when running as root), then postgres on a free port of
// 127.0.0.1 with fsync off. Its default collation is ICU en-US when the
// server supports it, like a typical production database, so code that needs
// byte order has to ask for it.
//
// Call Main from TestMain to stop the server and remove its folder when the
// tests end. On Linux the server also dies with the test binary (parent-death
// signal), and folders left by killed runs are removed by the next run.
//
// When no PostgreSQL binaries are found (or on a non-Unix OS without
// CDP_TEST_POSTGRES_DSN), DSN skips the test, or fails it when the CI
// environment variable is "true".
package pgtest
