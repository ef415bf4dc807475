package keda

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	appsv1 "k8s.io/api/apps/v1"
	k8scorev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/modules"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/pulumitest"
)

const (
	appNamespace     = "flask-app"
	appRelease       = "flask-app" // the Deployment, named after the release
	monitoringNS     = "monitoring"
	vpcCIDR          = "10.20.0.0/16"
	chartType        = "kubernetes:helm.sh/v4:Chart"
	releaseType      = "kubernetes:helm.sh/v3:Release"
	namespaceType    = "kubernetes:core/v1:Namespace"
	policyType       = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	scaledObjectType = "kubernetes:keda.sh/v1alpha1:ScaledObject"
	testKubeVersion  = "v1.35.0"
)

// testAPIServer is the API server as main.go describes it: the `kubernetes` Service's address
// and the VPC.
var testAPIServer = netpol.APIServer{ServiceAddress: "172.20.0.1", CIDRs: []string{vpcCIDR}}

// testPlacement is a pool's placement as main.go passes the platform pool's.
var testPlacement = kube.Placement{
	NodeSelector: map[string]string{"karpenter.sh/nodepool": "platform"},
	Tolerations:  []kube.Toleration{{Key: "CriticalAddonsOnly", Operator: "Exists", Effect: "NoSchedule"}},
}

var testScaling = Scaling{MinReplicas: 2, MaxReplicas: 10, TargetRequestsPerSecond: 50}

// testPrometheus is kube-prometheus-stack's Prometheus as main.go describes it to KEDA.
var testPrometheus = Prometheus{
	URL:       "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
	Namespace: monitoringNS,
	PodLabels: map[string]string{"app.kubernetes.io/name": "prometheus"},
	Port:      9090,
}

// deployment is one run of KEDA and the app's ScaledObject, composed as main.go would: the app's
// namespace and release stand in for app.NewApp's.
type deployment struct {
	m     *pulumitest.Mocks
	keda  *KEDA
	so    *ScaledObject
	hpa   *pulumitest.Value
	sName *pulumitest.Value
}

func deploy(t *testing.T, scaling Scaling) *deployment {
	t.Helper()
	return deployNamed(t, scaling, "")
}

