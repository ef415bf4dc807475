package main

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/pulumitest"
)

// TestAppRunsOnItsPool: in every EKS stack the app's release places its pods so that of all
// the cluster's pools, the app pool alone can take them, and that pool allows Spot in dev and
// only on-demand in prod, as the stack files say.
func TestAppRunsOnItsPool(t *testing.T) {
	for stack, capacity := range map[string][]string{"dev": {"spot", "on-demand"}, "prod": {"on-demand"}} {
		cfg := stackConfig(t, stack)
		rec, err := runProgram(t, stack, cfg)
		if err != nil {
			t.Fatal(err)
		}
		values := rec.One(t, "kubernetes:helm.sh/v3:Release", "app").Inputs["values"].(map[string]any)
		sel := map[string]string{}
		selector, _ := values["nodeSelector"].(map[string]any)
		for k, v := range selector {
			sel[k] = v.(string)
		}
		var tols []corev1.Toleration
		tolerations, _ := values["tolerations"].([]any)
		for _, v := range tolerations {
			m := v.(map[string]any)
			str := func(k string) string { s, _ := m[k].(string); return s }
			tols = append(tols, corev1.Toleration{Key: str("key"), Operator: corev1.TolerationOperator(str("operator")),
				Value: str("value"), Effect: corev1.TaintEffect(str("effect"))})
		}
		var fits []string
		for _, shape := range appPoolShapes(t, rec) {
			if shape.Fits(sel, tols) == nil {
				fits = append(fits, shape.Name)
			}
		}
		if !slices.Equal(fits, []string{eks.AppPool}) {
			t.Errorf("%s: the app's pods fit pools %v, want only %s", stack, fits, eks.AppPool)
		}
		for _, n := range rec.ByType("kubernetes:karpenter.sh/v1:NodePool") {
			if n.Name != "cluster-app" {
				continue
			}
			for _, r := range n.Inputs["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["requirements"].([]any) {
				req := r.(map[string]any)
				if req["key"] != "karpenter.sh/capacity-type" {
					continue
				}
				var got []string
				for _, v := range req["values"].([]any) {
					got = append(got, v.(string))
				}
				if !slices.Equal(got, capacity) {
					t.Errorf("%s: app pool capacity types %v, want %v", stack, got, capacity)
				}
			}
		}
	}
}

// appPoolShapes are the pools of the recorded cluster: the program's two, as recorded
// (taints and requirements), and the built-in ones when the cluster turns them on.
func appPoolShapes(t *testing.T, rec *pulumitest.Mocks) []eks.PoolShape {
	t.Helper()
	var shapes []eks.PoolShape
	for _, n := range rec.ByType("kubernetes:karpenter.sh/v1:NodePool") {
		spec := n.Inputs["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		s := eks.PoolShape{Name: n.Inputs["metadata"].(map[string]any)["name"].(string), Requirements: map[string][]string{}}
		for _, tt := range spec["taints"].([]any) {
			m := tt.(map[string]any)
			v, _ := m["value"].(string)
			s.Taints = append(s.Taints, eks.Taint{Key: m["key"].(string), Value: v, Effect: m["effect"].(string)})
		}
		for _, r := range spec["requirements"].([]any) {
			m := r.(map[string]any)
			if m["operator"] != "In" {
				continue
			}
			for _, v := range m["values"].([]any) {
				s.Requirements[m["key"].(string)] = append(s.Requirements[m["key"].(string)], v.(string))
			}
		}
		shapes = append(shapes, s)
	}
	if len(shapes) != 2 {
		t.Fatalf("%d NodePools recorded, want 2", len(shapes))
	}
	if pools := rec.Only(t, "eks:index:Cluster").Inputs["autoMode"].(map[string]any)["computeConfig"].(map[string]any)["nodePools"].([]any); len(pools) > 0 {
		shapes = append(shapes, eks.BuiltInPoolShapes()...)
	}
	return shapes
}
