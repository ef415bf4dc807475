package keda

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"github.com/prometheus/prometheus/promql/parser"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/pulumitest"
)

// scaledObject decodes the ScaledObject the program declared with KEDA's own Go types at the
// chart's app version, rejecting unknown fields, as the API server's strict field validation
// would against the CRD generated from the same types.
func scaledObject(t *testing.T, d *deployment) *kedav1alpha1.ScaledObject {
	t.Helper()
	n := d.m.Only(t, scaledObjectType)
	var so kedav1alpha1.ScaledObject
	pulumitest.DecodeStrict(t, n.Inputs, &so)
	if so.APIVersion != kedav1alpha1.SchemeGroupVersion.String() || so.Kind != "ScaledObject" {
		t.Fatalf("%s %s, want %s ScaledObject", so.APIVersion, so.Kind, kedav1alpha1.SchemeGroupVersion)
	}
	return &so
}

// TestScaledObject checks the ScaledObject: decoded strictly with KEDA's types and passed
// through the checks KEDA's admission webhook runs on its own (bounds, fallback, triggers), it
// targets the app's Deployment within the configured bounds, with one Prometheus trigger on the
// app's request rate at the per-pod target.
func TestScaledObject(t *testing.T) {
	d := deploy(t, testScaling)
	so := scaledObject(t, d)

	for what, err := range map[string]error{
		"replica bounds": kedav1alpha1.CheckReplicaCountBoundsAreValid(so),
		"fallback":       kedav1alpha1.CheckFallbackValid(so),
		"triggers":       kedav1alpha1.ValidateTriggers(so.Spec.Triggers),
	} {
		if err != nil {
			t.Errorf("KEDA refuses the %s: %v", what, err)
		}
	}
	if so.Name != appRelease || so.Namespace != appNamespace {
		t.Errorf("ScaledObject %s/%s, want %s/%s", so.Namespace, so.Name, appNamespace, appRelease)
	}
	if ref := so.Spec.ScaleTargetRef; ref == nil || ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != appRelease {
		t.Errorf("scaleTargetRef %+v, want the Deployment %s", ref, appRelease)
	}
	if *so.GetHPAMinReplicas() != 2 || so.GetHPAMaxReplicas() != 10 {
		t.Errorf("HPA bounds %d..%d, want 2..10", *so.GetHPAMinReplicas(), so.GetHPAMaxReplicas())
	}
	if fb := so.Spec.Fallback; fb == nil || fb.Replicas != 2 || fb.FailureThreshold != 3 || fb.Behavior != "currentReplicasIfHigher" {
		t.Errorf("fallback %+v, want currentReplicasIfHigher with the minimum after 3 failures", fb)
	}

	if len(so.Spec.Triggers) != 1 {
		t.Fatalf("%d triggers, want one", len(so.Spec.Triggers))
	}
	tr := so.Spec.Triggers[0]
	if tr.Type != "prometheus" || tr.MetricType != autoscalingv2.AverageValueMetricType || tr.AuthenticationRef != nil {
		t.Errorf("trigger %s %s (auth %v), want prometheus AverageValue without authentication", tr.Type, tr.MetricType, tr.AuthenticationRef)
	}
	// The metadata keys the Prometheus scaler reads (prometheusMetadata in
	// pkg/scalers/prometheus_scaler.go at v2.20.2); anything else would be ignored.
	known := []string{"serverAddress", "query", "queryParameters", "threshold", "activationThreshold", "namespace",
		"customHeaders", "ignoreNullValues", "unsafeSsl", "awsRegion", "timeout", "identityOwner"}
	for k := range tr.Metadata {
		if !slices.Contains(known, k) {
			t.Errorf("trigger metadata %q is not read by the Prometheus scaler", k)
		}
	}
	md := tr.Metadata
	if md["serverAddress"] != testPrometheus.URL || md["serverAddress"] != d.keda.PrometheusURL {
		t.Errorf("serverAddress %q, want %s, the Prometheus KEDA's policy lets the operator reach", md["serverAddress"], testPrometheus.URL)
	}
	if md["threshold"] != "50" || md["ignoreNullValues"] != "false" {
		t.Errorf("threshold %q, ignoreNullValues %q; want the per-pod target 50 and an empty result as an error", md["threshold"], md["ignoreNullValues"])
	}
	if md["query"] != d.so.Query {
		t.Errorf("the trigger's query %q differs from the component's Query %q", md["query"], d.so.Query)
	}

	// Anti-flapping: scale-down waits 5 minutes and sheds at most a quarter a minute; scale-up
	// is limited to doubling (or 4 pods) per 30 s.
	hpa := so.Spec.Advanced.HorizontalPodAutoscalerConfig
	down, up := hpa.Behavior.ScaleDown, hpa.Behavior.ScaleUp
	if *down.StabilizationWindowSeconds != 300 || len(down.Policies) != 1 || down.Policies[0].Value != 25 || down.Policies[0].PeriodSeconds != 60 {
		t.Errorf("scale-down %+v", down)
	}
	if *up.StabilizationWindowSeconds != 0 || len(up.Policies) != 2 || *up.SelectPolicy != autoscalingv2.MaxChangePolicySelect {
		t.Errorf("scale-up %+v", up)
	}
	if hpa.Name != "" {
		t.Errorf("HPA name %q set without an override", hpa.Name)
	}
	if got := d.hpa.String(t); got != "keda-hpa-"+appRelease {
		t.Errorf("hpaName %q, want KEDA's default keda-hpa-%s", got, appRelease)
	}
	if got := d.sName.String(t); got != appRelease {
		t.Errorf("name output %q", got)
	}
}

