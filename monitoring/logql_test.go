package monitoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The LogQL checker: a tiny node project (exact versions in its package-lock.json) that parses
// with @grafana/lezer-logql, the grammar of Grafana's own Loki query editor (Apache-2.0; Loki's
// Go parser is AGPL and is not linked). .ci/setup installs it with npm ci.
var (
	logqlDir    = filepath.Join("..", ".ci", "tools", "logql")
	logqlScript = filepath.Join(logqlDir, "check.mjs")
	logqlModule = filepath.Join(logqlDir, "node_modules", "@grafana", "lezer-logql", "package.json")
)

// skipLogQLEnv is the only way to skip the LogQL checks: set to 1 where node cannot be had. A
// missing node or package otherwise fails the test, so that CI can never pass without running it.
const skipLogQLEnv = "FLASK_EKS_SKIP_LOGQL_CHECK"

type logqlResult struct {
	Expr   string `json:"expr"`
	Errors []struct {
		From int    `json:"from"`
		Text string `json:"text"`
	} `json:"errors"`
	Selectors []struct {
		Name, Op, Value string
	} `json:"selectors"`
	Filters  []string `json:"filters"`
	Unwrap   []string `json:"unwrap"`
	Grouping []string `json:"grouping"`
	Parsers  []string `json:"parsers"`
}

// checkLogQL runs the checker on exprs.
func checkLogQL(t *testing.T, exprs []string) []logqlResult {
	t.Helper()
	if os.Getenv(skipLogQLEnv) == "1" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s=1 in CI: CI checks LogQL (.ci/setup installs the checker)", skipLogQLEnv)
		}
		t.Skipf("%s=1: LogQL is not checked", skipLogQLEnv)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed, so LogQL cannot be checked: install Node.js (Debian: apt-get install nodejs npm), "+
			"then npm ci --prefix %s; or set %s=1 to skip this check knowingly", logqlDir, skipLogQLEnv)
	}
	if _, err := os.Stat(logqlModule); err != nil {
		t.Fatalf("the LogQL checker's package is not installed (%v): run npm ci --prefix .ci/tools/logql --ignore-scripts "+
			"(.ci/setup does), or set %s=1 to skip this check knowingly", err, skipLogQLEnv)
	}
	in, err := json.Marshal(exprs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, logqlScript)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", logqlScript, err, stderr.String())
	}
	var out []logqlResult
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out) != len(exprs) {
		t.Fatalf("%s answered %q (%v), want %d results", logqlScript, stdout.String(), err, len(exprs))
	}
	return out
}

// grafanaLogQLVars are the interval variables Grafana fills in before a query reaches Loki.
var grafanaLogQLVars = strings.NewReplacer("$__auto", "5m", "$__interval", "5m", "$__range", "5m", "$__rate_interval", "5m")

