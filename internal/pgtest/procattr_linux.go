package pgtest

import "syscall"

// procAttr runs a server process as cred (when set) and has the kernel send
// it SIGQUIT (immediate shutdown) if the test binary dies first.
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
}
