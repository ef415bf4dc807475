// Package keda installs KEDA (https://keda.sh), the event-driven autoscaler, and declares the
// ScaledObject that scales the app on its request rate, read from the app's own Prometheus
// metric through KEDA's Prometheus scaler.
//
// KEDA has three parts, each its own Deployment in namespace keda:
//   - the operator (keda-operator) runs the scalers: it queries Prometheus, and creates and owns
//     one HorizontalPodAutoscaler per ScaledObject;
//   - the metrics API server (keda-operator-metrics-apiserver) serves external.metrics.k8s.io to
//     the HPA controller, asking the operator for values over gRPC (port 9666);
//   - the admission webhooks (keda-admission-webhooks) reject invalid ScaledObjects, among them
//     one whose workload another HPA already scales.
package keda

import (
	"fmt"
	"maps"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/netpol"
)

// ChartPin is the keda chart at the published release v2.20.2 of kedacore/charts (tag v2.20.2,
// commit cbb9bb8ce0809dc9048f72302f7c09765d66ed56, "prepare v2.20.2 release (#895)";
// https://github.com/kedacore/charts/tree/v2.20.2/keda), app version 2.20.2, whose Go module
// github.com/kedacore/keda/v2@v2.20.2 the tests decode ScaledObjects with. It is the newest
// chart release with evidence: kedacore/charts has no later tag (checked up to 2026-08-22).
//
// A Pulumi Chart v4: no template carries a helm.sh/hook annotation at that tag, and nothing uses
// `lookup`. Its CRDs are templates (templates/crds/, behind crds.install), so Chart v4 applies
// them like any other object, with server-side apply (crd-scaledjobs is about 650 KB, too big for
// the last-applied annotation of a client-side apply).
var ChartPin = charts.Chart{Name: "keda", Repo: "https://kedacore.github.io/charts", Version: "2.20.2"}

// Namespace is where KEDA runs: the chart's default namespace.
const Namespace = "keda"

// Names and ports the chart (v2.20.2) gives KEDA's parts. The pods carry the label app=<name>
// (templates/*/deployment.yaml), which the NetworkPolicies select on.
const (
	OperatorName      = "keda-operator"                   // operator.name
	MetricsServerName = "keda-operator-metrics-apiserver" // "<operator.name>-metrics-apiserver"
	WebhooksName      = "keda-admission-webhooks"         // webhooks.name

	operatorGRPCPort    = 9666 // the operator's metrics service, fixed in the templates
	metricsServerPort   = 6443 // service.portHttpsTarget: the APIService's backend
	webhooksPort        = 9443 // webhooks.port, "" defaults to 9443
	externalMetricsName = "v1beta1.external.metrics.k8s.io"
)

// Args configures KEDA.
type Args struct {
	// Provider is the Kubernetes provider of the target cluster.
	Provider *kubernetes.Provider
	// APIServer is where KEDA's pods reach the API server (its Service's address and its
	// network interfaces in the VPC), and where the API server calls the metrics API server
	// (6443) and the admission webhooks (9443) from (the VPC). The security groups already admit those calls: Auto Mode's
	// nodes carry the cluster security group eks-cluster-sg-* (the default NodeClass;
	// https://docs.aws.amazon.com/eks/latest/userguide/auto-networking.html), which is also on
	// the control plane's network interfaces and admits all traffic from itself
	// (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html), so only these
	// NetworkPolicies decide.
	APIServer netpol.APIServer
	// Prometheus is the Prometheus that ScaledObjects query and the operator may reach. Its
	// namespace's own policy must admit namespace keda too (monitoring's PrometheusClients).
	Prometheus Prometheus
	// WatchNamespace, when set, restricts KEDA to ScaledObjects in that one namespace (the app's),
	// and with it the operator's RBAC: the chart binds the operator's ClusterRole with
	// RoleBindings in that namespace and in keda only, instead of a ClusterRoleBinding
	// (templates/manager/clusterrolebindings.yaml). The chart waits for it, since it puts a
	// RoleBinding there. WatchNamespaceName is its name, known at preview.
	WatchNamespace     *corev1.Namespace
	WatchNamespaceName string
	// Replicas of each of KEDA's Deployments (0 means 1). With 2 or more each also gets a
	// PodDisruptionBudget of maxUnavailable 1. Only one operator is active at a time (leader
	// election) and only one metrics API server can serve external.metrics.k8s.io in a cluster;
	// more replicas shorten failovers only (https://keda.sh/docs/2.20/operate/cluster/#high-availability).
	Replicas int
	// DependsOn are what the chart must wait for (the cluster's classes).
	DependsOn []pulumi.Resource
	// Placement is where KEDA's three Deployments run (the platform NodePool on EKS); zero
	// keeps the chart's defaults.
	Placement kube.Placement
}