// deployNamed is deploy with an HPA name for the ScaledObject ("" for KEDA's default).
func deployNamed(t *testing.T, scaling Scaling, hpaName string) *deployment {
	t.Helper()
	d := &deployment{m: pulumitest.New("flask-eks", "test")}
	err := pulumitest.Run(t, d.m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		ns, err := corev1.NewNamespace(ctx, "app-ns", &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(appNamespace)},
		}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		release, err := charts.NewRelease(ctx, "app", &charts.ReleaseArgs{
			Name: pulumi.String(appRelease), Chart: pulumi.String("../../app/chart"), Namespace: pulumi.String(appNamespace),
		}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		d.keda, err = New(ctx, "keda", &Args{
			Provider: p, APIServer: testAPIServer, Prometheus: testPrometheus,
			WatchNamespace: ns, WatchNamespaceName: appNamespace, Placement: testPlacement,
		})
		if err != nil {
			return err
		}
		d.so, err = NewScaledObject(ctx, "app-scaler", &ScaledObjectArgs{
			Provider: p, KEDA: d.keda, Namespace: ns, NamespaceName: appNamespace,
			Deployment: appRelease, Release: release, Scaling: scaling, HPAName: hpaName,
		})
		if err != nil {
			return err
		}
		d.hpa = pulumitest.Capture(d.so.HPAName)
		d.sName = pulumitest.Capture(d.so.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// chartDir is ChartPin's chart at its release tag, from the module proxy (modules.KEDAChartsModule).
func chartDir(t testing.TB) string {
	t.Helper()
	return modules.ChartDir(t, modules.KEDAChartsModule, ChartPin.Name, ChartPin.Name, ChartPin.Version)
}

// chartInputs are the values the program passed to the KEDA chart, as the engine got them.
func (d *deployment) chartValues(t *testing.T) map[string]any {
	t.Helper()
	chart := d.m.Only(t, chartType)
	if chart.Inputs["chart"] != ChartPin.Name || chart.Inputs["version"] != ChartPin.Version {
		t.Fatalf("chart %v %v, want %s %s", chart.Inputs["chart"], chart.Inputs["version"], ChartPin.Name, ChartPin.Version)
	}
	return chart.Inputs["values"].(map[string]any)
}

// rendered is the pinned chart rendered with the program's values, in namespace keda, as
// generic objects by kind.
type rendered map[string][]map[string]any

func renderKEDA(t *testing.T, values map[string]any) rendered {
	t.Helper()
	manifests, err := chartrender.Render(chartDir(t), values, ChartPin.Name, Namespace, testKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	out := rendered{}
	for _, m := range manifests {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(m.YAML), &obj); err != nil {
			t.Fatalf("%s: %v", m.Template, err)
		}
		out[m.Kind] = append(out[m.Kind], obj)
	}
	return out
}

// deployments decodes the rendered Deployments strictly, by name.
func (r rendered) deployments(t *testing.T) map[string]*appsv1.Deployment {
	t.Helper()
	out := map[string]*appsv1.Deployment{}
	for _, obj := range r["Deployment"] {
		var d appsv1.Deployment
		strict(t, obj, &d)
		out[d.Name] = &d
	}
	return out
}

func strict(t *testing.T, obj map[string]any, into any) {
	t.Helper()
	b, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("strict decoding %v: %v", obj["kind"], err)
	}
}

// TestKEDAChart renders the pinned chart with the values the program passes, and checks what
// the cluster would run: every container with requests and the restricted security context,
// placed as Args.Placement says, the one external-metrics APIService, and the
// least-privilege RBAC that WatchNamespace and the secret restriction give.
func TestKEDAChart(t *testing.T) {
	d := deploy(t, testScaling)
	r := renderKEDA(t, d.chartValues(t))

	deps := r.deployments(t)
	if got, want := mapsKeys(deps), slices.Sorted(slices.Values([]string{WebhooksName, OperatorName, MetricsServerName})); !slices.Equal(got, want) {
		t.Fatalf("Deployments %v, want the operator, the metrics API server and the webhooks", got)
	}
	for name, dep := range deps {
		spec := dep.Spec.Template.Spec
		if dep.Spec.Template.Labels["app"] != name {
			t.Errorf("%s: pod label app=%q; the NetworkPolicies select app=%s", name, dep.Spec.Template.Labels["app"], name)
		}
		if len(spec.Tolerations) != 1 || spec.Tolerations[0] != testPlacement.Tolerations[0].Core() || spec.Affinity != nil || spec.PriorityClassName != "" {
			t.Errorf("%s: tolerations %v, affinity %v, priority %q; want only the placement's toleration", name, spec.Tolerations, spec.Affinity, spec.PriorityClassName)
		}
		if want := map[string]string{"kubernetes.io/os": "linux", "karpenter.sh/nodepool": "platform"}; !maps.Equal(spec.NodeSelector, want) {
			t.Errorf("%s: node selector %v, want %v (the chart's and the placement's)", name, spec.NodeSelector, want)
		}
		if spec.HostNetwork {
			t.Errorf("%s: on the host network", name)
		}
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != k8scorev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod security context %+v, want non-root with RuntimeDefault seccomp", name, psc)
		}
		if len(spec.InitContainers) != 0 || len(spec.Containers) != 1 {
			t.Errorf("%s: %d init containers and %d containers, want one container", name, len(spec.InitContainers), len(spec.Containers))
		}
		for _, c := range spec.Containers {
			req := c.Resources.Requests
			if req.Cpu().IsZero() || req.Memory().IsZero() {
				t.Errorf("%s/%s: requests %v; Auto Mode sizes nodes by requests", name, c.Name, req)
			}
			if c.Resources.Limits.Memory().Cmp(*req.Memory()) < 0 {
				t.Errorf("%s/%s: memory limit %v below the request %v", name, c.Name, c.Resources.Limits.Memory(), req.Memory())
			}
			restricted(t, name+"/"+c.Name, c.SecurityContext)
			if c.ImagePullPolicy != k8scorev1.PullIfNotPresent || !strings.HasSuffix(c.Image, ":"+ChartPin.Version) {
				t.Errorf("%s/%s: image %s (%s), want the chart's version, IfNotPresent", name, c.Name, c.Image, c.ImagePullPolicy)
			}
		}
		if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
			t.Errorf("%s: service links enabled", name)
		}
	}

	// One APIService, for external metrics only.
	if svcs := r["APIService"]; len(svcs) != 1 || svcs[0]["metadata"].(map[string]any)["name"] != externalMetricsName {
		t.Errorf("APIServices %v, want only %s", svcs, externalMetricsName)
	}

	// WatchNamespace: the operator is bound in the app's namespace and in keda, not cluster-wide,
	// except for the chart's minimal cluster role (APIService and webhook CA patching).
	var bound []string
	for _, obj := range r["RoleBinding"] {
		var rb rbacv1.RoleBinding
		strict(t, obj, &rb)
		if rb.RoleRef.Kind == "ClusterRole" && rb.RoleRef.Name == OperatorName {
			bound = append(bound, rb.Namespace)
		}
	}
	slices.Sort(bound)
	if !slices.Equal(bound, []string{appNamespace, Namespace}) {
		t.Errorf("the operator's ClusterRole is bound in %v, want [%s %s]", bound, appNamespace, Namespace)
	}
	for _, obj := range r["ClusterRoleBinding"] {
		var crb rbacv1.ClusterRoleBinding
		strict(t, obj, &crb)
		if crb.RoleRef.Name == OperatorName {
			t.Errorf("ClusterRoleBinding %s grants the operator's full ClusterRole cluster-wide", crb.Name)
		}
	}
	for _, obj := range r["ClusterRole"] {
		var cr rbacv1.ClusterRole
		strict(t, obj, &cr)
		for _, rule := range cr.Rules {
			if slices.Contains(rule.Resources, "secrets") && cr.Name != "keda-operator-external-metrics-reader" {
				t.Errorf("ClusterRole %s: %v on secrets, want Secrets readable in namespace keda only", cr.Name, rule.Verbs)
			}
			if slices.Contains(rule.APIGroups, "*") {
				t.Errorf("ClusterRole %s: a rule on every API group: %+v", cr.Name, rule)
			}
		}
	}
	// With one replica there is nothing for a disruption budget to keep.
	if pdbs := r["PodDisruptionBudget"]; len(pdbs) != 0 {
		t.Errorf("%d PodDisruptionBudgets with one replica each", len(pdbs))
	}
	// The chart's own, broader NetworkPolicies stay off.
	if nps := r["NetworkPolicy"]; len(nps) != 0 {
		t.Errorf("the chart renders %d NetworkPolicies", len(nps))
	}
}

