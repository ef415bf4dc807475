//go:build unix && !linux

package kubetest

import "syscall"

// sysProcAttr puts a child in its own process group, so that Stop ends everything it forked.
// Outside Linux there is no parent-death signal: a test binary killed without running its
// cleanups leaves etcd and kube-apiserver running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
