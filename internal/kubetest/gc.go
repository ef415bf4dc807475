//go:build unix

package kubetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// EmulateGarbageCollector stands in for the two kube-controller-manager loops that a delete
// needs and this control plane lacks, until the returned stop function is called (or the test
// ends; stop is idempotent):
//
//   - the garbage collector's foreground deletion: a client that deletes with
//     propagationPolicy=Foreground (the Pulumi kubernetes provider does) parks the object behind
//     the foregroundDeletion finalizer until the garbage collector has removed its dependents.
//     The stand-in removes that finalizer from every object being deleted among the given
//     resources and namespaces, WITHOUT deleting any dependents: use it only where the
//     dependents are already gone or there are none (Helm deletes a release's objects itself);
//   - the namespace controller: a deleted namespace stays Terminating until the controller has
//     emptied it and removed the "kubernetes" finalizer. The stand-in only finalizes it; objects
//     still in the namespace are NOT deleted and stay in etcd, orphaned.
//
// It polls every 200 ms with the admin client and ignores errors (the next round retries).
// Namespaces are always handled; resources lists the other kinds whose deletions to unblock,
// e.g. {Version: "v1", Resource: "secrets"}.
func (cp *ControlPlane) EmulateGarbageCollector(ctx context.Context, t testing.TB, resources ...schema.GroupVersionResource) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	gvrs := append([]schema.GroupVersionResource{namespacesGVR}, resources...)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, gvr := range gvrs {
				cp.unblockDeletions(ctx, gvr)
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// unblockDeletions does one round of EmulateGarbageCollector for one resource.
func (cp *ControlPlane) unblockDeletions(ctx context.Context, gvr schema.GroupVersionResource) {
	list, err := cp.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, obj := range list.Items {
		if obj.GetDeletionTimestamp() == nil {
			continue
		}
		ri := cp.dyn.Resource(gvr).Namespace(obj.GetNamespace())
		if fin := obj.GetFinalizers(); slices.Contains(fin, metav1.FinalizerDeleteDependents) {
			obj.SetFinalizers(slices.DeleteFunc(fin, func(f string) bool { return f == metav1.FinalizerDeleteDependents }))
			updated, err := ri.Update(ctx, &obj, metav1.UpdateOptions{})
			if err != nil {
				continue
			}
			obj = *updated
		}
		if gvr == namespacesGVR {
			// spec.finalizers (not metadata.finalizers) is what the namespace controller
			// clears, through the finalize subresource.
			if fin, _, _ := unstructured.NestedStringSlice(obj.Object, "spec", "finalizers"); len(fin) > 0 {
				delete(obj.Object["spec"].(map[string]any), "finalizers")
				_, _ = cp.dyn.Resource(gvr).Update(ctx, &obj, metav1.UpdateOptions{}, "finalize")
			}
		}
	}
}
