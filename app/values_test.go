package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/example/flask-eks/app/chart"
)

const (
	fakeRepo   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-app"
	fakeDigest = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
	// fakeSecretName stands for the component's auto-named Secret.
	fakeSecretName = "app-secrets-1a2b3c4d"
	fakeCertArn    = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
	namespace      = "flask"
)

// devSettings are dev-like settings: one pod, DEBUG logs, HTTP-only ALB, no HPA or ServiceMonitor.
func devSettings() ChartSettings {
	return ChartSettings{
		Environment:     "dev",
		ReleaseName:     "flask-app-dev",
		Replicas:        1,
		LogLevel:        "debug",
		APIBaseURL:      "https://api.dev.example.com",
		MaxConnections:  5,
		GunicornWorkers: 1,
		GunicornThreads: 2,
		AppVersion:      "dev",
		IngressEnabled:  true,
	}
}

// prodSettings are prod-like settings: an HPA from 3 to 10 pods, HTTPS on a shared ALB, metrics.
func prodSettings() ChartSettings {
	return ChartSettings{
		Environment:     "prod",
		ReleaseName:     "flask-app",
		Replicas:        3,
		LogLevel:        "INFO",
		APIBaseURL:      "https://api.example.com",
		MaxConnections:  50,
		GunicornWorkers: 4,
		GunicornThreads: 8,
		AppVersion:      "1.4.2",
		IngressEnabled:  true,
		AlbGroupName:    "flask-eks",
		CertificateArn:  fakeCertArn,
		Autoscaling:     ChartAutoscaling{Enabled: true, MinReplicas: 3, MaxReplicas: 10, TargetCPU: 60},
		ServiceMonitor:  true,
		Resources:       ChartResources{RequestsCPU: "250m", RequestsMemory: "256Mi", LimitsMemory: "512Mi"},
	}
}

// fillLikeComponent overwrites the placeholders exactly where the component puts its outputs
// (image repository+digest, secrets, IngressClass), failing if a placeholder is not there.
func fillLikeComponent(t *testing.T, v map[string]any, className string) {
	t.Helper()
	fill := func(table, key string, val any) {
		t.Helper()
		m, ok := v[table].(map[string]any)
		if !ok {
			t.Fatalf("values[%q] is %T, want map[string]any", table, v[table])
		}
		if old, ok := m[key]; !ok || old != "" {
			t.Fatalf("values[%q][%q] = %#v, want an empty placeholder", table, key, old)
		}
		m[key] = val
	}
	fill("image", "repository", fakeRepo)
	fill("image", "digest", fakeDigest)
	fill("secrets", "existingSecret", fakeSecretName)
	fill("ingress", "className", className)
}

// renderSettings renders the chart with ChartValues(s), filled in like the component does,
// and decodes every object strictly.
func renderSettings(t *testing.T, s ChartSettings, className string) *chart.Objects {
	t.Helper()
	v := ChartValues(s)
	fillLikeComponent(t, v, className)
	manifests, err := chart.Render(v, s.ReleaseName, namespace)
	if err != nil {
		t.Fatalf("rendering with ChartValues: %v", err)
	}
	o, err := chart.Decode(manifests)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// checkPlain fails unless v holds only map[string]any, []any, string, int and bool.
func checkPlain(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			checkPlain(t, path+"."+k, e)
		}
	case []any:
		for i, e := range x {
			checkPlain(t, fmt.Sprintf("%s[%d]", path, i), e)
		}
	case string, int, bool:
	default:
		t.Errorf("%s is %T, want a plain value", path, v)
	}
}

func TestChartValuesArePlainWithPlaceholders(t *testing.T) {
	for name, s := range map[string]ChartSettings{"dev": devSettings(), "prod": prodSettings(), "zero": {}} {
		t.Run(name, func(t *testing.T) {
			v := ChartValues(s)
			checkPlain(t, "values", v)
			// The placeholders are where the component writes, and empty: nothing invented.
			fillLikeComponent(t, v, "alb")
		})
	}
}

func TestChartValuesZeroSettingsKeepChartDefaults(t *testing.T) {
	v := ChartValues(ChartSettings{ReleaseName: "x", APIBaseURL: "https://api.example.com"})
	for _, key := range []string{"replicaCount", "environment"} {
		if _, ok := v[key]; ok {
			t.Errorf("%s set from a zero setting", key)
		}
	}
	for _, key := range []string{"LOG_LEVEL", "MAX_CONNECTIONS", "GUNICORN_WORKERS", "GUNICORN_THREADS", "APP_VERSION"} {
		if _, ok := v["config"].(map[string]any)[key]; ok {
			t.Errorf("config.%s set from a zero setting", key)
		}
	}
	fillLikeComponent(t, v, "")
	manifests, err := chart.Render(v, "x", namespace)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifests {
		if m.Kind == "Deployment" && !strings.Contains(m.YAML, "replicas: 1\n") {
			t.Errorf("Deployment without the chart's default replica count:\n%s", m.YAML)
		}
	}
}

