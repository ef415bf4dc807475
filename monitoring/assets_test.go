package monitoring

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// testParams render the dashboard with its Loki panels; TestDashboardStructure also checks it
// without them.
var testParams = assetParams{AppNamespace: "flask-app", AppName: "flask-app", AppLabel: "flask-app", Logs: true}

// goldenPath is the app's list of sample names a scrape of /metrics exposes,
// maintained next to the app (app-src/app/metrics.py).
var goldenPath = filepath.Join("..", "app-src", "tests", "metrics.golden")

// nonAppSeries are the only series the dashboard and rules may use that the
// app does not export itself: Prometheus's scrape health, and the Deployment's
// replica counts from kube-state-metrics (installed by the chart).
var nonAppSeries = []string{
	"up",
	"kube_deployment_status_replicas_ready",
	"kube_deployment_spec_replicas",
}

// dashboard is the subset of Grafana's dashboard model that dashboard.json
// uses. It is decoded with DisallowUnknownFields so that a typo'd or stray
// field fails the test; fieldConfig is free-form in Grafana and kept raw.
type dashboard struct {
	Title         string   `json:"title"`
	UID           string   `json:"uid"`
	Description   string   `json:"description"`
	Tags          []string `json:"tags"`
	Editable      bool     `json:"editable"`
	SchemaVersion int      `json:"schemaVersion"`
	Timezone      string   `json:"timezone"`
	Refresh       string   `json:"refresh"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	GridPos     struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	FieldConfig json.RawMessage `json:"fieldConfig"`
	// Options are the panel type's own options (the logs panel's), free-form in Grafana.
	Options json.RawMessage `json:"options"`
	Targets []struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

func decodeDashboard(t *testing.T, b []byte) dashboard {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard does not decode strictly: %v", err)
	}
	return d
}

func renderTest(t *testing.T) *renderedAssets {
	t.Helper()
	a, err := renderAssets(testParams)
	if err != nil {
		t.Fatalf("renderAssets: %v", err)
	}
	return a
}

func TestDashboardStructure(t *testing.T) {
	d := decodeDashboard(t, []byte(renderTest(t).dashboardJSON))
	if d.UID != "app-flask-app" || !strings.Contains(d.Title, "flask-app") {
		t.Errorf("title/uid = %q/%q", d.Title, d.UID)
	}
	wantTitles := []string{"Requests per second", "5xx error ratio", "p95 latency", "Ready pods", "Error log lines per second", "App logs"}
	var titles []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if ids[p.ID] {
			t.Errorf("duplicate panel id %d", p.ID)
		}
		ids[p.ID] = true
		// kube-prometheus-stack provisions its Prometheus datasource with uid "prometheus";
		// the component provisions Loki's with LokiDataSourceUID.
		ds := p.Datasource.Type + "/" + p.Datasource.UID
		if ds != "prometheus/prometheus" && ds != "loki/"+LokiDataSourceUID {
			t.Errorf("panel %q datasource = %+v", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q gridPos %+v does not fit the 24-column grid", p.Title, p.GridPos)
		}
		for _, tg := range p.Targets {
			if tg.RefID == "" || strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q has a target without refId or expr", p.Title)
			}
		}
	}
	if !slices.Equal(titles, wantTitles) {
		t.Errorf("panel titles = %q, want %q", titles, wantTitles)
	}
	if logs := d.Panels[5]; logs.Type != "logs" || d.Panels[4].Type != "timeseries" {
		t.Errorf("Loki panels are %s and %s, want a timeseries of the error-log rate and a logs panel", d.Panels[4].Type, logs.Type)
	}
	// Without Loki, its panels are dropped: their data source would not exist.
	noLogs := testParams
	noLogs.Logs = false
	a, err := renderAssets(noLogs)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeDashboard(t, []byte(a.dashboardJSON)).Panels; len(got) != 4 || got[3].Title != "Ready pods" {
		t.Errorf("without logs: %d panels, want the four Prometheus ones", len(got))
	}
	p95 := d.Panels[2].Targets[0].Expr
	if !strings.HasPrefix(p95, "histogram_quantile(0.95,") || !strings.Contains(p95, "app_http_request_duration_seconds_bucket") ||
		!strings.Contains(p95, "by (le") {
		t.Errorf("p95 panel does not compute histogram_quantile(0.95, ...) over the app's buckets by le: %s", p95)
	}
	ratio := d.Panels[1].Targets[0].Expr
	if !strings.Contains(ratio, `status=~"5.."`) || !strings.Contains(ratio, " / ") {
		t.Errorf("error-ratio panel is not a 5xx / all ratio: %s", ratio)
	}
}

func TestDashboardFileIsPlainJSON(t *testing.T) {
	// The embedded file itself must stay valid JSON, so it can be reviewed and
	// imported into Grafana by hand (placeholders sit inside strings).
	if !json.Valid([]byte(dashboardTemplate)) {
		t.Fatal("dashboard.json (unrendered) is not valid JSON")
	}
}

func decodeRuleSpec(t *testing.T, rulesYAML string) monitoringv1.PrometheusRuleSpec {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(rulesYAML))
	if err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var spec monitoringv1.PrometheusRuleSpec
	if err := dec.Decode(&spec); err != nil {
		t.Fatalf("rules.yaml does not decode strictly into monitoringv1.PrometheusRuleSpec: %v", err)
	}
	return spec
}

func TestRulesDecodeStrictly(t *testing.T) {
	checkRuleSpec(t, decodeRuleSpec(t, renderTest(t).rulesYAML))
}

// checkRuleSpec asserts the three alerts the app needs, each well-formed.
func checkRuleSpec(t *testing.T, spec monitoringv1.PrometheusRuleSpec) {
	t.Helper()
	if len(spec.Groups) != 1 {
		t.Fatalf("want 1 rule group, got %d", len(spec.Groups))
	}
	var alerts []string
	for _, r := range spec.Groups[0].Rules {
		alerts = append(alerts, r.Alert)
		if r.Record != "" {
			t.Errorf("unexpected recording rule %q", r.Record)
		}
		if strings.TrimSpace(r.Expr.String()) == "" {
			t.Errorf("alert %q has no expr", r.Alert)
		}
		if r.For == nil {
			t.Errorf("alert %q has no 'for': it would fire on a single bad scrape", r.Alert)
		} else if _, err := time.ParseDuration(string(*r.For)); err != nil {
			t.Errorf("alert %q for=%q: %v", r.Alert, *r.For, err)
		}
		if sev := r.Labels["severity"]; sev != "warning" && sev != "critical" {
			t.Errorf("alert %q severity = %q", r.Alert, sev)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("alert %q lacks summary/description", r.Alert)
		}
		if strings.Contains(r.Annotations["description"], "<<") || strings.Contains(r.Expr.String(), "<<") {
			t.Errorf("alert %q has unrendered placeholders", r.Alert)
		}
	}
	if want := []string{"AppHigh5xxRatio", "AppTargetDown", "AppPodsNotReady"}; !slices.Equal(alerts, want) {
		t.Errorf("alerts = %q, want %q", alerts, want)
	}
}

// readGolden returns the sample names listed in metrics.golden (one per line,
// first field; blank lines and # comments ignored).
func readGolden(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatalf("reading the app's metrics contract %s: %v (it is written with app-src/app/metrics.py)", goldenPath, err)
	}
	defer f.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names[strings.Fields(line)[0]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("%s lists no metrics", goldenPath)
	}
	return names
}

// exported reports whether a series name is something the app exposes: listed
// as is, or a _bucket/_sum/_count/_total/_created series of a listed family.
func exported(golden map[string]bool, name string) bool {
	if golden[name] {
		return true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count", "_total", "_created"} {
		if base, ok := strings.CutSuffix(name, suf); ok && golden[base] {
			return true
		}
	}
	return false
}

// allExprs returns every PromQL expression of the dashboard (its Prometheus panels) and the rules,
// keyed by where it comes from.
func allExprs(t *testing.T) map[string]string {
	t.Helper()
	a := renderTest(t)
	out := map[string]string{}
	for _, p := range decodeDashboard(t, []byte(a.dashboardJSON)).Panels {
		if p.Datasource.Type != "prometheus" {
			continue // LogQL: logql_test.go
		}
		for _, tg := range p.Targets {
			out[fmt.Sprintf("panel %q target %s", p.Title, tg.RefID)] = tg.Expr
		}
	}
	for _, r := range decodeRuleSpec(t, a.rulesYAML).Groups[0].Rules {
		out["alert "+r.Alert] = r.Expr.String()
	}
	return out
}

// appLabels are the labels a series of the app carries when Prometheus scrapes it through the
// PodMonitor: its own (metrics.py), the target's, and the histogram's le.
var appLabels = []string{"namespace", "job", "pod", "container", "endpoint", "instance", "method", "route", "status", "version", "le"}

// TestPromQLUsesOnlyExportedMetrics parses every expression of the dashboard and the rules with
// Prometheus's own PromQL parser, and checks that each selects only series the app exports (or
// the allowed non-app ones), scoped to the app, with only labels those series carry.
func TestPromQLUsesOnlyExportedMetrics(t *testing.T) {
	golden := readGolden(t)
	used := map[string]bool{}
	for where, expr := range allExprs(t) {
		// Grafana fills $__rate_interval in before the query reaches Prometheus.
		parsed, err := parser.NewParser(parser.Options{}).ParseExpr(strings.ReplaceAll(expr, "$__rate_interval", "5m"))
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", where, expr, err)
			continue
		}
		selectors := parser.ExtractSelectors(parsed)
		if len(selectors) == 0 {
			t.Errorf("%s: no metric found in %q", where, expr)
		}
		for _, matchers := range selectors {
			name, labels := "", map[string]string{}
			for _, m := range matchers {
				if m.Name == "__name__" {
					name = m.Value
					continue
				}
				labels[m.Name] = m.Value
			}
			used[name] = true
			switch {
			case slices.Contains(nonAppSeries, name):
				// up and kube-state-metrics: scoped by namespace, and to the app's target or
				// Deployment.
				if labels["namespace"] != "flask-app" || (labels["deployment"] != "flask-app" && labels["job"] != "flask-app/flask-app") {
					t.Errorf("%s: %s%v is not scoped to the app", where, name, labels)
				}
			case exported(golden, name):
				if labels["namespace"] != "flask-app" || labels["job"] != "flask-app/flask-app" {
					t.Errorf("%s: %s%v is not scoped to the app's namespace and PodMonitor job", where, name, labels)
				}
				for l := range labels {
					if !slices.Contains(appLabels, l) {
						t.Errorf("%s: %s has no label %q (it carries %v)", where, name, l, appLabels)
					}
				}
			default:
				t.Errorf("%s: %q is neither in %s nor an allowed non-app series %v", where, name, goldenPath, nonAppSeries)
			}
		}
	}
	// The panels must actually be built on the app's own series.
	for _, m := range []string{"app_http_requests_total", "app_http_request_duration_seconds_bucket"} {
		if !used[m] {
			t.Errorf("no expression uses %s", m)
		}
	}
}