func restricted(t *testing.T, where string, sc *k8scorev1.SecurityContext) {
	t.Helper()
	switch {
	case sc == nil:
		t.Errorf("%s: no security context", where)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation,
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem,
		sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot,
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []k8scorev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0,
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != k8scorev1.SeccompProfileTypeRuntimeDefault,
		sc.Privileged != nil && *sc.Privileged:
		t.Errorf("%s: security context %+v is not the restricted one", where, sc)
	}
}

func mapsKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// TestKEDAReplicas: with two replicas, each part gets a disruption budget.
func TestKEDAReplicas(t *testing.T) {
	args := &Args{Replicas: 2, WatchNamespaceName: appNamespace}
	r := renderKEDA(t, chartValues(args))
	for name, dep := range r.deployments(t) {
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
			t.Errorf("%s: replicas %v, want 2", name, dep.Spec.Replicas)
		}
	}
	if pdbs := r["PodDisruptionBudget"]; len(pdbs) != 3 {
		t.Errorf("%d PodDisruptionBudgets, want one per Deployment", len(pdbs))
	}
}

// TestChartValuesExist checks every key the program sets against the chart's values.yaml at the
// pinned tag: a misspelt key would otherwise be ignored without a word (the chart has no
// values.schema.json).
func TestChartValuesExist(t *testing.T) {
	ch, err := chartrender.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if unknown := chartrender.UnknownValues(chartValues(&Args{Replicas: 2, WatchNamespaceName: appNamespace, Placement: testPlacement}), ch.Values, freeForm); len(unknown) != 0 {
		t.Errorf("values not in the chart's values.yaml: %v", unknown)
	}
	// The check itself catches a typo, and one below a known key.
	typos := map[string]any{"webhook": map[string]any{}, "operator": map[string]any{"replicas": 2}, "toleration": []any{}}
	if unknown := chartrender.UnknownValues(typos, ch.Values, freeForm); !slices.Equal(unknown, []string{"operator.replicas", "toleration", "webhook"}) {
		t.Errorf("typos found: %v", unknown)
	}
}

// freeForm: below securityContext.<part>, podSecurityContext.<part>, resources.<part> and
// podDisruptionBudget.<part> goes a Kubernetes object of free form (a security context,
// resources, a disruption budget's spec), and below nodeSelector node labels, so any key.
func freeForm(path string) bool {
	if strings.HasPrefix(path, "nodeSelector.") {
		return true
	}
	return strings.Count(path, ".") >= 2 && slices.ContainsFunc(
		[]string{"securityContext.", "podSecurityContext.", "resources.", "podDisruptionBudget."},
		func(prefix string) bool { return strings.HasPrefix(path, prefix) })
}