// TestUnfilledValuesDoNotRender shows that the chart refuses ChartValues whose placeholders the
// component forgot to fill, instead of deploying an app that can never become ready.
func TestUnfilledValuesDoNotRender(t *testing.T) {
	_, err := chart.Render(ChartValues(prodSettings()), "flask-app", namespace)
	if err == nil || !strings.Contains(err.Error(), "secrets.SECRET_KEY") {
		t.Errorf("Render of unfilled values: %v, want the missing-secrets error", err)
	}
}

func TestDevValuesRender(t *testing.T) {
	r := renderSettings(t, devSettings(), "alb")
	for _, obj := range r.All {
		if obj.GetName() != "flask-app-dev" {
			t.Errorf("%T named %q, want the release name", obj, obj.GetName())
		}
	}
	d := r.Deployment
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1", d.Spec.Replicas)
	}
	if r.HPA != nil || r.PDB != nil || r.ServiceMonitor != nil {
		t.Errorf("HPA %v, PDB %v, ServiceMonitor %v rendered, want none in dev", r.HPA != nil, r.PDB != nil, r.ServiceMonitor != nil)
	}
	if got := d.Spec.Template.Spec.Containers[0].Image; got != fakeRepo+"@"+fakeDigest {
		t.Errorf("image %q, want repository@digest", got)
	}
	wantConfig := map[string]string{
		"API_BASE_URL":              "https://api.dev.example.com",
		"LOG_LEVEL":                 "DEBUG",
		"MAX_CONNECTIONS":           "5",
		"GUNICORN_WORKERS":          "1",
		"GUNICORN_THREADS":          "2",
		"REVEAL_SECRETS":            "false",
		"APP_VERSION":               "dev",
		"PROMETHEUS_MULTIPROC_DIR":  "/tmp/prometheus",
		"GUNICORN_GRACEFUL_TIMEOUT": "25",
	}
	if !maps.Equal(r.ConfigMap.Data, wantConfig) {
		t.Errorf("ConfigMap data\n got %v\nwant %v", r.ConfigMap.Data, wantConfig)
	}
	// The component's Secret, not one the chart renders: no secret value passes through Helm.
	if r.Secret != nil {
		t.Errorf("the chart rendered Secret %s; want the component's existing Secret", r.Secret.Name)
	}
	var secretRefs []string
	for _, e := range d.Spec.Template.Spec.Containers[0].EnvFrom {
		if e.SecretRef != nil {
			secretRefs = append(secretRefs, e.SecretRef.Name)
		}
	}
	if !slices.Equal(secretRefs, []string{fakeSecretName}) {
		t.Errorf("pods read Secrets %v, want the component's %s", secretRefs, fakeSecretName)
	}
	ing := r.Ingress
	if ing == nil || ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "alb" {
		t.Fatalf("Ingress %v, want class alb", ing)
	}
	a := ing.Annotations
	if a["alb.ingress.kubernetes.io/listen-ports"] != `[{"HTTP":80}]` || a["alb.ingress.kubernetes.io/certificate-arn"] != "" ||
		a["alb.ingress.kubernetes.io/ssl-redirect"] != "" || a["alb.ingress.kubernetes.io/group.name"] != "" {
		t.Errorf("dev Ingress annotations %v, want HTTP only, no certificate or group", a)
	}
	if r.Service.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type %s", r.Service.Spec.Type)
	}
}

