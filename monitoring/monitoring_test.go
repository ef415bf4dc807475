package monitoring

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/pulumitest"
)

const webhookURL = "https://hooks.slack.com/services/T000/B000/mock-webhook-credential"

// monRun is one run of NewMonitoring under the shared mocks.
type monRun struct {
	m          *pulumitest.Mocks
	grafanaURL *pulumitest.Value
	password   *pulumitest.Value
}

func baseArgs() *MonitoringArgs {
	return &MonitoringArgs{
		Namespace:        "monitoring",
		StorageClassName: "gp3",
		Prometheus:       PrometheusSettings{Retention: "15d", StorageSize: "100Gi"},
		Grafana: GrafanaSettings{
			StorageSize: "10Gi", Exposure: GrafanaInternal, IngressClassName: "alb-internal",
			Host: "grafana.example.com", HTTPS: true, ALBSourceCIDRs: []string{"10.30.0.0/16"},
		},
		NodeExporter: true,
		NodeCIDRs:    []string{"10.30.0.0/16"},
		APIServer:    netpol.APIServer{ServiceAddress: "172.20.0.1", CIDRs: []string{"10.30.0.0/16"}},
		App: AppTarget{NamespaceName: "flask-app", Name: "flask-app",
			PodLabels: map[string]string{"app.kubernetes.io/name": "flask-app", "app.kubernetes.io/instance": "flask-app"}},
	}
}

func runMonitoring(t *testing.T, mutate func(*MonitoringArgs)) (*monRun, error) {
	t.Helper()
	r := &monRun{m: pulumitest.New("flask-eks", "test")}
	err := pulumitest.Run(t, r.m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		appNS, err := corev1.NewNamespace(ctx, "app-ns", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("flask-app")}}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		args := baseArgs()
		args.Provider, args.App.Namespace = p, appNS
		if mutate != nil {
			mutate(args)
		}
		mon, err := NewMonitoring(ctx, "monitoring", args)
		if err != nil {
			return err
		}
		r.grafanaURL, r.password = pulumitest.Capture(mon.GrafanaURL), pulumitest.Capture(mon.GrafanaAdminPassword)
		return nil
	})
	return r, err
}