// Prometheus is where KEDA's operator finds the metrics it scales on: the in-cluster URL its
// queries go to, and the pods and port behind it, for the operator's egress policy. main.go
// fills it from the monitoring component, so this package knows nothing of kube-prometheus-stack.
type Prometheus struct {
	URL       string
	Namespace string
	PodLabels map[string]string
	Port      int
}

// KEDA is the installed KEDA.
type KEDA struct {
	pulumi.ResourceState

	// Chart installs KEDA, its CRDs, its admission webhook and the external metrics APIService;
	// a ScaledObject depends on it.
	Chart *helmv4.Chart
	// PrometheusURL is the Prometheus ScaledObjects query: the one the operator's NetworkPolicy
	// lets it reach.
	PrometheusURL string

	NamespaceName pulumi.StringOutput `pulumi:"namespace"`
}

// Existing is a KEDA that this program does not install (a cluster's own, or only its CRDs on a
// test API server): ScaledObjects query prometheusURL and wait for nothing of KEDA's.
func Existing(prometheusURL string) *KEDA {
	return &KEDA{PrometheusURL: prometheusURL}
}

// New installs KEDA from its chart into namespace keda, with:
//   - the namespace baseline (Pod Security "restricted", default deny, egress to DNS and the API
//     server), plus ingress from the VPC to the metrics API server and the webhooks (the API
//     server calls them), the metrics API server to the operator's gRPC port, and egress from
//     the operator to Prometheus;
//   - resource requests on every container (EKS Auto Mode sizes nodes by requests) and the
//     restricted security context, stated in full;
//   - args.Placement's node selector (beside the chart's kubernetes.io/os=linux) and
//     tolerations on all three Deployments: on EKS, the platform NodePool;
//   - the least privilege the chart offers: Secrets readable in namespace keda only (no trigger
//     here authenticates with one), no wildcard scale permissions (Deployments and StatefulSets
//     keep theirs), and WatchNamespace.
//
// The chart registers the APIService v1beta1.external.metrics.k8s.io, of which a cluster has
// only one (https://github.com/kubernetes-sigs/custom-metrics-apiserver/issues/70): nothing
// else may serve external metrics (no prometheus-adapter with external rules). metrics-server
// serves v1beta1.metrics.k8s.io, another group, and is unaffected. While the metrics API server
// is unavailable, API discovery of that group fails and every HPA on external metrics stops
// scaling (they keep their replica counts).
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*KEDA, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("keda %q: %w", name, err)
	}
	k := &KEDA{PrometheusURL: args.Prometheus.URL}
	if err := ctx.RegisterComponentResource("flask-eks:keda:KEDA", name, k, opts...); err != nil {
		return nil, fmt.Errorf("registering keda %q: %w", name, err)
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(k), pulumi.Provider(args.Provider)}
	// The namespace (and so every NetworkPolicy in it) waits for the cluster's classes, among
	// them the switch that enforces NetworkPolicies, and on destroy goes before it.
	ns, err := kube.RestrictedNamespace(ctx, name+"-ns", Namespace, netpol.Egress{APIServer: args.APIServer}, append(k8s, pulumi.DependsOn(args.DependsOn))...)
	if err != nil {
		return nil, fmt.Errorf("keda %q: %w", name, err)
	}
	if err := networkPolicies(ctx, name, ns, args, k8s); err != nil {
		return nil, fmt.Errorf("keda %q: %w", name, err)
	}
	deps := append([]pulumi.Resource{}, args.DependsOn...)
	if args.WatchNamespace != nil {
		deps = append(deps, args.WatchNamespace)
	}
	k.Chart, err = charts.Install(ctx, name, ChartPin, ns, pulumi.ToMap(chartValues(args)), args.Provider,
		pulumi.Parent(k), pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("keda %q: %w", name, err)
	}
	k.NamespaceName = ns.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(k, pulumi.Map{"namespace": k.NamespaceName}); err != nil {
		return nil, fmt.Errorf("keda %q: registering outputs: %w", name, err)
	}
	return k, nil
}

