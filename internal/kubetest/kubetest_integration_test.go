//go:build integration

package kubetest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/example/flask-eks/internal/kubetest"
)

var serviceMonitors = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}

// TestIntegrationControlPlane checks the harness end to end: the control plane starts, the CRDs in
// testdata/crds install and become Established, a ServiceMonitor server-side applies, and
// strict field validation rejects a misspelt field, while the IngressClassParams stand-in
// rejects a value outside its enum; a dry run validates without storing; the garbage-collector
// stand-in lets a foreground deletion and a namespace deletion finish; Stop stops the API
// server.
func TestIntegrationControlPlane(t *testing.T) {
	cp := kubetest.Start(t)
	crdFiles, err := filepath.Glob(filepath.Join(kubetest.RepoRoot(t), "testdata", "crds", "*.yaml"))
	if err != nil || len(crdFiles) == 0 {
		t.Fatalf("no CRDs in testdata/crds (%v)", err)
	}
	cp.ApplyFiles(t, crdFiles...)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The kubeconfig file and content agree, and the typed clientset works from the same
	// configuration; the API server created the namespace that namespaced objects default to.
	if data, err := os.ReadFile(cp.KubeconfigPath()); err != nil || string(data) != cp.Kubeconfig() {
		t.Errorf("kubeconfig file %s: %v, or it differs from Kubeconfig()", cp.KubeconfigPath(), err)
	}
	if cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(cp.Kubeconfig())); err != nil || cfg.Host != cp.Server {
		t.Errorf("Kubeconfig(): %v, server %v, want %s", err, cfg, cp.Server)
	}
	clientset, err := kubernetes.NewForConfig(cp.RestConfig())
	if err != nil {
		t.Fatalf("creating a clientset: %v", err)
	}
	if _, err := clientset.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
		t.Errorf("getting namespace %q: %v", metav1.NamespaceDefault, err)
	}

	serviceMonitor := func(name string, endpoint map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "monitoring.coreos.com/v1",
			"kind":       "ServiceMonitor",
			"metadata":   map[string]any{"name": name, "namespace": "default"},
			"spec": map[string]any{
				"selector":  map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "flask"}},
				"endpoints": []any{endpoint},
			},
		}}
	}

	got, err := cp.Apply(ctx, serviceMonitor("flask", map[string]any{"port": "http", "path": "/metrics", "interval": "30s"}))
	if err != nil {
		t.Fatalf("applying a valid ServiceMonitor: %v", err)
	}
	endpoints, _, _ := unstructured.NestedSlice(got.Object, "spec", "endpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["interval"] != "30s" {
		t.Errorf("stored ServiceMonitor endpoints = %v, want one with interval 30s", endpoints)
	}

	// Server-side apply rejects the misspelt field while building the typed patch (the API
	// server answers 500, so only the message is checked).
	_, err = cp.Apply(ctx, serviceMonitor("flask", map[string]any{"port": "http", "scrapeInterval": "30s"}))
	if err == nil {
		t.Fatal("a ServiceMonitor with the unknown field endpoints[0].scrapeInterval was accepted; want it rejected")
	}
	if want := ".spec.endpoints[0].scrapeInterval: field not declared in schema"; !strings.Contains(err.Error(), want) {
		t.Errorf("apply with an unknown field: got %v, want an error containing %q", err, want)
	}

	// The same typo through a plain create, the path kubectl --validate=strict and client-go
	// take, must fail with a strict decoding error too.
	bad := serviceMonitor("flask-create", map[string]any{"port": "http", "scrapeInterval": "30s"})
	_, err = cp.Dynamic().Resource(serviceMonitors).
		Namespace("default").Create(ctx, bad, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	if err == nil || !strings.Contains(err.Error(), `unknown field "spec.endpoints[0].scrapeInterval"`) {
		t.Errorf("create with an unknown field: got %v, want a strict decoding error naming spec.endpoints[0].scrapeInterval", err)
	}

	params := func(scheme string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "eks.amazonaws.com/v1",
			"kind":       "IngressClassParams",
			"metadata":   map[string]any{"name": "alb"},
			"spec":       map[string]any{"scheme": scheme, "group": map[string]any{"name": "flask"}},
		}}
	}
	if _, err := cp.Apply(ctx, params("internet-facing")); err != nil {
		t.Errorf("applying a valid IngressClassParams: %v", err)
	}
	if _, err := cp.Apply(ctx, params("public")); !apierrors.IsInvalid(err) {
		t.Errorf("IngressClassParams with scheme \"public\": got %v, want Invalid (not in the enum)", err)
	}

	// DryRunApply: a valid object is accepted but not stored; the misspelt field is rejected.
	if err := cp.DryRunApply(ctx, serviceMonitor("flask-dry", map[string]any{"port": "http"})); err != nil {
		t.Errorf("dry run of a valid ServiceMonitor: %v", err)
	}
	if _, err := cp.Dynamic().Resource(serviceMonitors).Namespace("default").Get(ctx, "flask-dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the dry-run ServiceMonitor: %v, want NotFound (a dry run stores nothing)", err)
	}
	err = cp.DryRunApply(ctx, serviceMonitor("flask-dry", map[string]any{"port": "http", "scrapeInterval": "30s"}))
	if err == nil || !strings.Contains(err.Error(), "scrapeInterval") {
		t.Errorf("dry run with an unknown field: got %v, want a rejection naming scrapeInterval", err)
	}

	// Without controllers a foreground deletion and a namespace deletion never finish; with
	// the stand-in they do.
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "doomed"},
	}}
	if _, err := cp.Apply(ctx, ns); err != nil {
		t.Fatalf("creating namespace doomed: %v", err)
	}
	foreground := metav1.DeletePropagationForeground
	if err := clientset.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{PropagationPolicy: &foreground}); err != nil {
		t.Fatalf("deleting namespace doomed: %v", err)
	}
	if err := cp.Dynamic().Resource(serviceMonitors).Namespace("default").Delete(ctx, "flask", metav1.DeleteOptions{PropagationPolicy: &foreground}); err != nil {
		t.Fatalf("deleting ServiceMonitor flask: %v", err)
	}
	time.Sleep(time.Second)
	if _, err := clientset.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{}); err != nil {
		t.Errorf("namespace doomed right after its deletion: %v; want it still Terminating (no namespace controller)", err)
	}
	if _, err := cp.Dynamic().Resource(serviceMonitors).Namespace("default").Get(ctx, "flask", metav1.GetOptions{}); err != nil {
		t.Errorf("ServiceMonitor flask right after its foreground deletion: %v; want it still there (no garbage collector)", err)
	}
	stop := cp.EmulateGarbageCollector(ctx, t, serviceMonitors)
	waitGone := func(what string, get func() error) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			err := get()
			if apierrors.IsNotFound(err) {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%s with the garbage-collector stand-in: %v, want it deleted", what, err)
				return
			}
		}
	}
	waitGone("namespace doomed", func() error {
		_, err := clientset.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		return err
	})
	waitGone("ServiceMonitor flask", func() error {
		_, err := cp.Dynamic().Resource(serviceMonitors).Namespace("default").Get(ctx, "flask", metav1.GetOptions{})
		return err
	})
	stop()

	// Stop ends the API server: nothing answers any more.
	cp.Stop(t)
	short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	defer cancelShort()
	if _, err := clientset.CoreV1().Namespaces().Get(short, metav1.NamespaceDefault, metav1.GetOptions{}); err == nil {
		t.Error("the API server still answers after Stop")
	}
}