func mustRun(t *testing.T, mutate func(*MonitoringArgs)) *monRun {
	t.Helper()
	r, err := runMonitoring(t, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// values decodes the release's values strictly into the chart's typed values: a key this
// program does not model (a typo) fails.
func (r *monRun) values(t *testing.T) chartValues {
	t.Helper()
	var v chartValues
	decodeStrict(t, r.m.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack").Raw["values"], &v)
	return v
}

func TestRelease(t *testing.T) {
	r := mustRun(t, nil)
	rel := r.m.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
	if rel.Inputs["chart"] != ChartName || rel.Inputs["version"] != ChartVersion ||
		rel.Inputs["repositoryOpts"].(map[string]any)["repo"] != ChartRepo || rel.Inputs["atomic"] != true {
		t.Errorf("release = %v, want the pinned chart, atomic", rel.Inputs)
	}
	if !slices.Contains(rel.Dependencies, r.m.One(t, "kubernetes:core/v1:Secret", "monitoring-grafana-admin").URN) {
		t.Error("the release does not wait for Grafana's admin Secret")
	}
}

func TestValues(t *testing.T) {
	v := mustRun(t, nil).values(t)
	p := v.Prometheus.PrometheusSpec
	if p.ServiceMonitorSelectorNilUsesHelmValues || p.PodMonitorSelectorNilUsesHelmValues || p.RuleSelectorNilUsesHelmValues {
		t.Error("Prometheus selects only this release's monitors and rules; the app's would be ignored")
	}
	if v.KubeControllerManager.Enabled || v.KubeScheduler.Enabled || v.KubeEtcd.Enabled || v.KubeProxy.Enabled || v.DefaultRules.Rules["etcd"] {
		t.Error("control-plane scrapes are on; EKS runs the control plane out of reach")
	}
	// kube-state-metrics would list every Secret of the cluster.
	if !slices.Equal(v.KubeStateMetrics.CollectorsExclude, []string{"secrets"}) {
		t.Errorf("kube-state-metrics collectorsExclude = %v, want secrets", v.KubeStateMetrics.CollectorsExclude)
	}
	// Helm never upgrades CRDs; the chart's upgrade job does.
	if !v.CRDs.UpgradeJob.Enabled {
		t.Error("the CRD upgrade job is off: a chart bump would leave the CRDs behind")
	}
	if p.StorageSpec.VolumeClaimTemplate.Spec.StorageClassName != "gp3" || v.Grafana.Persistence.Type != "sts" {
		t.Errorf("volumes: prometheus %+v grafana %+v", p.StorageSpec, v.Grafana.Persistence)
	}
	// Grafana reads only its own namespace: no ClusterRole on every Secret.
	g := v.Grafana
	if !g.RBAC.Namespaced || g.Sidecar.Dashboards.SearchNamespace != "monitoring" || g.Sidecar.Datasources.SearchNamespace != "monitoring" {
		t.Errorf("grafana rbac %+v sidecars %+v, want namespaced RBAC and sidecars limited to monitoring", g.RBAC, g.Sidecar)
	}
	if g.Admin.ExistingSecret != GrafanaAdminSecretName {
		t.Errorf("grafana admin secret %q", g.Admin.ExistingSecret)
	}
}

// TestNamespacePodSecurity: monitoring stays at "baseline" whether node-exporter runs or not;
// node-exporter, when it runs, gets a "privileged" namespace of its own with the default deny,
// which the release waits for and installs it into.
func TestNamespacePodSecurity(t *testing.T) {
	podSecurity := func(t *testing.T, r *monRun, name string) map[string]any {
		t.Helper()
		labels := r.m.One(t, "kubernetes:core/v1:Namespace", name).Inputs["metadata"].(map[string]any)["labels"].(map[string]any)
		for _, mode := range []string{"enforce", "warn", "audit"} {
			if labels["pod-security.kubernetes.io/"+mode] != labels["pod-security.kubernetes.io/enforce"] {
				t.Errorf("%s: %s %v, enforce %v", name, mode, labels["pod-security.kubernetes.io/"+mode], labels["pod-security.kubernetes.io/enforce"])
			}
		}
		return labels
	}
	for _, nodeExporter := range []bool{true, false} {
		r := mustRun(t, func(a *MonitoringArgs) { a.NodeExporter = nodeExporter })
		if got := podSecurity(t, r, "monitoring-ns")["pod-security.kubernetes.io/enforce"]; got != "baseline" {
			t.Errorf("node-exporter %v: monitoring enforces %v, want baseline", nodeExporter, got)
		}
		sub := r.values(t).PrometheusNodeExporter
		namespaces := 0
		for _, n := range r.m.ByType("kubernetes:core/v1:Namespace") {
			if n.ID == NodeExporterNamespace {
				namespaces++
			}
		}
		if !nodeExporter {
			if namespaces != 0 || sub != nil {
				t.Errorf("node-exporter off: %d namespaces %s, subchart values %+v", namespaces, NodeExporterNamespace, sub)
			}
			continue
		}
		if got := podSecurity(t, r, "monitoring-node-exporter-ns")["pod-security.kubernetes.io/enforce"]; got != "privileged" {
			t.Errorf("node-exporter's namespace enforces %v, want privileged", got)
		}
		if sub == nil || sub.NamespaceOverride != NodeExporterNamespace {
			t.Errorf("prometheus-node-exporter values %+v, want namespaceOverride %s", sub, NodeExporterNamespace)
		}
		deny := r.m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "monitoring-node-exporter-ns-default-deny")
		if deny.Inputs["metadata"].(map[string]any)["namespace"] != NodeExporterNamespace {
			t.Errorf("default deny in %v", deny.Inputs["metadata"])
		}
		ns := r.m.One(t, "kubernetes:core/v1:Namespace", "monitoring-node-exporter-ns")
		if release := r.m.Only(t, "kubernetes:helm.sh/v3:Release"); !slices.Contains(release.Dependencies, ns.URN) {
			t.Errorf("the release does not wait for %s: %v", NodeExporterNamespace, release.Dependencies)
		}
	}
}

func TestGrafanaExposure(t *testing.T) {
	t.Run("internal on its host, HTTPS", func(t *testing.T) {
		r := mustRun(t, nil)
		g := r.values(t).Grafana
		if !g.Ingress.Enabled || g.Ingress.IngressClassName != "alb-internal" || !slices.Equal(g.Ingress.Hosts, []string{"grafana.example.com"}) ||
			g.Ingress.Annotations["alb.ingress.kubernetes.io/ssl-redirect"] != "443" {
			t.Errorf("ingress %+v, want HTTPS on grafana.example.com through alb-internal", g.Ingress)
		}
		if g.GrafanaIni["server"]["root_url"] != "https://grafana.example.com/" {
			t.Errorf("root_url %v", g.GrafanaIni["server"])
		}
		if got := r.grafanaURL.String(t); got != "https://grafana.example.com/" {
			t.Errorf("grafanaUrl %q", got)
		}
		if len(r.m.ByType("kubernetes:networking.k8s.io/v1:Ingress")) != 0 {
			t.Error("the Ingress is read back although the host is known")
		}
	})
	t.Run("internal on the ALB's name", func(t *testing.T) {
		r := mustRun(t, func(a *MonitoringArgs) { a.Grafana.Host, a.Grafana.HTTPS = "", false })
		g := r.values(t).Grafana
		if _, ok := g.GrafanaIni["server"]; ok || len(g.Ingress.Hosts) != 0 {
			t.Errorf("without a host: grafana.ini %v, hosts %v; want neither", g.GrafanaIni, g.Ingress.Hosts)
		}
		read := r.m.Only(t, "kubernetes:networking.k8s.io/v1:Ingress")
		if read.ID != "monitoring/kube-prometheus-stack-grafana" {
			t.Errorf("reads Ingress %q, want the chart's Grafana Ingress", read.ID)
		}
		if got := r.grafanaURL.String(t); !strings.HasPrefix(got, "http://k8s-monitoring-kube-prometheus-stack-grafana-") {
			t.Errorf("grafanaUrl %q, want http:// on the ALB's name", got)
		}
	})
	t.Run("none", func(t *testing.T) {
		r := mustRun(t, func(a *MonitoringArgs) { a.Grafana = GrafanaSettings{StorageSize: "10Gi", Exposure: GrafanaNone} })
		if g := r.values(t).Grafana; g.Ingress.Enabled {
			t.Error("Grafana has an Ingress although its exposure is none")
		}
		if got := r.grafanaURL.String(t); got != "" {
			t.Errorf("grafanaUrl %q", got)
		}
	})
}

// TestAlerting checks the receiver the chart gets with Alertmanager's own configuration loader,
// and that the webhook's URL reaches Alertmanager only through the mounted Secret.
func TestAlerting(t *testing.T) {
	for _, slack := range []bool{true, false} {
		r := mustRun(t, func(a *MonitoringArgs) {
			a.Alerting = AlertingSettings{WebhookURL: pulumi.ToSecret(pulumi.String(webhookURL)).(pulumi.StringOutput), Slack: slack}
		})
		v := r.values(t)
		cfg := loadAlertmanagerConfig(t, v.Alertmanager.Config)
		if cfg.Route.Receiver != "notify" || len(cfg.Receivers) != 2 {
			t.Fatalf("slack %v: route %+v receivers %d, want everything to notify", slack, cfg.Route, len(cfg.Receivers))
		}
		notify := cfg.Receivers[1]
		switch {
		case slack && (len(notify.SlackConfigs) != 1 || notify.SlackConfigs[0].APIURLFile != "/etc/alertmanager/secrets/alert-receiver/url"):
			t.Errorf("slack receiver %+v, want the URL from the mounted Secret", notify)
		case !slack && (len(notify.WebhookConfigs) != 1 || notify.WebhookConfigs[0].URLFile != "/etc/alertmanager/secrets/alert-receiver/url"):
			t.Errorf("webhook receiver %+v, want the URL from the mounted Secret", notify)
		}
		if !slices.Equal(v.Alertmanager.AlertmanagerSpec.Secrets, []string{AlertReceiverSecretName}) {
			t.Errorf("alertmanagerSpec.secrets %v", v.Alertmanager.AlertmanagerSpec.Secrets)
		}
		sec := r.m.One(t, "kubernetes:core/v1:Secret", "monitoring-alert-receiver").Raw["stringData"]
		if !sec.IsSecret() {
			t.Error("the webhook URL is not secret in state")
		}
		if dump := fmt.Sprint(r.m.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack").Raw["values"].Mappable()); strings.Contains(dump, "mock-webhook-credential") {
			t.Error("the webhook URL is in the Helm values")
		}
	}
	// Without a webhook, alerts go to "null" and no Secret is mounted.
	v := mustRun(t, nil).values(t)
	if cfg := loadAlertmanagerConfig(t, v.Alertmanager.Config); cfg.Route.Receiver != "null" || len(v.Alertmanager.AlertmanagerSpec.Secrets) != 0 {
		t.Errorf("without a webhook: route %+v secrets %v", cfg.Route, v.Alertmanager.AlertmanagerSpec.Secrets)
	}
}

// loadAlertmanagerConfig validates c as Alertmanager itself would load it.
func loadAlertmanagerConfig(t *testing.T, c alertmanagerConfig) *amconfig.Config {
	t.Helper()
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := amconfig.Load(string(b))
	if err != nil {
		t.Fatalf("Alertmanager refuses the configuration: %v\n%s", err, b)
	}
	return cfg
}

func TestNoSecretInReleaseValues(t *testing.T) {
	r := mustRun(t, nil)
	vals := r.m.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack").Raw["values"]
	password := r.password.String(t)
	if strings.Contains(fmt.Sprint(vals.Mappable()), password) || vals.ContainsSecrets() {
		t.Error("the Grafana admin password is in the Helm values")
	}
	if !r.password.Secret() {
		t.Error("the admin password output is not secret")
	}
	sec := r.m.One(t, "kubernetes:core/v1:Secret", "monitoring-grafana-admin").Raw
	if !sec["stringData"].IsSecret() && !sec["stringData"].ObjectValue()[GrafanaAdminPasswordKey].IsSecret() {
		t.Error("the admin Secret's password is not secret in state")
	}
}

// TestNetworkPolicies: the namespace is closed by default, then opened per part.
func TestNetworkPolicies(t *testing.T) {
	r := mustRun(t, func(a *MonitoringArgs) { a.PrometheusClients = []string{"keda"} })
	policies := map[string]resource.PropertyMap{}
	for _, n := range r.m.ByType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		policies[n.Raw["metadata"].ObjectValue()["name"].StringValue()] = n.Raw["spec"].ObjectValue()
	}
	if got := slices.Sorted(maps.Keys(policies)); !slices.Equal(got, []string{"alertmanager-egress", "default-deny", "grafana-from-alb", "prometheus-clients", "stack"}) {
		t.Fatalf("policies %v", got)
	}
	if dd := policies["default-deny"]; len(dd["podSelector"].ObjectValue()) != 0 || len(dd["policyTypes"].ArrayValue()) != 2 {
		t.Errorf("default-deny %v", dd)
	}
	egress := fmt.Sprint(policies["alertmanager-egress"]["egress"].Mappable())
	if !strings.Contains(egress, "1.0.0.0/8") || strings.Contains(egress, "0.0.0.0/0") || strings.Contains(egress, "169.254.0.0") || !strings.Contains(egress, "443") {
		t.Errorf("alertmanager egress %s, want HTTPS to the internet only", egress)
	}
	grafana := policies["grafana-from-alb"]
	if sel := grafana["podSelector"].ObjectValue()["matchLabels"].ObjectValue()["app.kubernetes.io/name"].StringValue(); sel != "grafana" ||
		!strings.Contains(fmt.Sprint(grafana["ingress"].Mappable()), "10.30.0.0/16") || !strings.Contains(fmt.Sprint(grafana["ingress"].Mappable()), "3000") {
		t.Errorf("grafana ingress policy %v, want port 3000 from the ALB's networks", grafana)
	}
	if clients := fmt.Sprint(policies["prometheus-clients"]["ingress"].Mappable()); !strings.Contains(clients, "keda") || !strings.Contains(clients, "9090") {
		t.Errorf("prometheus clients %s, want keda on 9090", clients)
	}
	// The stack reaches the app's admin port only, and the API server at its Service's address
	// as well as in the VPC.
	if stack := fmt.Sprint(policies["stack"]["egress"].Mappable()); !strings.Contains(stack, "admin") || !strings.Contains(stack, "flask-app") {
		t.Errorf("stack egress %s, want the app's admin port", stack)
	}
	if stack := fmt.Sprint(policies["stack"]["egress"].Mappable()); !strings.Contains(stack, "172.20.0.1/32") {
		t.Errorf("stack egress %s, want the kubernetes Service's address", stack)
	}
}

func TestAppObjects(t *testing.T) {
	r := mustRun(t, nil)
	g := r.m.Graph()
	release := r.m.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
	pm := r.m.One(t, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "monitoring-app-podmonitor")
	if md := pm.Inputs["metadata"].(map[string]any); md["namespace"] != "flask-app" || md["name"] != "flask-app" {
		t.Errorf("PodMonitor metadata %v, want flask-app/flask-app (job flask-app/flask-app)", md)
	}
	spec := pm.Inputs["spec"].(map[string]any)
	if ep := spec["podMetricsEndpoints"].([]any)[0].(map[string]any); ep["port"] != "admin" || ep["path"] != "/metrics" {
		t.Errorf("PodMonitor endpoint %v, want /metrics on the admin port", ep)
	}
	if sel := spec["selector"].(map[string]any)["matchLabels"].(map[string]any); sel["app.kubernetes.io/instance"] != "flask-app" {
		t.Errorf("PodMonitor selector %v", sel)
	}
	for _, n := range []pulumitest.Node{pm, r.m.One(t, "kubernetes:core/v1:ConfigMap", "monitoring-dashboard"), r.m.One(t, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "monitoring-alerts")} {
		if !pulumitest.DependsOn(g, n.URN, release.URN) {
			t.Errorf("%s does not wait for the release", n.Name)
		}
	}
	if !pulumitest.DependsOn(g, pm.URN, r.m.One(t, "kubernetes:core/v1:Namespace", "app-ns").URN) {
		t.Error("the PodMonitor does not depend on the app's namespace (it must be deleted before it)")
	}
	cm := r.m.One(t, "kubernetes:core/v1:ConfigMap", "monitoring-dashboard").Inputs["metadata"].(map[string]any)
	if cm["labels"].(map[string]any)[DashboardLabel] != DashboardLabelValue || cm["namespace"] != "monitoring" {
		t.Errorf("dashboard ConfigMap %v, want the sidecar's label in Grafana's namespace", cm)
	}
}

func TestChildrenParentedAndUseExplicitProvider(t *testing.T) {
	r := mustRun(t, nil)
	component := r.m.URN("", "flask-eks:monitoring:Monitoring", "monitoring")
	provider := r.m.URN("", "pulumi:providers:kubernetes", "k8s")
	for _, n := range r.m.Graph() {
		if n.Parent != component {
			continue
		}
		if strings.HasPrefix(n.Type, "kubernetes:") && n.Provider != provider {
			t.Errorf("%s %s uses provider %q", n.Type, n.Name, n.Provider)
		}
	}
	if len(r.m.ByType("random:index/randomPassword:RandomPassword")) != 1 {
		t.Error("no generated Grafana admin password")
	}
}

func TestArgsValidation(t *testing.T) {
	for name, mutate := range map[string]func(*MonitoringArgs){
		"no provider":            func(a *MonitoringArgs) { a.Provider = nil },
		"no app":                 func(a *MonitoringArgs) { a.App.Name = "" },
		"no retention":           func(a *MonitoringArgs) { a.Prometheus.Retention = "" },
		"internal without class": func(a *MonitoringArgs) { a.Grafana.IngressClassName = "" },
		"public over HTTP":       func(a *MonitoringArgs) { a.Grafana.Exposure, a.Grafana.HTTPS = GrafanaPublic, false },
		"HTTPS without a host":   func(a *MonitoringArgs) { a.Grafana.Host = "" },
	} {
		r, err := runMonitoring(t, mutate)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if len(r.m.ByType("flask-eks:monitoring:Monitoring")) != 0 {
			t.Errorf("%s: component registered before validation failed", name)
		}
	}
}

func TestGrafanaFullname(t *testing.T) {
	for release, want := range map[string]string{
		"kube-prometheus-stack": "kube-prometheus-stack-grafana",
		"grafana":               "grafana",
		"my-grafana-stack":      "my-grafana-stack",
		strings.Repeat("a", 60): strings.Repeat("a", 60) + "-gr",
	} {
		if got := grafanaFullname(release); got != want {
			t.Errorf("grafanaFullname(%q) = %q, want %q", release, got, want)
		}
	}
}