// TestNetworkPolicies checks the policies against the rendered chart: each selects pods the
// chart really labels so, on ports its containers really listen on, and opens only what KEDA
// needs.
func TestNetworkPolicies(t *testing.T) {
	d := deploy(t, testScaling)
	r := renderKEDA(t, d.chartValues(t))
	deps := r.deployments(t)
	ports := func(dep string) []int {
		var out []int
		for _, c := range deps[dep].Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				out = append(out, int(p.ContainerPort))
			}
		}
		return out
	}

	type policy struct {
		selector map[string]any
		types    []any
		ingress  []any
		egress   []any
	}
	policies := map[string]policy{}
	for _, n := range d.m.ByType(policyType) {
		md := n.Inputs["metadata"].(map[string]any)
		if md["namespace"] != Namespace {
			t.Errorf("NetworkPolicy %v in namespace %v", md["name"], md["namespace"])
		}
		spec := n.Inputs["spec"].(map[string]any)
		p := policy{types: spec["policyTypes"].([]any)}
		p.selector, _ = spec["podSelector"].(map[string]any)["matchLabels"].(map[string]any)
		p.ingress, _ = spec["ingress"].([]any)
		p.egress, _ = spec["egress"].([]any)
		policies[md["name"].(string)] = p
	}
	names := mapsKeys(policies)
	want := []string{"default-deny", "egress", "metrics-apiserver-from-api-server", "metrics-apiserver-to-operator",
		"operator-from-metrics-apiserver", "operator-to-prometheus", "webhooks-from-api-server"}
	if !slices.Equal(names, want) {
		t.Fatalf("NetworkPolicies %v, want %v", names, want)
	}
	if dd := policies["default-deny"]; len(dd.selector) != 0 || len(dd.types) != 2 || dd.ingress != nil || dd.egress != nil {
		t.Errorf("default-deny %+v", dd)
	}

	// rule returns the only rule of a policy of one direction, its selected app, peers and ports.
	rule := func(name string) (app string, peers []any, ports []int) {
		p := policies[name]
		rules := append(p.ingress, p.egress...)
		if len(rules) != 1 || len(p.types) != 1 {
			t.Fatalf("%s: %d rules and types %v, want one rule of one direction", name, len(rules), p.types)
		}
		rl := rules[0].(map[string]any)
		for _, port := range rl["ports"].([]any) {
			pm := port.(map[string]any)
			if pm["protocol"] != "TCP" {
				t.Errorf("%s: protocol %v", name, pm["protocol"])
			}
			ports = append(ports, int(pm["port"].(float64)))
		}
		peers, _ = rl["from"].([]any)
		if to, ok := rl["to"].([]any); ok {
			peers = to
		}
		if len(p.selector) != 1 {
			t.Fatalf("%s: selector %v, want app=<part>", name, p.selector)
		}
		return p.selector["app"].(string), peers, ports
	}
	vpcOnly := func(name string, peers []any) {
		if len(peers) != 1 || fmt.Sprint(peers[0]) != fmt.Sprint(map[string]any{"ipBlock": map[string]any{"cidr": vpcCIDR}}) {
			t.Errorf("%s: peers %v, want only the VPC %s", name, peers, vpcCIDR)
		}
	}
	onlyApp := func(name string, peers []any, app string) {
		if len(peers) != 1 || fmt.Sprint(peers[0]) != fmt.Sprint(map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": app}}}) {
			t.Errorf("%s: peers %v, want only the pods app=%s of this namespace", name, peers, app)
		}
	}

	// The API server calls the metrics API server and the webhooks from the VPC, on the ports
	// their containers listen on.
	app, peers, p := rule("metrics-apiserver-from-api-server")
	vpcOnly("metrics-apiserver-from-api-server", peers)
	if app != MetricsServerName || !slices.Equal(p, []int{metricsServerPort}) || !slices.Contains(ports(app), metricsServerPort) {
		t.Errorf("metrics API server ingress on %s %v; its container listens on %v", app, p, ports(MetricsServerName))
	}
	app, peers, p = rule("webhooks-from-api-server")
	vpcOnly("webhooks-from-api-server", peers)
	if app != WebhooksName || !slices.Equal(p, []int{webhooksPort}) || !slices.Contains(ports(app), webhooksPort) {
		t.Errorf("webhooks ingress on %s %v; its container listens on %v", app, p, ports(WebhooksName))
	}
	// The metrics API server asks the operator over gRPC: allowed out of one, into the other.
	app, peers, p = rule("operator-from-metrics-apiserver")
	onlyApp("operator-from-metrics-apiserver", peers, MetricsServerName)
	if app != OperatorName || !slices.Equal(p, []int{operatorGRPCPort}) || !slices.Contains(ports(app), operatorGRPCPort) {
		t.Errorf("operator ingress on %s %v; its container listens on %v", app, p, ports(OperatorName))
	}
	app, peers, p = rule("metrics-apiserver-to-operator")
	onlyApp("metrics-apiserver-to-operator", peers, OperatorName)
	if app != MetricsServerName || !slices.Equal(p, []int{operatorGRPCPort}) {
		t.Errorf("metrics API server egress from %s to %v", app, p)
	}
	// The chart points the metrics API server at the operator's Service on that port.
	if args := strings.Join(deps[MetricsServerName].Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args,
		fmt.Sprintf("--metrics-service-address=%s.%s.svc.cluster.local:%d", OperatorName, Namespace, operatorGRPCPort)) {
		t.Errorf("the metrics API server's arguments %q name another operator address", args)
	}
	// Only the operator queries Prometheus, only kube-prometheus-stack's, on its web port.
	app, peers, p = rule("operator-to-prometheus")
	wantPeer := map[string]any{
		"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": monitoringNS}},
		"podSelector":       map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "prometheus"}},
	}
	if app != OperatorName || len(peers) != 1 || fmt.Sprint(peers[0]) != fmt.Sprint(wantPeer) || !slices.Equal(p, []int{9090}) {
		t.Errorf("Prometheus egress from %s to %v on %v", app, peers, p)
	}
	if d.keda.PrometheusURL != testPrometheus.URL {
		t.Errorf("PrometheusURL %s, want the given %s", d.keda.PrometheusURL, testPrometheus.URL)
	}

	// The namespace-wide egress: DNS and the API server, at its Service's address and in the
	// VPC, nothing else.
	eg := policies["egress"]
	if len(eg.selector) != 0 || len(eg.egress) != 2 {
		t.Fatalf("egress policy %+v, want DNS and the API server for every pod", eg)
	}
	api := eg.egress[1].(map[string]any)
	if want := []any{map[string]any{"ipBlock": map[string]any{"cidr": testAPIServer.ServiceAddress + "/32"}},
		map[string]any{"ipBlock": map[string]any{"cidr": vpcCIDR}}}; fmt.Sprint(api["to"]) != fmt.Sprint(want) {
		t.Errorf("API server egress to %v, want the kubernetes Service's address and the VPC %v", api["to"], want)
	}
	if fmt.Sprint(api["ports"]) != fmt.Sprint([]any{map[string]any{"port": float64(443), "protocol": "TCP"}}) {
		t.Errorf("API server egress on %v, want 443", api["ports"])
	}
}

