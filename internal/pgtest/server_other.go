//go:build !unix

package pgtest

import "errors"

// errNoBinaries reports that this OS cannot start a throwaway server.
var errNoBinaries = errors.New("pgtest: starting a throwaway PostgreSQL is supported on Unix only; set " + EnvDSN)

// server is never started on this OS.
type server struct{ stop chan chan error }

func (s *server) dsn(string) string { return "" }

func startServer() (*server, error) { return nil, errNoBinaries }
