//go:build unix

// Package kubetest runs a throwaway Kubernetes control plane for tests, in the style of
// controller-runtime's envtest: a real etcd and a real kube-apiserver, started by the test in
// its own temporary directory, bound to loopback only, and stopped by the test's cleanup.
//
// What it is: the API server a cluster has, with its validation (OpenAPI schemas, strict field
// validation, CRD structural schemas and enums), admission (minus ServiceAccount), RBAC,
// server-side apply and Helm's release records, authenticated with a bearer token in
// system:masters. The binaries are the pinned ones that .ci/build-tools builds (see [ToolPaths]).
//
// What it is not: a cluster. There is no kube-controller-manager, no scheduler and no kubelet,
// so no Pod ever runs, Deployments never roll out or become available, ReplicaSets are never
// created, default ServiceAccounts are not created, the garbage collector never deletes
// dependents and namespaces are never emptied or finalized (see
// [ControlPlane.EmulateGarbageCollector] for a stand-in of the last two). Tests must not wait
// for anything a controller or a node would do.
//
// Typical use:
//
//	cp := kubetest.Start(t) // stopped by t.Cleanup
//	cp.ApplyFiles(t, crdFiles...)
//	kube := kubernetes.NewForConfigOrDie(cp.RestConfig())
//
// The package is meant for tests under the `integration` build tag; it needs Linux or another
// Unix (process groups), and Linux to kill the children if the test binary dies uncleanly.
package kubetest
