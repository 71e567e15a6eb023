//go:build !unix

package sqlcheck

// lockDir does not lock where flock is missing; concurrent installs may
// then race, which npm ci survives by reinstalling.
func lockDir(string) (func(), error) { return func() {}, nil }
