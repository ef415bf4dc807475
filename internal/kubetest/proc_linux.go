//go:build linux

package kubetest

import "syscall"

// sysProcAttr puts a child in its own process group, so that Stop ends everything it forked,
// and has the kernel SIGKILL it when the test binary dies without running cleanups (e.g. on
// -timeout). Pdeathsig fires when the forking OS thread exits; Go does not retire that thread
// early.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