func TestProdValuesRender(t *testing.T) {
	r := renderSettings(t, prodSettings(), "alb-public")
	d := r.Deployment
	if d.Spec.Replicas != nil {
		t.Errorf("replicas %d set, want the HPA to own the count", *d.Spec.Replicas)
	}
	h := r.HPA
	if h == nil || h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != 3 || h.Spec.MaxReplicas != 10 ||
		*h.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Fatalf("HPA %+v, want 3..10 at 60%% CPU", h)
	}
	if r.PDB == nil {
		t.Error("no PodDisruptionBudget with at least 3 pods")
	}
	if r.ServiceMonitor == nil || r.ServiceMonitor.Spec.Endpoints[0].Path != "/metrics" {
		t.Error("no ServiceMonitor for /metrics")
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != fakeRepo+"@"+fakeDigest {
		t.Errorf("image %q, want repository@digest", c.Image)
	}
	if c.Resources.Requests.Cpu().String() != "250m" || c.Resources.Requests.Memory().String() != "256Mi" ||
		c.Resources.Limits.Memory().String() != "512Mi" {
		t.Errorf("resources %+v", c.Resources)
	}
	if d.Spec.Template.Spec.ServiceAccountName != "flask-app" || d.Spec.Template.Spec.ServiceAccountName != serviceAccountName(prodSettings()) {
		t.Errorf("serviceAccountName %q", d.Spec.Template.Spec.ServiceAccountName)
	}
	cm := r.ConfigMap.Data
	if cm["LOG_LEVEL"] != "INFO" || cm["REVEAL_SECRETS"] != "false" || cm["APP_VERSION"] != "1.4.2" || cm["MAX_CONNECTIONS"] != "50" ||
		cm["GUNICORN_WORKERS"] != "4" || cm["GUNICORN_THREADS"] != "8" || cm["API_BASE_URL"] != "https://api.example.com" {
		t.Errorf("ConfigMap data %v", cm)
	}
	if got := d.Labels["app.kubernetes.io/version"]; got != "1.4.2" {
		t.Errorf("version label %q", got)
	}
	ing := r.Ingress
	if ing == nil || ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "alb-public" {
		t.Fatalf("Ingress %v, want class alb-public", ing)
	}
	want := map[string]string{
		"alb.ingress.kubernetes.io/target-type":      "ip",
		"alb.ingress.kubernetes.io/scheme":           "internet-facing",
		"alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
		"alb.ingress.kubernetes.io/certificate-arn":  fakeCertArn,
		"alb.ingress.kubernetes.io/listen-ports":     `[{"HTTP":80},{"HTTPS":443}]`,
		"alb.ingress.kubernetes.io/ssl-redirect":     "443",
		"alb.ingress.kubernetes.io/group.name":       "flask-eks",
	}
	if !maps.Equal(ing.Annotations, want) {
		t.Errorf("prod Ingress annotations\n got %v\nwant %v", ing.Annotations, want)
	}
}

func TestLocalValuesRender(t *testing.T) {
	s := devSettings()
	s.Environment, s.ReleaseName, s.IngressEnabled, s.ServiceType, s.RevealSecrets = "local", "flask-app-local", false, "NodePort", true
	r := renderSettings(t, s, "")
	if r.Ingress != nil {
		t.Error("Ingress rendered with IngressEnabled false")
	}
	if r.Service.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("Service type %s, want NodePort", r.Service.Spec.Type)
	}
	if r.ConfigMap.Data["REVEAL_SECRETS"] != "true" {
		t.Error("REVEAL_SECRETS not passed through for a local stack")
	}
}

func TestProdRefusesRevealSecrets(t *testing.T) {
	s := prodSettings()
	s.RevealSecrets = true
	v := ChartValues(s)
	fillLikeComponent(t, v, "alb")
	_, err := chart.Render(v, s.ReleaseName, namespace)
	if err == nil || !strings.Contains(err.Error(), "REVEAL_SECRETS") {
		t.Errorf("Render: %v, want a schema error on REVEAL_SECRETS", err)
	}
}

// TestValuesThroughJSONRenderTheSame checks that the values survive the way Pulumi hands them to
// Helm: as JSON, where every number is a float64. The chart's schema and templates must treat 3.0
// like 3.
func TestValuesThroughJSONRenderTheSame(t *testing.T) {
	v := ChartValues(prodSettings())
	fillLikeComponent(t, v, "alb")
	want, err := chart.Render(v, "flask-app", namespace)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON map[string]any
	if err := json.Unmarshal(data, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if _, ok := fromJSON["replicaCount"].(float64); !ok {
		t.Fatalf("replicaCount decoded as %T, want float64", fromJSON["replicaCount"])
	}
	got, err := chart.Render(fromJSON, "flask-app", namespace)
	if err != nil {
		t.Fatalf("rendering values decoded from JSON: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d manifests from JSON values, %d from Go values", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s differs when values come from JSON:\n%s\n---\n%s", want[i].Kind, got[i].YAML, want[i].YAML)
		}
	}
}

// TestChartName keeps the component's copy of the chart name (its Secret's labels) in step.
func TestChartName(t *testing.T) {
	if chartName != chart.Name {
		t.Errorf("chartName = %q, chart.Name = %q", chartName, chart.Name)
	}
}
