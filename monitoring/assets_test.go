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
	"sigs.k8s.io/yaml"
)

var testParams = assetParams{AppNamespace: "flask-app", AppName: "flask-app"}

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
	Targets     []struct {
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
	wantTitles := []string{"Requests per second", "5xx error ratio", "p95 latency", "Ready pods"}
	var titles []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if ids[p.ID] {
			t.Errorf("duplicate panel id %d", p.ID)
		}
		ids[p.ID] = true
		// kube-prometheus-stack provisions its Prometheus datasource with uid "prometheus".
		if p.Datasource.Type != "prometheus" || p.Datasource.UID != "prometheus" {
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

// allExprs returns every PromQL expression of the dashboard and the rules,
// keyed by where it comes from.
func allExprs(t *testing.T) map[string]string {
	t.Helper()
	a := renderTest(t)
	out := map[string]string{}
	for _, p := range decodeDashboard(t, []byte(a.dashboardJSON)).Panels {
		for _, tg := range p.Targets {
			out[fmt.Sprintf("panel %q target %s", p.Title, tg.RefID)] = tg.Expr
		}
	}
	for _, r := range decodeRuleSpec(t, a.rulesYAML).Groups[0].Rules {
		out["alert "+r.Alert] = r.Expr.String()
	}
	return out
}

func TestPromQLUsesOnlyExportedMetrics(t *testing.T) {
	golden := readGolden(t)
	used := map[string]bool{}
	for where, expr := range allExprs(t) {
		sels, err := selectors(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if len(sels) == 0 {
			t.Errorf("%s: no metric found in %q", where, expr)
		}
		for _, s := range sels {
			used[s.name] = true
			switch {
			case slices.Contains(nonAppSeries, s.name):
				// kube-state-metrics / up: scoped by namespace, and by the
				// app's Deployment or Service.
				if !strings.Contains(s.matchers, `namespace="flask-app"`) ||
					!(strings.Contains(s.matchers, `deployment="flask-app"`) || strings.Contains(s.matchers, `service="flask-app"`)) {
					t.Errorf("%s: %s{%s} is not scoped to the app", where, s.name, s.matchers)
				}
			case exported(golden, s.name):
				if !strings.Contains(s.matchers, `namespace="flask-app"`) || !strings.Contains(s.matchers, `service="flask-app"`) {
					t.Errorf("%s: %s{%s} is not scoped to the app's namespace and service", where, s.name, s.matchers)
				}
			default:
				t.Errorf("%s: %q is neither in %s nor an allowed non-app series %v", where, s.name, goldenPath, nonAppSeries)
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

func TestSelectorsTokenizer(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`up{job="x"} == 0 or absent(up{job="x"})`, []string{"up", "up"}},
		{`sum by (le, route) (rate(a_bucket{route="/x",status=~"5.."}[$__rate_interval]))`, []string{"a_bucket"}},
		{`histogram_quantile(0.95, sum without (pod) (rate(h_bucket[5m])))`, []string{"h_bucket"}},
		{`sum(rate(a_total{s="fake_metric{x}"}[5m])) / on (ns) group_left (k) b_total offset 1h > 1e3`, []string{"a_total", "b_total"}},
		{`max_over_time(m:rec[1h:5m]) unless bool c and d`, []string{"m:rec", "c", "d"}},
		{`count(x) by (y)`, []string{"x"}},
		{`topk(5, foo) * $scale`, []string{"foo"}},
		{"# a comment mentioning bar\nbaz", []string{"baz"}},
	}
	for _, tc := range cases {
		sels, err := selectors(tc.expr)
		if err != nil {
			t.Errorf("selectors(%q): %v", tc.expr, err)
			continue
		}
		var got []string
		for _, s := range sels {
			got = append(got, s.name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("selectors(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
	sels, _ := selectors(`a{ns="n", svc="s"}`)
	if len(sels) != 1 || sels[0].matchers != `ns="n", svc="s"` {
		t.Errorf("matchers = %+v", sels)
	}
	for _, bad := range []string{`a{x="unterminated}`, `rate(a[5m]`, `a{x="y"`} {
		if _, err := selectors(bad); err == nil {
			t.Errorf("selectors(%q) accepted malformed PromQL", bad)
		}
	}
}

// selector is one vector selector in a PromQL expression.
type selector struct {
	name     string
	matchers string // the text between { and }, "" if none
}

// PromQL words that are never metric names: aggregation operators, set and
// comparison keywords, and modifiers.
var promKeywords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"inf": true, "nan": true,
}

// clauseKeywords take a parenthesised label list that must be skipped.
var clauseKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// selectors is a small PromQL tokenizer: it returns the vector selectors of
// expr, skipping string literals, label matchers, range/subquery brackets,
// numbers and durations, comments, Grafana $variables, functions (an
// identifier followed by '('), keywords and label lists of by/without/on/
// ignoring/group_left/group_right. It reports unbalanced brackets and
// unterminated strings.
func selectors(expr string) ([]selector, error) {
	var out []selector
	depth := 0
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
	// skipString returns the index after the closing quote of the string at i.
	skipString := func(i int) (int, error) {
		q := expr[i]
		for j := i + 1; j < len(expr); j++ {
			if expr[j] == '\\' && q != '`' {
				j++
				continue
			}
			if expr[j] == q {
				return j + 1, nil
			}
		}
		return 0, fmt.Errorf("unterminated string at offset %d", i)
	}
	// skipTo returns the index after the matching close bracket, honouring strings.
	skipTo := func(i int, open, close byte) (int, error) {
		for j := i + 1; j < len(expr); j++ {
			switch c := expr[j]; {
			case c == '"' || c == '\'' || c == '`':
				k, err := skipString(j)
				if err != nil {
					return 0, err
				}
				j = k - 1
			case c == open:
				return 0, fmt.Errorf("nested %q at offset %d", open, j)
			case c == close:
				return j + 1, nil
			}
		}
		return 0, fmt.Errorf("unclosed %q at offset %d", open, i)
	}
	nextNonSpace := func(i int) int {
		for i < len(expr) && (expr[i] == ' ' || expr[i] == '\t' || expr[i] == '\n' || expr[i] == '\r') {
			i++
		}
		return i
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j, err := skipString(i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '[':
			j, err := skipTo(i, '[', ']')
			if err != nil {
				return nil, err
			}
			i = j
		case c == '{':
			return nil, fmt.Errorf("selector without a metric name at offset %d", i)
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced ')' at offset %d", i)
			}
			i++
		case c == '$':
			i++
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(expr) && expr[i+1] >= '0' && expr[i+1] <= '9':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word, next := expr[i:j], nextNonSpace(j)
			switch {
			case clauseKeywords[word] && next < len(expr) && expr[next] == '(':
				k := strings.IndexByte(expr[next:], ')')
				if k < 0 {
					return nil, fmt.Errorf("unclosed label list after %q", word)
				}
				i = next + k + 1
			case clauseKeywords[word] || promKeywords[word]:
				i = j
			case next < len(expr) && expr[next] == '(':
				i = j // a function call
			default:
				s := selector{name: word}
				i = j
				if next < len(expr) && expr[next] == '{' {
					k, err := skipTo(next, '{', '}')
					if err != nil {
						return nil, err
					}
					s.matchers = strings.TrimSpace(expr[next+1 : k-1])
					i = k
				}
				out = append(out, s)
			}
		default:
			i++
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced parentheses")
	}
	return out, nil
}
