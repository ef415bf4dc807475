//go:build integration

package keda

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/kubetest"
	"github.com/example/flask-eks/internal/modules"
)

// TestIntegrationKEDAObjects runs what the program declares through a real kube-apiserver with KEDA's
// CRDs (config/crd/bases of the Go module at v2.20.2, generated from the types the unit tests
// decode with): the ScaledObject passes a strict server-side dry run (CRD schema, enums,
// minimums, unknown fields), and so do the NetworkPolicies and every object of the chart rendered
// with the program's values. A misspelt field in the ScaledObject is refused, so the dry run
// is strict indeed.
func TestIntegrationKEDAObjects(t *testing.T) {
	cp := kubetest.Start(t)
	cp.ApplyFiles(t, modules.CRDFiles(t, modules.KEDAModule, "config/crd/bases", "*.yaml")...)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ns := range []string{appNamespace, Namespace} {
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		if _, err := cp.Apply(ctx, obj); err != nil {
			t.Fatalf("creating namespace %s: %v", ns, err)
		}
	}

	d := deploy(t, testScaling)
	so := d.m.Only(t, scaledObjectType).Inputs
	if err := cp.DryRunApply(ctx, &unstructured.Unstructured{Object: so}); err != nil {
		t.Errorf("the API server refuses the ScaledObject: %v", err)
	}
	bad := &unstructured.Unstructured{Object: map[string]any{}}
	for k, v := range so {
		bad.Object[k] = v
	}
	spec := map[string]any{"minReplicaCounts": 2}
	for k, v := range so["spec"].(map[string]any) {
		spec[k] = v
	}
	bad.Object["spec"] = spec
	if err := cp.DryRunApply(ctx, bad); err == nil {
		t.Error("a ScaledObject with a misspelt field was accepted: the dry run is not strict")
	}

	for _, n := range d.m.ByType(policyType) {
		if err := cp.DryRunApply(ctx, &unstructured.Unstructured{Object: withKind(n.Inputs, "networking.k8s.io/v1", "NetworkPolicy")}); err != nil {
			t.Errorf("NetworkPolicy %s: %v", n.Name, err)
		}
	}

	manifests, err := chartrender.Render(chartDir(t), d.chartValues(t), ChartPin.Name, Namespace, testKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifests {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(m.YAML), &obj); err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetNamespace() == "" && m.Kind != "ClusterRole" && m.Kind != "ClusterRoleBinding" && m.Kind != "APIService" &&
			m.Kind != "ValidatingWebhookConfiguration" {
			u.SetNamespace(Namespace)
		}
		if err := cp.DryRunApply(ctx, u); err != nil {
			t.Errorf("%s %s (%s): %v", m.Kind, m.Name, m.Template, err)
		}
	}
}

// withKind adds what a typed Pulumi resource leaves out of its inputs.
func withKind(in map[string]any, apiVersion, kind string) map[string]any {
	out := map[string]any{"apiVersion": apiVersion, "kind": kind}
	for k, v := range in {
		out[k] = v
	}
	return out
}