// TestKEDANamespace: Pod Security "restricted" on namespace keda, and the chart waits for the
// watched namespace, where it puts a RoleBinding.
func TestKEDANamespace(t *testing.T) {
	d := deploy(t, testScaling)
	var ns map[string]any
	for _, n := range d.m.ByType(namespaceType) {
		if md := n.Inputs["metadata"].(map[string]any); md["name"] == Namespace {
			ns = md
		}
	}
	if ns == nil || ns["labels"].(map[string]any)["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Fatalf("namespace keda %v, want Pod Security restricted", ns)
	}
	chart := d.m.Only(t, chartType)
	if !pulumitest.DependsOn(d.m.Graph(), chart.URN, d.m.One(t, namespaceType, "app-ns").URN) {
		t.Error("the chart does not wait for the watched namespace")
	}
	if v := d.chartValues(t)["watchNamespace"]; v != appNamespace {
		t.Errorf("watchNamespace %v, want %s", v, appNamespace)
	}
}

func TestNewRefusesIncompleteArgs(t *testing.T) {
	for name, args := range map[string]*Args{
		"no provider":       {APIServer: testAPIServer, Prometheus: testPrometheus},
		"no API server":     {Provider: &kubernetes.Provider{}, Prometheus: testPrometheus},
		"no Prometheus":     {Provider: &kubernetes.Provider{}, APIServer: testAPIServer},
		"watch name only":   {Provider: &kubernetes.Provider{}, APIServer: testAPIServer, Prometheus: testPrometheus, WatchNamespaceName: appNamespace},
		"negative replicas": {Provider: &kubernetes.Provider{}, APIServer: testAPIServer, Prometheus: testPrometheus, Replicas: -1},
	} {
		if err := args.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
