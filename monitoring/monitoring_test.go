package monitoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

const (
	// mockPassword is what the mocked random provider "generates". The tests
	// search for it wherever it must not be.
	mockPassword = "MockPassw0rdThatMustNotLeak123456"
	mockHostname = "k8s-monitori-grafana-0123456789.eu-west-1.elb.amazonaws.com"

	typeRelease    = "kubernetes:helm.sh/v3:Release"
	typeNamespace  = "kubernetes:core/v1:Namespace"
	typeSecret     = "kubernetes:core/v1:Secret"
	typeConfigMap  = "kubernetes:core/v1:ConfigMap"
	typeIngress    = "kubernetes:networking.k8s.io/v1:Ingress"
	typeRule       = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	typePassword   = "random:index/randomPassword:RandomPassword"
	typeK8sProv    = "pulumi:providers:kubernetes"
	typeStorageCls = "kubernetes:storage.k8s.io/v1:StorageClass"
)

// recorder is a pulumi.MockResourceMonitor that fakes only what the real
// providers would add to the inputs (a password, a release status, an
// Ingress's load balancer) and records every registration and read.
type recorder struct {
	mu    sync.Mutex
	calls []pulumi.MockResourceArgs
	// preview makes the release status unknown, as in a first preview
	// before the release exists.
	preview bool
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	r.calls = append(r.calls, args)
	r.mu.Unlock()

	outs := args.Inputs.Copy()
	id := args.Name + "-id"
	switch args.TypeToken {
	case typePassword:
		outs["result"] = resource.NewProperty(mockPassword)
	case typeRelease:
		if r.preview {
			outs["status"] = resource.MakeComputed(resource.NewProperty(""))
			break
		}
		outs["status"] = resource.NewProperty(resource.PropertyMap{
			"name":      args.Inputs["name"],
			"namespace": args.Inputs["namespace"],
			"status":    resource.NewProperty("deployed"),
		})
	case typeIngress:
		if args.ReadRPC == nil {
			return "", nil, fmt.Errorf("the component must read, not create, an Ingress")
		}
		id = args.ID
		outs = resource.PropertyMap{
			"status": resource.NewProperty(resource.PropertyMap{
				"loadBalancer": resource.NewProperty(resource.PropertyMap{
					"ingress": resource.NewProperty([]resource.PropertyValue{
						resource.NewProperty(resource.PropertyMap{"hostname": resource.NewProperty(mockHostname)}),
					}),
				}),
			}),
		}
	}
	return id, outs, nil
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// plain converts recorded inputs to Go values, unwrapping secrets (Mappable
// leaves them as *resource.Secret).
func plain(pm resource.PropertyMap) map[string]interface{} {
	var unwrap func(resource.PropertyValue) (interface{}, bool)
	unwrap = func(v resource.PropertyValue) (interface{}, bool) {
		if v.IsSecret() {
			return v.SecretValue().Element.MapRepl(nil, unwrap), true
		}
		return nil, false
	}
	return pm.MapRepl(nil, unwrap)
}

// byType returns the recorded calls of one resource type.
func (r *recorder) byType(token string) []pulumi.MockResourceArgs {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []pulumi.MockResourceArgs
	for _, c := range r.calls {
		if c.TypeToken == token {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) one(t *testing.T, token string) pulumi.MockResourceArgs {
	t.Helper()
	got := r.byType(token)
	if len(got) != 1 {
		t.Fatalf("want exactly one %s, got %d", token, len(got))
	}
	return got[0]
}

// deployment is the result of running NewMonitoring under mocks.
type deployment struct {
	rec                             *recorder
	urnComponent, urnRelease, urnSC string
	urnProvider                     string
	url, user, password             internals.UnsafeAwaitOutputResult
	componentErr                    error
}

// baseArgs is a dev-like configuration; each test changes what it needs.
func baseArgs(p *kubernetes.Provider, sc *storagev1.StorageClass) *MonitoringArgs {
	return &MonitoringArgs{
		Provider:              p,
		Namespace:             "monitoring",
		StorageClassName:      sc.Metadata.Name().Elem(),
		StorageDependsOn:      []pulumi.Resource{sc},
		IngressClassName:      pulumi.String("alb"),
		PrometheusRetention:   "3d",
		PrometheusStorageSize: "20Gi",
		GrafanaStorageSize:    "5Gi",
		NodeExporter:          true,
		AppNamespace:          "flask-app",
		AppName:               "flask-app",
	}
}

// deploy runs NewMonitoring in a mocked program. mutate adjusts the args.
func deploy(t *testing.T, mutate func(*MonitoringArgs)) *deployment {
	t.Helper()
	return deployWith(t, &recorder{}, mutate)
}

// deployWith runs NewMonitoring against rec; rec.preview also makes the run a
// dry run.
func deployWith(t *testing.T, rec *recorder, mutate func(*MonitoringArgs)) *deployment {
	t.Helper()
	d := &deployment{rec: rec}
	await := func(ctx *pulumi.Context, o pulumi.Output) internals.UnsafeAwaitOutputResult {
		res, err := internals.UnsafeAwaitOutput(ctx.Context(), o)
		if err != nil {
			t.Errorf("awaiting output: %v", err)
		}
		return res
	}
	urn := func(ctx *pulumi.Context, r pulumi.Resource) string {
		v, _ := await(ctx, r.URN()).Value.(pulumi.URN)
		return string(v)
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		sc, err := storagev1.NewStorageClass(ctx, "gp3", &storagev1.StorageClassArgs{
			Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String("gp3")},
			Provisioner: pulumi.String("ebs.csi.eks.amazonaws.com"),
		}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		args := baseArgs(p, sc)
		if mutate != nil {
			mutate(args)
		}
		m, err := NewMonitoring(ctx, "mon", args)
		if err != nil {
			d.componentErr = err
			return nil
		}
		d.urnComponent = urn(ctx, m)
		d.urnRelease = urn(ctx, m.Release)
		d.urnSC = urn(ctx, sc)
		d.urnProvider = urn(ctx, p)
		d.url = await(ctx, m.GrafanaURL)
		d.user = await(ctx, m.GrafanaAdminUser)
		d.password = await(ctx, m.GrafanaAdminPassword)
		return nil
	}, pulumi.WithMocks("flask-eks", "test", d.rec),
		func(info *pulumi.RunInfo) { info.DryRun = rec.preview })
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return d
}

func mustDeploy(t *testing.T, mutate func(*MonitoringArgs)) *deployment {
	t.Helper()
	d := deploy(t, mutate)
	if d.componentErr != nil {
		t.Fatalf("NewMonitoring: %v", d.componentErr)
	}
	return d
}

// values returns the release's Helm values as plain Go values.
func (d *deployment) values(t *testing.T) map[string]interface{} {
	t.Helper()
	rel := d.rec.one(t, typeRelease)
	v, ok := rel.Inputs["values"]
	if !ok {
		t.Fatal("release has no values")
	}
	m, ok := plain(resource.PropertyMap{"v": v})["v"].(map[string]interface{})
	if !ok {
		t.Fatalf("release values are %v, want a map", v)
	}
	return m
}

// at walks a values map along path; ok is false if a step is missing.
func at(m map[string]interface{}, path ...string) (interface{}, bool) {
	var cur interface{} = m
	for _, p := range path {
		mm, ok := cur.(map[string]interface{})
		if !ok {
			return nil, false
		}
		if cur, ok = mm[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func wantValue(t *testing.T, vals map[string]interface{}, want interface{}, path ...string) {
	t.Helper()
	got, ok := at(vals, path...)
	if !ok {
		t.Errorf("values: %s is missing, want %v", strings.Join(path, "."), want)
		return
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("values: %s = %v, want %v", strings.Join(path, "."), got, want)
	}
}

func wantAbsent(t *testing.T, vals map[string]interface{}, path ...string) {
	t.Helper()
	if got, ok := at(vals, path...); ok {
		t.Errorf("values: %s = %v, want it unset", strings.Join(path, "."), got)
	}
}

func TestReleaseChartAndOptions(t *testing.T) {
	d := mustDeploy(t, nil)
	rel := d.rec.one(t, typeRelease)
	in := plain(rel.Inputs)

	checks := map[string]interface{}{
		"chart":     "kube-prometheus-stack",
		"version":   "81.4.5",
		"name":      "kube-prometheus-stack",
		"namespace": "monitoring",
		"atomic":    true,
		"timeout":   DefaultTimeout,
	}
	for k, want := range checks {
		if fmt.Sprint(in[k]) != fmt.Sprint(want) {
			t.Errorf("release %s = %v, want %v", k, in[k], want)
		}
	}
	repo, _ := at(in, "repositoryOpts", "repo")
	if repo != "https://prometheus-community.github.io/helm-charts" {
		t.Errorf("release repositoryOpts.repo = %v", repo)
	}
	if plain(d.rec.one(t, typeNamespace).Inputs)["metadata"].(map[string]interface{})["name"] != "monitoring" {
		t.Error("namespace object is not named monitoring")
	}

	d2 := mustDeploy(t, func(a *MonitoringArgs) { a.Timeout = 1234 })
	if got := d2.rec.one(t, typeRelease).Inputs["timeout"].NumberValue(); got != 1234 {
		t.Errorf("custom timeout = %v, want 1234", got)
	}
}

func TestValuesSelectorsAndControlPlane(t *testing.T) {
	vals := mustDeploy(t, nil).values(t)
	for _, k := range []string{
		"serviceMonitorSelectorNilUsesHelmValues",
		"podMonitorSelectorNilUsesHelmValues",
		"ruleSelectorNilUsesHelmValues",
		"probeSelectorNilUsesHelmValues",
		"scrapeConfigSelectorNilUsesHelmValues",
	} {
		wantValue(t, vals, false, "prometheus", "prometheusSpec", k)
	}
	for _, c := range []string{"kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"} {
		wantValue(t, vals, false, c, "enabled")
	}
	for _, r := range []string{"etcd", "kubeControllerManager", "kubeSchedulerAlerting", "kubeSchedulerRecording", "kubeProxy"} {
		wantValue(t, vals, false, "defaultRules", "rules", r)
	}
	// Scrapes that do work on EKS stay on (chart defaults, not overridden).
	wantAbsent(t, vals, "kubelet")
	wantAbsent(t, vals, "kubeApiServer")
}

func TestValuesPrometheusStorageAndResources(t *testing.T) {
	vals := mustDeploy(t, nil).values(t)
	ps := []string{"prometheus", "prometheusSpec"}
	wantValue(t, vals, "3d", append(ps, "retention")...)
	spec := append(ps, "storageSpec", "volumeClaimTemplate", "spec")
	wantValue(t, vals, "gp3", append(spec, "storageClassName")...)
	wantValue(t, vals, "20Gi", append(spec, "resources", "requests", "storage")...)
	wantValue(t, vals, "[ReadWriteOnce]", append(spec, "accessModes")...)
	wantValue(t, vals, "512Mi", append(ps, "resources", "requests", "memory")...)
	wantValue(t, vals, "200m", append(ps, "resources", "requests", "cpu")...)

	// Defaults apply when sizes are left empty.
	vals = mustDeploy(t, func(a *MonitoringArgs) {
		a.PrometheusRetention, a.PrometheusStorageSize, a.GrafanaStorageSize = "", "", ""
	}).values(t)
	wantValue(t, vals, DefaultPrometheusRetention, append(ps, "retention")...)
	wantValue(t, vals, DefaultPrometheusStorageSize, append(spec, "resources", "requests", "storage")...)
	wantValue(t, vals, DefaultGrafanaStorageSize, "grafana", "persistence", "size")
}

func TestValuesNoStorageClassUsesClusterDefault(t *testing.T) {
	for name, sc := range map[string]pulumi.StringInput{"nil": nil, "empty": pulumi.String("")} {
		t.Run(name, func(t *testing.T) {
			vals := mustDeploy(t, func(a *MonitoringArgs) { a.StorageClassName = sc }).values(t)
			wantAbsent(t, vals, "prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate", "spec", "storageClassName")
			wantAbsent(t, vals, "alertmanager", "alertmanagerSpec", "storage", "volumeClaimTemplate", "spec", "storageClassName")
			wantAbsent(t, vals, "grafana", "persistence", "storageClassName")
			wantValue(t, vals, "20Gi", "prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate", "spec", "resources", "requests", "storage")
		})
	}
}

func TestValuesAlertmanager(t *testing.T) {
	vals := mustDeploy(t, nil).values(t)
	wantValue(t, vals, true, "alertmanager", "enabled")
	wantValue(t, vals, "null", "alertmanager", "config", "route", "receiver")
	recv, _ := at(vals, "alertmanager", "config", "receivers")
	list, ok := recv.([]interface{})
	if !ok || len(list) == 0 {
		t.Fatalf("alertmanager receivers = %v", recv)
	}
	names := map[string]bool{}
	for _, r := range list {
		names[fmt.Sprint(r.(map[string]interface{})["name"])] = true
	}
	// Every receiver a route names must be defined, or Alertmanager rejects the config.
	routes, _ := at(vals, "alertmanager", "config", "route", "routes")
	for _, r := range append([]interface{}{map[string]interface{}{"receiver": "null"}}, routes.([]interface{})...) {
		if rc := fmt.Sprint(r.(map[string]interface{})["receiver"]); !names[rc] {
			t.Errorf("route uses receiver %q, which is not defined (receivers: %v)", rc, names)
		}
	}
	spec := []string{"alertmanager", "alertmanagerSpec", "storage", "volumeClaimTemplate", "spec"}
	wantValue(t, vals, "gp3", append(spec, "storageClassName")...)
	wantValue(t, vals, alertmanagerStorageSize, append(spec, "resources", "requests", "storage")...)
}

func TestValuesGrafana(t *testing.T) {
	d := mustDeploy(t, nil)
	vals := d.values(t)
	g := []string{"grafana"}
	wantValue(t, vals, true, append(g, "persistence", "enabled")...)
	wantValue(t, vals, "sts", append(g, "persistence", "type")...)
	wantValue(t, vals, "5Gi", append(g, "persistence", "size")...)
	wantValue(t, vals, "gp3", append(g, "persistence", "storageClassName")...)
	wantValue(t, vals, true, append(g, "sidecar", "dashboards", "enabled")...)
	wantValue(t, vals, DashboardLabel, append(g, "sidecar", "dashboards", "label")...)
	wantValue(t, vals, DashboardLabelValue, append(g, "sidecar", "dashboards", "labelValue")...)
	wantValue(t, vals, "ALL", append(g, "sidecar", "dashboards", "searchNamespace")...)
	// The chart's well-known default password ("prom-operator") is cleared, never configured.
	wantValue(t, vals, "", append(g, "adminPassword")...)

	ing := append(g, "ingress")
	wantValue(t, vals, true, append(ing, "enabled")...)
	wantValue(t, vals, "alb", append(ing, "ingressClassName")...)
	wantValue(t, vals, "/", append(ing, "path")...)
	wantValue(t, vals, "Prefix", append(ing, "pathType")...)
	ann := append(ing, "annotations")
	wantValue(t, vals, "internet-facing", append(ann, "alb.ingress.kubernetes.io/scheme")...)
	wantValue(t, vals, "ip", append(ann, "alb.ingress.kubernetes.io/target-type")...)
	wantValue(t, vals, "/api/health", append(ann, "alb.ingress.kubernetes.io/healthcheck-path")...)
	wantAbsent(t, vals, append(ann, "alb.ingress.kubernetes.io/group.name")...)
	wantAbsent(t, vals, append(ann, "alb.ingress.kubernetes.io/certificate-arn")...)
	wantAbsent(t, vals, "grafana", "grafana.ini")
}

func TestValuesGrafanaSharedALBAndHTTPS(t *testing.T) {
	const arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
	d := mustDeploy(t, func(a *MonitoringArgs) {
		a.AlbGroupName = "flask-eks-dev"
		a.CertificateArn = arn
	})
	vals := d.values(t)
	ing := []string{"grafana", "ingress"}
	ann := append(ing, "annotations")
	wantValue(t, vals, "flask-eks-dev", append(ann, "alb.ingress.kubernetes.io/group.name")...)
	wantValue(t, vals, albGroupOrder, append(ann, "alb.ingress.kubernetes.io/group.order")...)
	wantValue(t, vals, GrafanaSubPath, append(ing, "path")...)
	wantValue(t, vals, GrafanaSubPath+"/api/health", append(ann, "alb.ingress.kubernetes.io/healthcheck-path")...)
	wantValue(t, vals, arn, append(ann, "alb.ingress.kubernetes.io/certificate-arn")...)
	wantValue(t, vals, `[{"HTTP":80},{"HTTPS":443}]`, append(ann, "alb.ingress.kubernetes.io/listen-ports")...)
	wantValue(t, vals, "443", append(ann, "alb.ingress.kubernetes.io/ssl-redirect")...)
	wantValue(t, vals, true, "grafana", "grafana.ini", "server", "serve_from_sub_path")
	rootURL, _ := at(vals, "grafana", "grafana.ini", "server", "root_url")
	if !strings.HasSuffix(fmt.Sprint(rootURL), GrafanaSubPath+"/") {
		t.Errorf("grafana.ini server.root_url = %v, want it to end in %s/", rootURL, GrafanaSubPath)
	}
	if want := "https://" + mockHostname + GrafanaSubPath; d.url.Value != want {
		t.Errorf("grafanaUrl = %v, want %s", d.url.Value, want)
	}
}

func TestValuesIngressDisabled(t *testing.T) {
	for name, ic := range map[string]pulumi.StringInput{"nil": nil, "empty": pulumi.String("")} {
		t.Run(name, func(t *testing.T) {
			d := mustDeploy(t, func(a *MonitoringArgs) { a.IngressClassName = ic })
			vals := d.values(t)
			wantValue(t, vals, false, "grafana", "ingress", "enabled")
			wantAbsent(t, vals, "grafana", "ingress", "annotations")
			if got := d.rec.byType(typeIngress); len(got) != 0 {
				t.Errorf("Ingress read although the Ingress is disabled: %d reads", len(got))
			}
			if d.url.Value != "" {
				t.Errorf("grafanaUrl = %q, want empty", d.url.Value)
			}
		})
	}
}

func TestValuesNodeExporterToggle(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			vals := mustDeploy(t, func(a *MonitoringArgs) { a.NodeExporter = on }).values(t)
			wantValue(t, vals, on, "nodeExporter", "enabled")
			wantValue(t, vals, on, "defaultRules", "rules", "nodeExporterAlerting")
			wantValue(t, vals, on, "defaultRules", "rules", "nodeExporterRecording")
		})
	}
}

func TestNoSecretInReleaseValues(t *testing.T) {
	d := mustDeploy(t, nil)
	// Positive control: the mocked password does reach the Secret, and the
	// search below finds it there, so the negative check can fail.
	secret := d.rec.one(t, typeSecret)
	if !strings.Contains(dump(t, secret.Inputs), mockPassword) {
		t.Fatal("the mocked password is not in the admin Secret: the leak check below would be vacuous")
	}
	for _, c := range d.rec.calls {
		if c.TypeToken == typeSecret || c.TypeToken == typePassword {
			continue
		}
		if strings.Contains(dump(t, c.Inputs), mockPassword) {
			t.Errorf("%s %q carries the Grafana admin password in its inputs", c.TypeToken, c.Name)
		}
	}
	// The default password of the chart is not set either.
	if strings.Contains(dump(t, d.rec.one(t, typeRelease).Inputs), "prom-operator") {
		t.Error("release values mention the chart's default Grafana password")
	}
}

// dump renders a property map, secrets included, as text to search in.
func dump(t *testing.T, pm resource.PropertyMap) string {
	t.Helper()
	b, err := json.Marshal(plain(pm))
	if err != nil {
		t.Fatalf("marshal inputs: %v", err)
	}
	return string(b) + fmt.Sprint(pm)
}

func TestExistingSecretWiring(t *testing.T) {
	d := mustDeploy(t, nil)
	vals := d.values(t)
	secret := plain(d.rec.one(t, typeSecret).Inputs)
	meta := secret["metadata"].(map[string]interface{})
	wantValue(t, vals, meta["name"], "grafana", "admin", "existingSecret")
	if meta["namespace"] != "monitoring" {
		t.Errorf("admin Secret is in namespace %v, the release in monitoring", meta["namespace"])
	}
	data, _ := secret["stringData"].(map[string]interface{})
	if data == nil {
		t.Fatalf("admin Secret has no stringData: %v", secret)
	}
	for _, key := range []string{"userKey", "passwordKey"} {
		k, _ := at(vals, "grafana", "admin", key)
		if _, ok := data[fmt.Sprint(k)]; !ok {
			t.Errorf("grafana.admin.%s = %v, but the Secret has keys %v", key, k, keys(data))
		}
	}
	user, _ := at(vals, "grafana", "admin", "userKey")
	if data[fmt.Sprint(user)] != "admin" {
		t.Errorf("Secret %v = %v, want admin", user, data[fmt.Sprint(user)])
	}
}

func keys(m map[string]interface{}) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestOutputs(t *testing.T) {
	d := mustDeploy(t, nil)
	if want := "http://" + mockHostname; d.url.Value != want {
		t.Errorf("grafanaUrl = %v, want %s", d.url.Value, want)
	}
	if d.user.Value != "admin" {
		t.Errorf("grafanaAdminUser = %v, want admin", d.user.Value)
	}
	if d.password.Value != mockPassword {
		t.Errorf("grafanaAdminPassword = %v, want the generated password", d.password.Value)
	}
	if !d.password.Secret {
		t.Error("grafanaAdminPassword is not a secret output")
	}
	if d.url.Secret || d.user.Secret {
		t.Error("grafanaUrl/grafanaAdminUser should not be secret")
	}

	ing := d.rec.one(t, typeIngress)
	if want := "monitoring/" + ReleaseName + "-grafana"; ing.ID != want {
		t.Errorf("Grafana Ingress read with ID %q, want %q", ing.ID, want)
	}
}

func TestFirstPreviewSkipsIngressRead(t *testing.T) {
	// Before the release exists its status is unknown, so the Ingress ID is
	// unknown: the read must be skipped (not fail) and the URL stay unknown.
	d := deployWith(t, &recorder{preview: true}, nil)
	if d.componentErr != nil {
		t.Fatalf("NewMonitoring: %v", d.componentErr)
	}
	if n := len(d.rec.byType(typeIngress)); n != 0 {
		t.Errorf("Ingress read %d times during the first preview", n)
	}
	if d.url.Known {
		t.Errorf("grafanaUrl is known (%v) although the release is not installed", d.url.Value)
	}
	if !d.password.Secret {
		t.Error("grafanaAdminPassword is not secret during preview")
	}
}

func TestDependencies(t *testing.T) {
	// A plain class name, so that only StorageDependsOn can make the release
	// wait for the StorageClass (an Output name would add the edge by itself).
	d := mustDeploy(t, func(a *MonitoringArgs) { a.StorageClassName = pulumi.String("gp3") })
	deps := func(c pulumi.MockResourceArgs) []string {
		if c.RegisterRPC != nil {
			return c.RegisterRPC.GetDependencies()
		}
		return c.ReadRPC.GetDependencies()
	}
	rel := d.rec.one(t, typeRelease)
	if !slices.Contains(deps(rel), d.urnSC) {
		t.Errorf("release does not depend on the StorageClass %s; deps: %v", d.urnSC, deps(rel))
	}
	hasSecretDep := false
	for _, u := range deps(rel) {
		if strings.HasSuffix(u, "::mon-grafana-admin") && strings.Contains(u, typeSecret) {
			hasSecretDep = true
		}
	}
	if !hasSecretDep {
		t.Errorf("release does not depend on the Grafana admin Secret; deps: %v", deps(rel))
	}
	for _, token := range []string{typeConfigMap, typeRule, typeIngress} {
		c := d.rec.one(t, token)
		if !slices.Contains(deps(c), d.urnRelease) {
			t.Errorf("%s does not depend on the release; deps: %v", token, deps(c))
		}
	}
}

func TestChildrenParentedAndUseExplicitProvider(t *testing.T) {
	d := mustDeploy(t, nil)
	seen := 0
	for _, c := range d.rec.calls {
		switch c.TypeToken {
		case typeK8sProv, typeStorageCls, ComponentType:
			continue // the test's own resources and the component itself
		}
		seen++
		parent, provider := "", c.Provider
		if c.RegisterRPC != nil {
			parent = c.RegisterRPC.GetParent()
		} else {
			parent = c.ReadRPC.GetParent()
		}
		if parent != d.urnComponent {
			t.Errorf("%s %q has parent %q, want the component %q", c.TypeToken, c.Name, parent, d.urnComponent)
		}
		if strings.HasPrefix(c.TypeToken, "kubernetes:") && !strings.HasPrefix(provider, d.urnProvider+"::") {
			t.Errorf("%s %q uses provider %q, want the explicit provider %s", c.TypeToken, c.Name, provider, d.urnProvider)
		}
	}
	// Namespace, password, Secret, release, ConfigMap, rule, Ingress read.
	if seen != 7 {
		t.Errorf("component created %d children, want 7", seen)
	}
	if comp := d.rec.one(t, ComponentType); comp.Name != "mon" {
		t.Errorf("component registered as %q", comp.Name)
	}
}

func TestDashboardConfigMap(t *testing.T) {
	d := mustDeploy(t, nil)
	cm := plain(d.rec.one(t, typeConfigMap).Inputs)
	meta := cm["metadata"].(map[string]interface{})
	if meta["namespace"] != "monitoring" {
		t.Errorf("dashboard ConfigMap in namespace %v, want monitoring", meta["namespace"])
	}
	labels, _ := meta["labels"].(map[string]interface{})
	if labels[DashboardLabel] != DashboardLabelValue {
		t.Errorf("dashboard ConfigMap labels %v lack %s=%q (what the sidecar watches)", labels, DashboardLabel, DashboardLabelValue)
	}
	data, _ := cm["data"].(map[string]interface{})
	body, ok := data["flask-app.json"].(string)
	if !ok {
		t.Fatalf("dashboard ConfigMap data keys %v, want flask-app.json", keys(data))
	}
	dash := decodeDashboard(t, []byte(body))
	if len(dash.Panels) != 4 {
		t.Errorf("dashboard has %d panels, want 4", len(dash.Panels))
	}
}

func TestPrometheusRuleResourceDecodesStrictly(t *testing.T) {
	d := mustDeploy(t, nil)
	in := plain(d.rec.one(t, typeRule).Inputs)
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var rule monitoringv1.PrometheusRule
	if err := dec.Decode(&rule); err != nil {
		t.Fatalf("PrometheusRule does not decode strictly into monitoringv1.PrometheusRule: %v\n%s", err, b)
	}
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" {
		t.Errorf("apiVersion/kind = %s/%s", rule.APIVersion, rule.Kind)
	}
	if rule.Namespace != "monitoring" || rule.Name != "flask-app-alerts" {
		t.Errorf("rule is %s/%s, want monitoring/flask-app-alerts", rule.Namespace, rule.Name)
	}
	checkRuleSpec(t, rule.Spec)
}

func TestArgsValidation(t *testing.T) {
	valid := func() *MonitoringArgs {
		return &MonitoringArgs{
			Provider:         &kubernetes.Provider{},
			Namespace:        "monitoring",
			IngressClassName: pulumi.String("alb"),
			AppNamespace:     "flask-app",
			AppName:          "flask-app",
		}
	}
	if _, err := resolveArgs(valid()); err != nil {
		t.Fatalf("valid args rejected: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*MonitoringArgs)
		want   []string
	}{
		{"nil provider", func(a *MonitoringArgs) { a.Provider = nil }, []string{"Provider is required"}},
		{"empty namespace", func(a *MonitoringArgs) { a.Namespace = "" }, []string{"Namespace is required"}},
		{"bad namespace", func(a *MonitoringArgs) { a.Namespace = "Monitoring_NS" }, []string{`Namespace "Monitoring_NS" is not a valid DNS-1123 label`}},
		{"empty app", func(a *MonitoringArgs) { a.AppName, a.AppNamespace = "", "" }, []string{"AppName is required", "AppNamespace is required"}},
		{"retention", func(a *MonitoringArgs) { a.PrometheusRetention = "3 days" }, []string{`PrometheusRetention "3 days"`}},
		{"size", func(a *MonitoringArgs) { a.PrometheusStorageSize = "20GB" }, []string{`PrometheusStorageSize "20GB"`}},
		{"grafana size", func(a *MonitoringArgs) { a.GrafanaStorageSize = "big" }, []string{`GrafanaStorageSize "big"`}},
		{"timeout", func(a *MonitoringArgs) { a.Timeout = -5 }, []string{"Timeout must be positive"}},
		{"group", func(a *MonitoringArgs) { a.AlbGroupName = "Shared_ALB" }, []string{`AlbGroupName "Shared_ALB" is invalid`}},
		{"cert", func(a *MonitoringArgs) { a.CertificateArn = "my-cert" }, []string{`CertificateArn "my-cert" is not an ACM certificate ARN`}},
		{"group without ingress", func(a *MonitoringArgs) { a.IngressClassName = nil; a.AlbGroupName = "g" }, []string{"IngressClassName is empty"}},
		{"nil dependency", func(a *MonitoringArgs) { a.StorageDependsOn = []pulumi.Resource{nil} }, []string{"StorageDependsOn[0] is nil"}},
		{"admin user", func(a *MonitoringArgs) { a.GrafanaAdminUser = "ad min" }, []string{`GrafanaAdminUser "ad min"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := valid()
			tc.mutate(a)
			_, err := resolveArgs(a)
			if err == nil {
				t.Fatal("invalid args accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := resolveArgs(nil); err == nil || !strings.Contains(err.Error(), "args must not be nil") {
		t.Errorf("nil args: %v", err)
	}

	// Through the constructor: the error names the component, and nothing is
	// registered.
	d := deploy(t, func(a *MonitoringArgs) { a.Provider = nil; a.Namespace = "" })
	if d.componentErr == nil {
		t.Fatal("NewMonitoring accepted a nil provider")
	}
	for _, w := range []string{`monitoring "mon": invalid arguments`, "Provider is required", "Namespace is required"} {
		if !strings.Contains(d.componentErr.Error(), w) {
			t.Errorf("error %q does not mention %q", d.componentErr, w)
		}
	}
	if n := len(d.rec.byType(ComponentType)); n != 0 {
		t.Errorf("component registered despite invalid args")
	}
}

func TestGrafanaFullname(t *testing.T) {
	cases := map[string]string{
		"kube-prometheus-stack": "kube-prometheus-stack-grafana",
		"grafana":               "grafana",
		"my-grafana-stack":      "my-grafana-stack",
		strings.Repeat("a", 60): strings.Repeat("a", 60) + "-gr",
		strings.Repeat("b", 55): strings.Repeat("b", 55) + "-grafana",
		strings.Repeat("c", 62): strings.Repeat("c", 62), // cut at 63 leaves a trailing '-', trimmed
	}
	for in, want := range cases {
		if got := grafanaFullname(in); got != want {
			t.Errorf("grafanaFullname(%q) = %q, want %q", in, got, want)
		}
	}
}
