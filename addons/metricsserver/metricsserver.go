// Package metricsserver installs Kubernetes Metrics Server, which serves the resource metrics API
// (metrics.k8s.io) that HorizontalPodAutoscalers on CPU and `kubectl top` read. EKS Auto Mode
// does not run it (its managed components are compute, load balancing, storage, networking, DNS
// and Pod Identity: https://docs.aws.amazon.com/eks/latest/userguide/automode.html), and
// kube-prometheus-stack does not provide it, so without it an HPA can never scale.
package metricsserver

import (
	"fmt"
	"maps"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
)

// Chart is the metrics-server chart at the published release metrics-server-helm-chart-3.13.1
// (https://github.com/kubernetes-sigs/metrics-server/releases/tag/metrics-server-helm-chart-3.13.1,
// app v0.8.1), listed in the chart repository's index.yaml. Its templates carry no Helm hooks, so
// it is a Pulumi Chart v4. Value keys checked in charts/metrics-server/values.yaml at that tag:
// replicas, updateStrategy, affinity, podDisruptionBudget.{enabled,maxUnavailable}, resources,
// nodeSelector (L185), tolerations (L187).
var Chart = charts.Chart{Name: "metrics-server", Repo: "https://kubernetes-sigs.github.io/metrics-server/", Version: "3.13.1"}

// Namespace is where metrics-server runs, as upstream installs it.
const Namespace = "kube-system"

// Args configures MetricsServer.
type Args struct {
	Provider *kubernetes.Provider
	// DependsOn are what the chart must wait for (the cluster's classes).
	DependsOn []pulumi.Resource
	// Placement is where the two replicas run (the platform NodePool on EKS); zero keeps the
	// chart's defaults.
	Placement kube.Placement
}

// MetricsServer is the installed metrics-server.
type MetricsServer struct {
	pulumi.ResourceState
	Chart *helmv4.Chart
}

// New installs metrics-server in kube-system, highly available as upstream's release-ha manifests
// make it: two replicas on different nodes with a disruption budget, so that a node replacement
// never leaves the HPAs blind. It runs where args.Placement says (its priority class is
// system-cluster-critical).
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*MetricsServer, error) {
	if args == nil || args.Provider == nil {
		return nil, fmt.Errorf("metrics-server %q: an explicit Kubernetes provider is required", name)
	}
	m := &MetricsServer{}
	if err := ctx.RegisterComponentResource("flask-eks:metricsserver:MetricsServer", name, m, opts...); err != nil {
		return nil, fmt.Errorf("registering metrics-server %q: %w", name, err)
	}
	ns, err := corev1.GetNamespace(ctx, name+"-kube-system", pulumi.ID(Namespace), nil, pulumi.Parent(m), pulumi.Provider(args.Provider))
	if err != nil {
		return nil, fmt.Errorf("metrics-server %q: reading kube-system: %w", name, err)
	}
	m.Chart, err = charts.Install(ctx, name, Chart, ns, pulumi.ToMap(chartValues(args.Placement)), args.Provider, pulumi.Parent(m), pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return nil, fmt.Errorf("metrics-server %q: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{}); err != nil {
		return nil, fmt.Errorf("metrics-server %q: registering outputs: %w", name, err)
	}
	return m, nil
}

// chartValues are the chart's values: upstream's high-availability component
// (manifests/components/high-availability at the same tag: two replicas, required anti-affinity
// on the node's hostname, one unavailable at a time) in the chart's keys. The anti-affinity
// selects the chart's selector labels (app.kubernetes.io/name and instance, the release being
// named after the chart). The placement goes under nodeSelector and tolerations.
func chartValues(placement kube.Placement) map[string]any {
	values := map[string]any{
		"replicas":       2,
		"updateStrategy": map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"maxUnavailable": 1}},
		"affinity": map[string]any{"podAntiAffinity": map[string]any{
			"requiredDuringSchedulingIgnoredDuringExecution": []any{map[string]any{
				"labelSelector": map[string]any{"matchLabels": map[string]any{
					"app.kubernetes.io/name": Chart.Name, "app.kubernetes.io/instance": Chart.Name,
				}},
				"topologyKey": "kubernetes.io/hostname",
			}},
		}},
		"podDisruptionBudget": map[string]any{"enabled": true, "maxUnavailable": 1},
		"resources":           map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "200Mi"}},
	}
	maps.Copy(values, placement.Values())
	return values
}