// appLabels are the labels app_http_requests_total carries once scraped: the app's own, read
// from its source (app-src/app/metrics.py, the REQUESTS counter), and those the PodMonitor's
// scrape adds to every series.
func appLabels(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "app-src", "app", "metrics.py"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)REQUESTS = Counter\(\s*"app_http_requests",.*?\[([^\]]*)\]`).FindSubmatch(src)
	if m == nil {
		t.Fatal("no REQUESTS counter app_http_requests in metrics.py")
	}
	labels := []string{"namespace", "job", "pod", "container", "endpoint", "instance"}
	for _, l := range strings.Split(string(m[1]), ",") {
		labels = append(labels, strings.Trim(strings.TrimSpace(l), `"`))
	}
	return labels
}

// TestRequestRateQuery parses the trigger's query with Prometheus's own parser: one aggregate
// (KEDA refuses a result of several series) of the rate of the app's own request counter, scoped
// to the app exactly as the dashboard and the alert rules are, with only labels it carries.
func TestRequestRateQuery(t *testing.T) {
	d := deploy(t, testScaling)
	query := scaledObject(t, d).Spec.Triggers[0].Metadata["query"]
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		t.Fatalf("%q does not parse: %v", query, err)
	}
	agg, ok := expr.(*parser.AggregateExpr)
	if !ok || agg.Op != parser.SUM || len(agg.Grouping) != 0 || agg.Without {
		t.Fatalf("%q is not a plain sum(...): one series for the whole app", query)
	}
	call, ok := agg.Expr.(*parser.Call)
	if !ok || call.Func.Name != "rate" {
		t.Fatalf("%q does not sum a rate()", query)
	}
	ms := call.Args[0].(*parser.MatrixSelector)
	if ms.Range.String() != "2m0s" {
		t.Errorf("rate window %s, want 2m (four 30 s scrapes)", ms.Range)
	}

	golden, err := os.ReadFile(filepath.Join("..", "..", "app-src", "tests", "metrics.golden"))
	if err != nil {
		t.Fatal(err)
	}
	carried := appLabels(t)
	selectors := parser.ExtractSelectors(expr)
	if len(selectors) != 1 {
		t.Fatalf("%d selectors in %q, want one", len(selectors), query)
	}
	labels := map[string]string{}
	for _, m := range selectors[0] {
		if m.Name == "__name__" {
			if m.Value != RequestsMetric || !slices.Contains(strings.Fields(string(golden)), m.Value) {
				t.Errorf("metric %q, want %s, which the app exports (metrics.golden)", m.Value, RequestsMetric)
			}
			continue
		}
		if m.Type.String() != "=" {
			t.Errorf("matcher %s: want equality", m)
		}
		if !slices.Contains(carried, m.Name) {
			t.Errorf("label %q: %s carries only %v", m.Name, RequestsMetric, carried)
		}
		labels[m.Name] = m.Value
	}
	// The dashboard's and the rules' scope: the app's namespace and its PodMonitor's job.
	if len(labels) != 2 || labels["namespace"] != appNamespace || labels["job"] != appNamespace+"/"+appRelease {
		t.Errorf("selectors %v, want exactly namespace=%q, job=%q", labels, appNamespace, appNamespace+"/"+appRelease)
	}
}

// TestScaledObjectOrder: the ScaledObject waits for the KEDA chart (CRDs, webhook, operator) and
// for the app's release (its target), and is deleted before the app's namespace.
func TestScaledObjectOrder(t *testing.T) {
	d := deploy(t, testScaling)
	graph := d.m.Graph()
	so := d.m.Only(t, scaledObjectType)
	for what, to := range map[string]string{
		"the KEDA chart":      d.m.Only(t, chartType).URN,
		"the app's release":   d.m.Only(t, releaseType).URN,
		"the app's namespace": d.m.One(t, namespaceType, "app-ns").URN,
	} {
		if !slices.Contains(so.Dependencies, to) {
			t.Errorf("the ScaledObject does not depend on %s directly", what)
		}
	}
	// And nothing the other way round: KEDA never waits for the app's ScaledObject.
	if pulumitest.DependsOn(graph, d.m.Only(t, chartType).URN, so.URN) {
		t.Error("the chart depends on the ScaledObject")
	}
	if so.Parent != d.m.Only(t, "flask-eks:keda:ScaledObject").URN {
		t.Errorf("the ScaledObject's parent is %s", so.Parent)
	}
}

