//go:build unix && !linux

package pgtest

import "syscall"

// procAttr runs a server process as cred (when set). Without a parent-death
// signal on this OS, a killed test binary leaves its server running until
// the machine's temporary folder is cleaned.
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}
