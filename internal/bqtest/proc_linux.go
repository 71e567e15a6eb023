package bqtest

import "syscall"

// procAttr has the kernel kill the emulator if the test binary dies first.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