// logQLExprs returns every LogQL expression of the dashboard (its Loki panels) and of the Loki
// rule file, keyed by where it comes from.
func logQLExprs(t *testing.T, p assetParams) map[string]string {
	t.Helper()
	a, err := renderAssets(p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, panel := range decodeDashboard(t, []byte(a.dashboardJSON)).Panels {
		if panel.Datasource.Type != "loki" {
			continue
		}
		for _, tg := range panel.Targets {
			out[fmt.Sprintf("panel %q target %s", panel.Title, tg.RefID)] = tg.Expr
		}
	}
	rules, err := renderLogRules(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range decodeRuleSpec(t, rules).Groups {
		for _, r := range g.Rules {
			out["Loki alert "+r.Alert] = strings.TrimSpace(r.Expr.String())
		}
	}
	return out
}

// alloyLabels reads the Loki stream labels and the structured metadata the Alloy config gives
// every line: the relabel rules' target labels and the labels stage's keys, less what the
// structured_metadata stage moves out of the labels.
func alloyLabels(t *testing.T, config string) (labels, metadata []string) {
	t.Helper()
	block := func(stage string) string {
		m := regexp.MustCompile(`(?s)` + regexp.QuoteMeta(stage) + `\s*\{\s*values\s*=\s*\{(.*?)\}`).FindStringSubmatch(config)
		if m == nil {
			t.Fatalf("the Alloy config has no %s block", stage)
		}
		return m[1]
	}
	keys := regexp.MustCompile(`(?m)^\s*(\w+)\s*=`)
	for _, k := range keys.FindAllStringSubmatch(block("stage.structured_metadata"), -1) {
		metadata = append(metadata, k[1])
	}
	all := []string{}
	for _, m := range regexp.MustCompile(`target_label\s*=\s*"(\w+)"`).FindAllStringSubmatch(config, -1) {
		all = append(all, m[1])
	}
	for _, m := range regexp.MustCompile(`(\w+)\s*=`).FindAllStringSubmatch(block("stage.labels"), -1) {
		all = append(all, m[1])
	}
	for _, l := range all {
		if !slices.Contains(metadata, l) && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	slices.Sort(labels)
	slices.Sort(metadata)
	return labels, metadata
}

// appLogFields are the keys of the app's JSON log lines (app-src/app/logs.py: ts, level, logger,
// msg, exc, stack; the access line's extra= fields in app-src/app/__init__.py _access_fields),
// which `| json` turns into labels. TestAppLogFieldsExist keeps the list honest.
var appLogFields = []string{"ts", "level", "logger", "msg", "exc", "method", "route", "path", "status", "duration_ms", "client"}

// appLogLevels are Python's level names: the only values Alloy's level label takes.
var appLogLevels = []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}

func TestAppLogFieldsExist(t *testing.T) {
	var src strings.Builder
	for _, f := range []string{"logs.py", "__init__.py"} {
		b, err := os.ReadFile(filepath.Join("..", "app-src", "app", f))
		if err != nil {
			t.Fatalf("reading the app's logging code: %v", err)
		}
		src.Write(b)
	}
	for _, f := range appLogFields {
		if !strings.Contains(src.String(), `"`+f+`"`) {
			t.Errorf("the app writes no JSON field %q (app-src/app/logs.py, __init__.py)", f)
		}
	}
	_, metadata := alloyLabels(t, mustAlloyConfig(t))
	for _, m := range metadata {
		if m != "pod" && !slices.Contains(appLogFields, m) {
			t.Errorf("Alloy stores %q as structured metadata, a field the app does not write", m)
		}
	}
}

func mustAlloyConfig(t *testing.T) string {
	t.Helper()
	c, err := alloyConfig(LokiURL("monitoring") + "/loki/api/v1/push")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLogQLCheckerWorks: the checker finds a syntax error and reads names, so that a broken
// install cannot pass every expression silently.
func TestLogQLCheckerWorks(t *testing.T) {
	res := checkLogQL(t, []string{
		`sum(rate({namespace=flask-app}[5m]))`,
		`sum by (route) (rate({namespace="a", level="ERROR"} | status >= 500 [5m]))`,
	})
	if len(res[0].Errors) == 0 {
		t.Error("the checker accepts an unquoted label value")
	}
	if r := res[1]; len(r.Errors) != 0 || len(r.Selectors) != 2 || r.Selectors[1].Name != "level" || r.Selectors[1].Value != "ERROR" ||
		!slices.Equal(r.Filters, []string{"status"}) || !slices.Equal(r.Grouping, []string{"route"}) {
		t.Errorf("the checker read %+v", r)
	}
}

// TestLogQL parses every LogQL expression of the dashboard and the Loki rules with Grafana's
// LogQL grammar, and checks that each selects the app's streams by the labels Alloy sets, and
// filters, unwraps and groups only by labels, structured metadata, or (after | json) the
// fields the app writes.
func TestLogQL(t *testing.T) {
	p := assetParams{AppNamespace: "flask-app", AppName: "flask-app", AppLabel: "flask-app", Logs: true}
	exprs := logQLExprs(t, p)
	if len(exprs) != 3 {
		t.Fatalf("LogQL expressions %v, want the two panels' and the alert's", exprs)
	}
	labels, metadata := alloyLabels(t, mustAlloyConfig(t))
	var where []string
	var list []string
	for w, e := range exprs {
		where, list = append(where, w), append(list, grafanaLogQLVars.Replace(e))
	}
	for i, r := range checkLogQL(t, list) {
		w := where[i]
		for _, e := range r.Errors {
			t.Errorf("%s: %q does not parse at %d (%q)", w, exprs[w], e.From, e.Text)
		}
		scoped := map[string]string{}
		for _, s := range r.Selectors {
			if !slices.Contains(labels, s.Name) {
				t.Errorf("%s: selects on %q, not a label Alloy sets (%v)", w, s.Name, labels)
			}
			if s.Op == "=" {
				scoped[s.Name] = s.Value
			}
			if s.Name == "level" {
				for _, v := range strings.Split(s.Value, "|") {
					if !slices.Contains(appLogLevels, v) {
						t.Errorf("%s: level %q is not one of %v", w, v, appLogLevels)
					}
				}
			}
		}
		if scoped["namespace"] != p.AppNamespace || scoped["app"] != p.AppLabel {
			t.Errorf("%s: %q is not scoped to the app's namespace and app label", w, exprs[w])
		}
		known := append(slices.Clone(labels), metadata...)
		if slices.Contains(r.Parsers, "json") {
			known = append(known, appLogFields...)
		}
		for _, n := range slices.Concat(r.Filters, r.Unwrap, r.Grouping) {
			if !slices.Contains(known, n) {
				t.Errorf("%s: uses %q, which is neither a label, structured metadata nor a field the app writes", w, n)
			}
		}
	}
}

// TestLogRulesDecode: the Loki rule file is a well-formed Prometheus rule group with one alert.
func TestLogRulesDecode(t *testing.T) {
	rules, err := renderLogRules(assetParams{AppNamespace: "flask-app", AppName: "flask-app", AppLabel: "flask-app", Logs: true})
	if err != nil {
		t.Fatal(err)
	}
	spec := decodeRuleSpec(t, rules)
	if len(spec.Groups) != 1 || len(spec.Groups[0].Rules) != 1 {
		t.Fatalf("groups %+v, want one group with one alert", spec.Groups)
	}
	r := spec.Groups[0].Rules[0]
	if r.Alert != "AppErrorLogRate" || r.For == nil || r.Labels["severity"] != "warning" || r.Annotations["summary"] == "" ||
		strings.Contains(rules, "<<") {
		t.Errorf("alert %+v", r)
	}
}
