//go:build !linux

package bqtest

import "syscall"

// procAttr is empty: without a parent-death signal on this OS, a killed test
// binary leaves its emulator running.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
