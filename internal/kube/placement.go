package kube

import (
	corev1 "k8s.io/api/core/v1"
)

// Placement is where a chart's pods may run, as plain data: a nodeSelector and tolerations in
// the form Kubernetes (and every chart's values) takes them. The eks package says what a pod
// needs for each of the cluster's NodePools; the add-ons take a Placement and put it under
// their charts' keys, so that they need not know the cluster. The zero Placement sets nothing:
// the pods keep the chart's defaults (a cluster this program does not shape).
type Placement struct {
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []Toleration      `json:"tolerations,omitempty"`
}

// Toleration is a pod's toleration (core/v1 Toleration, without tolerationSeconds).
type Toleration struct {
	Key      string `json:"key,omitempty"`
	Operator string `json:"operator,omitempty"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect,omitempty"`
}

// IsZero reports whether p sets nothing.
func (p Placement) IsZero() bool { return len(p.NodeSelector) == 0 && len(p.Tolerations) == 0 }

// Values are p's chart values: "nodeSelector" and "tolerations", each only when set, for the
// level of a chart's values that holds a pod's.
func (p Placement) Values() map[string]any {
	out := map[string]any{}
	if len(p.NodeSelector) > 0 {
		sel := map[string]any{}
		for k, v := range p.NodeSelector {
			sel[k] = v
		}
		out["nodeSelector"] = sel
	}
	if len(p.Tolerations) > 0 {
		out["tolerations"] = TolerationValues(p.Tolerations)
	}
	return out
}

// TolerationValues are tolerations as chart values.
func TolerationValues(tols []Toleration) []any {
	out := make([]any, 0, len(tols))
	for _, t := range tols {
		v := map[string]any{"key": t.Key, "operator": t.Operator, "effect": t.Effect}
		if t.Value != "" {
			v["value"] = t.Value
		}
		out = append(out, v)
	}
	return out
}

// Core is t as a core/v1 toleration, for Kubernetes' own matching.
func (t Toleration) Core() corev1.Toleration {
	return corev1.Toleration{Key: t.Key, Operator: corev1.TolerationOperator(t.Operator), Value: t.Value, Effect: corev1.TaintEffect(t.Effect)}
}