func (a *Args) validate() error {
	switch {
	case a == nil || a.Provider == nil:
		return fmt.Errorf("an explicit Kubernetes provider is required")
	case a.APIServer.Validate() != nil:
		return fmt.Errorf("%w: the API server calls the metrics API server and the webhooks from there", a.APIServer.Validate())
	case a.Prometheus.URL == "" || a.Prometheus.Namespace == "" || len(a.Prometheus.PodLabels) == 0 || a.Prometheus.Port == 0:
		return fmt.Errorf("the Prometheus to query (URL, namespace, pod labels, port) is required: the Prometheus scaler queries it")
	case (a.WatchNamespace == nil) != (a.WatchNamespaceName == ""):
		return fmt.Errorf("the watched namespace needs both its object and its name")
	case a.Replicas < 0:
		return fmt.Errorf("replicas must not be negative, got %d", a.Replicas)
	}
	return nil
}

// Resource requests and limits of KEDA's containers. The requests are what the parts use in a
// small cluster (the chart's defaults are 100m/100Mi each); Auto Mode provisions nodes by
// requests. The memory limit stops a leak from starving the node; the CPU limit is the chart's.
var (
	operatorResources      = resources{CPU: "50m", Memory: "128Mi", LimitMemory: "512Mi"}
	metricsServerResources = resources{CPU: "50m", Memory: "128Mi", LimitMemory: "512Mi"}
	webhooksResources      = resources{CPU: "20m", Memory: "64Mi", LimitMemory: "256Mi"}
)

type resources struct{ CPU, Memory, LimitMemory string }

func (r resources) values() map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": r.CPU, "memory": r.Memory},
		"limits":   map[string]any{"cpu": "1", "memory": r.LimitMemory},
	}
}