// TestOneHPA: with KEDA, exactly one HPA targets the Deployment. The app chart, rendered with
// the autoscaling values main.go gives it with KEDA, renders no HPA and leaves
// spec.replicas to the autoscaler; the only HPA is the one KEDA makes from the one ScaledObject,
// whose target is the Deployment the chart renders.
func TestOneHPA(t *testing.T) {
	d := deploy(t, testScaling)
	values := app.ChartValues(app.ChartSettings{
		ReleaseName: appRelease, APIBaseURL: "https://api.example.com", Autoscaling: app.ChartAutoscaling{External: true, MinReplicas: testScaling.MinReplicas, MaxReplicas: testScaling.MaxReplicas},
	})
	values["image"] = map[string]any{"repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-app",
		"digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "tag": ""}
	values["secrets"] = map[string]any{"existingSecret": "flask-app-secrets", "reloadOnChange": false}
	manifests, err := chartrender.Render(filepath.Join("..", "..", "app", "chart"), values, appRelease, appNamespace, testKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := chartrender.Decode(manifests)
	if err != nil {
		t.Fatal(err)
	}
	if objs.HPA != nil {
		t.Errorf("the app chart renders HPA %s next to KEDA's", objs.HPA.Name)
	}
	if objs.Deployment == nil || objs.Deployment.Spec.Replicas != nil {
		t.Fatalf("the Deployment sets spec.replicas (%v): every upgrade would reset KEDA's count", objs.Deployment.Spec.Replicas)
	}
	if objs.PDB == nil {
		t.Error("no PodDisruptionBudget although at least 2 pods always run")
	}
	sos := d.m.ByType(scaledObjectType)
	if len(sos) != 1 {
		t.Fatalf("%d ScaledObjects, want one", len(sos))
	}
	so := scaledObject(t, d)
	if so.Spec.ScaleTargetRef.Name != objs.Deployment.Name || so.Spec.ScaleTargetRef.Kind != objs.Deployment.Kind ||
		so.Spec.ScaleTargetRef.APIVersion != objs.Deployment.APIVersion {
		t.Errorf("the ScaledObject targets %+v, the chart renders %s %s %s", so.Spec.ScaleTargetRef,
			objs.Deployment.APIVersion, objs.Deployment.Kind, objs.Deployment.Name)
	}
	// The scraped series name the same app: the chart's selector labels are monitoring's.
	if objs.Deployment.Spec.Selector.MatchLabels["app.kubernetes.io/instance"] != appRelease {
		t.Errorf("Deployment selector %v", objs.Deployment.Spec.Selector.MatchLabels)
	}
}

// TestHPANameOverride: an HPA name given is written into the ScaledObject the program sends
// (spec.advanced.horizontalPodAutoscalerConfig.name, which KEDA names its HPA after) and is the
// component's HPAName output; without one, the output is KEDA's default keda-hpa-<name>.
func TestHPANameOverride(t *testing.T) {
	for _, c := range []struct{ given, want string }{{"flask-app", "flask-app"}, {"", "keda-hpa-" + appRelease}} {
		d := deployNamed(t, testScaling, c.given)
		spec := d.m.Only(t, scaledObjectType).Inputs["spec"].(map[string]any)
		cfg, _ := spec["advanced"].(map[string]any)["horizontalPodAutoscalerConfig"].(map[string]any)
		if c.given != "" && cfg["name"] != c.given {
			t.Errorf("HPAName %q: horizontalPodAutoscalerConfig.name %v", c.given, cfg["name"])
		}
		if c.given == "" && cfg["name"] != nil {
			t.Errorf("no HPAName given, but horizontalPodAutoscalerConfig.name is %v", cfg["name"])
		}
		if got := d.hpa.String(t); got != c.want {
			t.Errorf("HPAName %q: output %q, want %q", c.given, got, c.want)
		}
	}
}

func TestScalingValidate(t *testing.T) {
	for name, s := range map[string]Scaling{
		"zero minimum":        {MinReplicas: 0, MaxReplicas: 3, TargetRequestsPerSecond: 10},
		"max below min":       {MinReplicas: 3, MaxReplicas: 2, TargetRequestsPerSecond: 10},
		"no target":           {MinReplicas: 1, MaxReplicas: 2},
		"fallback above max":  {MinReplicas: 1, MaxReplicas: 2, TargetRequestsPerSecond: 10, FallbackReplicas: 3},
		"fallback below min":  {MinReplicas: 2, MaxReplicas: 4, TargetRequestsPerSecond: 10, FallbackReplicas: 1},
		"NaN target (config)": {MinReplicas: 1, MaxReplicas: 2, TargetRequestsPerSecond: math.NaN()},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (Scaling{MinReplicas: 1, MaxReplicas: 1, TargetRequestsPerSecond: 0.5, FallbackReplicas: 1}).Validate(); err != nil {
		t.Errorf("a fixed single pod refused: %v", err)
	}
	// A fractional target is written as KEDA parses it (a float).
	spec := ScaledObjectSpec(&ScaledObjectArgs{Scaling: Scaling{MinReplicas: 1, MaxReplicas: 2, TargetRequestsPerSecond: 0.5}}, "")
	if th := spec["triggers"].([]any)[0].(map[string]any)["metadata"].(map[string]any)["threshold"]; th != "0.5" {
		t.Errorf("threshold %v", th)
	}
}
