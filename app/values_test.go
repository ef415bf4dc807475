package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/chartrender"
)

const (
	fakeRepo   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-app"
	fakeDigest = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
	// fakeSecretName stands for the component's auto-named Secret.
	fakeSecretName = "app-secrets-1a2b3c4d"
	namespace      = "flask"
	kubeVersion    = "v1.35.0"
)

// devSettings are dev-like settings: one pod, DEBUG logs, HTTP on the ALB's own name.
func devSettings() ChartSettings {
	return ChartSettings{
		Environment: "dev", ReleaseName: "flask-app-dev", Replicas: 1, LogLevel: "debug",
		APIBaseURL: "https://api.dev.example.com", MaxConnections: 5, GunicornWorkers: 1, GunicornThreads: 2,
		AppVersion: "dev", Ingress: ChartIngress{Enabled: true},
		ALBSourceCIDRs: []string{"10.20.192.0/22", "10.20.196.0/22"},
	}
}

// prodSettings are prod-like settings: HTTPS on a host, KEDA owning 3 to 10 pods, Secrets from
// External Secrets reloaded on change.
func prodSettings() ChartSettings {
	return ChartSettings{
		Environment: "prod", ReleaseName: "flask-app", Replicas: 3, LogLevel: "INFO",
		APIBaseURL: "https://api.example.com", MaxConnections: 50, GunicornWorkers: 4, GunicornThreads: 8,
		AppVersion: "1.4.2", Ingress: ChartIngress{Enabled: true, Host: "app.example.com", HTTPS: true},
		Autoscaling:    ChartAutoscaling{External: true, MinReplicas: 3, MaxReplicas: 10},
		Resources:      ChartResources{RequestsCPU: "250m", RequestsMemory: "256Mi", LimitsMemory: "512Mi"},
		ReloadOnChange: true,
	}
}

// fillLikeComponent overwrites the placeholders exactly where the component puts its outputs
// (image repository+digest, the Secret's name, the IngressClass, the chart digest), failing if a
// placeholder is not there.
func fillLikeComponent(t *testing.T, v map[string]any, className string) {
	t.Helper()
	fill := func(table, key string, val any) {
		t.Helper()
		m := v
		if table != "" {
			var ok bool
			if m, ok = v[table].(map[string]any); !ok {
				t.Fatalf("values[%q] is %T, want map[string]any", table, v[table])
			}
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
	fill("", "chartDigest", "0123456789abcdef")
}

// renderSettings renders the chart with ChartValues(s), filled in like the component does,
// and decodes every object strictly.
func renderSettings(t *testing.T, s ChartSettings, className string) *chartrender.Objects {
	t.Helper()
	v := ChartValues(s)
	fillLikeComponent(t, v, className)
	manifests, err := chartrender.Render(chartDir, v, s.ReleaseName, namespace, kubeVersion)
	if err != nil {
		t.Fatalf("rendering with ChartValues: %v", err)
	}
	o, err := chartrender.Decode(manifests)
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
	for _, key := range []string{"LOG_LEVEL", "MAX_CONNECTIONS", "GUNICORN_WORKERS", "GUNICORN_THREADS", "APP_VERSION", "TRUSTED_PROXY_HOPS"} {
		if _, ok := v["config"].(map[string]any)[key]; ok {
			t.Errorf("config.%s set from a zero setting", key)
		}
	}
	fillLikeComponent(t, v, "")
	manifests, err := chartrender.Render(chartDir, v, "x", namespace, kubeVersion)
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
	_, err := chartrender.Render(chartDir, ChartValues(prodSettings()), "flask-app", namespace, kubeVersion)
	if err == nil || !strings.Contains(err.Error(), "secrets.SECRET_KEY") {
		t.Errorf("Render of unfilled values: %v, want the missing-secrets error", err)
	}
}

func TestDevSettingsRender(t *testing.T) {
	r := renderSettings(t, devSettings(), "alb")
	if d := r.Deployment; d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || r.HPA != nil || r.PDB != nil {
		t.Errorf("replicas %v, HPA %v, PDB %v: want one pod and neither", d.Spec.Replicas, r.HPA != nil, r.PDB != nil)
	}
	if r.Secret != nil {
		t.Errorf("the chart rendered Secret %s; want the component's existing Secret", r.Secret.Name)
	}
	if got := r.ConfigMap.Data["TRUSTED_PROXY_HOPS"]; got != "1" {
		t.Errorf("TRUSTED_PROXY_HOPS %q, want 1 behind the ALB", got)
	}
	if a := r.Ingress.Annotations; a["alb.ingress.kubernetes.io/listen-ports"] != `[{"HTTP":80}]` || len(r.Ingress.Spec.Rules) != 1 || r.Ingress.Spec.Rules[0].Host != "" {
		t.Errorf("dev Ingress %v, want HTTP on any host", r.Ingress)
	}
	// Only the ALB's subnets reach the public port.
	var from []string
	for _, p := range r.NetworkPolicy.Spec.Ingress[0].From {
		from = append(from, p.IPBlock.CIDR)
	}
	if strings.Join(from, ",") != "10.20.192.0/22,10.20.196.0/22" {
		t.Errorf("public port sources %v, want the ALB subnets", from)
	}
}

func TestProdSettingsRender(t *testing.T) {
	r := renderSettings(t, prodSettings(), "alb")
	d := r.Deployment
	// KEDA owns the HPA: the chart renders none and leaves the replica count alone.
	if d.Spec.Replicas != nil || r.HPA != nil {
		t.Errorf("replicas %v HPA %v, want neither when KEDA scales", d.Spec.Replicas, r.HPA != nil)
	}
	if r.PDB == nil {
		t.Error("no PodDisruptionBudget with at least 3 pods")
	}
	if d.Annotations["secret.reloader.stakater.com/reload"] != fakeSecretName {
		t.Errorf("Deployment annotations %v, want Reloader to watch %s", d.Annotations, fakeSecretName)
	}
	ing := r.Ingress
	if ing.Spec.Rules[0].Host != "app.example.com" || ing.Annotations["alb.ingress.kubernetes.io/ssl-redirect"] != "443" ||
		ing.Annotations["alb.ingress.kubernetes.io/listen-ports"] != `[{"HTTP":80},{"HTTPS":443}]` {
		t.Errorf("prod Ingress %v, want HTTPS on app.example.com with HTTP redirected", ing)
	}
}

func TestProdRefusesRevealSecrets(t *testing.T) {
	s := prodSettings()
	s.RevealSecrets = true
	v := ChartValues(s)
	fillLikeComponent(t, v, "alb")
	_, err := chartrender.Render(chartDir, v, s.ReleaseName, namespace, kubeVersion)
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
	want, err := chartrender.Render(chartDir, v, "flask-app", namespace, kubeVersion)
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
	got, err := chartrender.Render(chartDir, fromJSON, "flask-app", namespace, kubeVersion)
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

// TestChartName keeps the component's copy of the chart name (its selector labels) in step with
// Chart.yaml.
func TestChartName(t *testing.T) {
	ch, err := chartrender.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if chartName != ch.Name() {
		t.Errorf("chartName = %q, Chart.yaml name = %q", chartName, ch.Name())
	}
}