// chartValues are the chart's values. Every key is checked in keda/values.yaml at v2.20.2
// (line numbers there): crds.install (55), watchNamespace (63), networkPolicy.enabled (70),
// operator.replicaCount (95), metricsServer.replicaCount (166), webhooks.replicaCount (239),
// webhooks.failurePolicy (253), podDisruptionBudget.{operator,metricServer,webhooks} (282-297),
// rbac.enabledCustomScaledRefKinds (330), image.pullPolicy (45), securityContext.{operator,
// metricServer,webhooks} (467-499), podSecurityContext.{operator,metricServer,webhooks}
// (501-524), resources.{operator,metricServer,webhooks} (546-570),
// permissions.{metricServer,operator}.restrict.secret (917, 922), enableServiceLinks (955),
// and the placement of all three parts: nodeSelector (572) and tolerations (574), which each
// Deployment reads unless its own operator/metricsServer/webhooks.* is set
// (templates/*/deployment.yaml: `.Values.<part>.nodeSelector | default .Values.nodeSelector`).
// TestChartValuesExist checks them against that chart, which the tests render from the module
// proxy (modules.KEDAChartsModule).
func chartValues(args *Args) map[string]any {
	replicas := max(args.Replicas, 1)
	pdb := map[string]any{}
	if replicas > 1 {
		pdb = map[string]any{"maxUnavailable": 1}
	}
	perPart := func(operator, metricsServer, webhooks any) map[string]any {
		return map[string]any{"operator": operator, "metricServer": metricsServer, "webhooks": webhooks}
	}
	// The "restricted" Pod Security Standard, stated in full rather than left to defaults.
	container := map[string]any{
		"runAsNonRoot":             true,
		"allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem":   true,
		"capabilities":             map[string]any{"drop": []any{"ALL"}},
		"seccompProfile":           map[string]any{"type": "RuntimeDefault"},
	}
	pod := map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}
	values := map[string]any{
		"crds": map[string]any{"install": true},
		// "" watches every namespace.
		"watchNamespace": args.WatchNamespaceName,
		// The chart's own policies admit and allow far more (egress to every pod of the
		// cluster); this component declares narrower ones.
		"networkPolicy": map[string]any{"enabled": false},
		"operator":      map[string]any{"replicaCount": replicas},
		"metricsServer": map[string]any{"replicaCount": replicas},
		// failurePolicy stays Ignore, the chart's default: with Fail, a ScaledObject created
		// before the operator has patched the webhook's caBundle would be refused (on a first
		// install, the next apply would pass). What the webhook guards, a second HPA on the
		// Deployment, the app chart already rules out (autoscaling.external).
		"webhooks":            map[string]any{"replicaCount": replicas, "failurePolicy": "Ignore"},
		"podDisruptionBudget": perPart(pdb, pdb, pdb),
		// Deployments and StatefulSets are scaled through rules the ClusterRole always has;
		// the default adds get/patch on */scale of every API group.
		"rbac": map[string]any{"enabledCustomScaledRefKinds": false},
		// The images are pinned by the chart's appVersion; Always would make every restart
		// depend on ghcr.io answering.
		"image":              map[string]any{"pullPolicy": "IfNotPresent"},
		"securityContext":    perPart(container, container, container),
		"podSecurityContext": perPart(pod, pod, pod),
		"resources":          perPart(operatorResources.values(), metricsServerResources.values(), webhooksResources.values()),
		// No trigger here authenticates with a Secret: the operator and the metrics API server
		// read Secrets in namespace keda only (their certificates).
		"permissions": map[string]any{
			"operator":     map[string]any{"restrict": map[string]any{"secret": true}},
			"metricServer": map[string]any{"restrict": map[string]any{"secret": true}},
		},
		"enableServiceLinks": false,
	}
	maps.Copy(values, args.Placement.Values())
	return values
}

// networkPolicies open, on top of the namespace baseline (default deny; DNS and the API server):
//   - from the VPC (the API server) to the metrics API server's 6443 and the webhooks' 9443;
//   - from the metrics API server to the operator's gRPC port 9666, both ways of the connection;
//   - from the operator to Prometheus's 9090 in the monitoring namespace.
//
// Kubelet probes come from the node, which the EKS network policy agent always admits.
func networkPolicies(ctx *pulumi.Context, name string, ns *corev1.Namespace, args *Args, k8s []pulumi.ResourceOption) error {
	vpc := args.APIServer.Callers()
	if err := netpol.Ingress(ctx, name+"-metrics-apiserver-ingress", ns, "metrics-apiserver-from-api-server",
		appLabel(MetricsServerName), vpc, netpol.TCP(metricsServerPort), k8s...); err != nil {
		return err
	}
	if err := netpol.Ingress(ctx, name+"-webhooks-ingress", ns, "webhooks-from-api-server",
		appLabel(WebhooksName), vpc, netpol.TCP(webhooksPort), k8s...); err != nil {
		return err
	}
	metricsServer := networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(appLabel(MetricsServerName))},
	}}
	if err := netpol.Ingress(ctx, name+"-operator-ingress", ns, "operator-from-metrics-apiserver",
		appLabel(OperatorName), metricsServer, netpol.TCP(operatorGRPCPort), k8s...); err != nil {
		return err
	}
	operator := networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(appLabel(OperatorName))},
	}}
	if err := netpol.EgressTo(ctx, name+"-metrics-apiserver-egress", ns, "metrics-apiserver-to-operator",
		appLabel(MetricsServerName), operator, netpol.TCP(operatorGRPCPort), k8s...); err != nil {
		return err
	}
	prometheus := networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(args.Prometheus.Namespace)}},
		PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(args.Prometheus.PodLabels)},
	}}
	return netpol.EgressTo(ctx, name+"-operator-egress", ns, "operator-to-prometheus",
		appLabel(OperatorName), prometheus, netpol.TCP(args.Prometheus.Port), k8s...)
}

func appLabel(name string) map[string]string { return map[string]string{"app": name} }
