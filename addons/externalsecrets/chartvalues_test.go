package externalsecrets

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/modules"
)

// operatorKeys are the keys of External Secrets Operator's chart that the program may set, each
// with its line in deploy/charts/external-secrets/values.yaml at the release tag
// (https://github.com/external-secrets/external-secrets/blob/helm-chart-2.9.0/deploy/charts/external-secrets/values.yaml).
// The chart cannot be had offline at 2.9.0: the module proxy serves ESO's Go module only at
// v0.16.2 and v1.3.2 (chart 1.3.1, which lacks rbac.serviceAccountTokenCreate and
// rbac.aggregateToAdmin), refuses every other version and commit (403), and the v2 tags are no
// versions of a module path without /v2. So the keys are listed here; a key missing from the
// list fails the test, and a key added to it must be looked up at the tag, like the others.
var operatorKeys = map[string]any{
	"installCRDs": "L57",
	"crds": map[string]any{
		"createClusterExternalSecret": "L61",
		"createClusterSecretStore":    "L63",
		"createClusterPushSecret":     "L69",
		"createPushSecret":            "L71",
	},
	"scopedNamespace":              "L127",
	"scopedRBAC":                   "L131",
	"openshiftFinalizers":          "L134",
	"processClusterExternalSecret": "L142",
	"processClusterPushSecret":     "L145",
	"processClusterStore":          "L148",
	"processClusterGenerator":      "L157",
	"processPushSecret":            "L160",
	"serviceAccount":               map[string]any{"create": "L206", "name": "L215"},
	"rbac": map[string]any{
		"create":                    "L219",
		"serviceAccountTokenCreate": "L224",
		"servicebindings":           map[string]any{"create": "L228"},
		"aggregateToView":           "L231",
		"aggregateToEdit":           "L234",
		"aggregateToAdmin":          "L237",
	},
	"podSecurityContext": "L271",
	"securityContext":    restrictedKeys(275),
	"resources":          "L287",
	"nodeSelector":       "L439",
	"tolerations":        "L441",
	"webhook": map[string]any{
		"port":               "L550",
		"nodeSelector":       "L563",
		"tolerations":        "L615",
		"podSecurityContext": "L728",
		"securityContext":    restrictedKeys(732),
		"resources":          "L744",
	},
	"certController": map[string]any{
		"nodeSelector":       "L800",
		"tolerations":        "L805",
		"podSecurityContext": "L940",
		"securityContext":    restrictedKeys(944),
		"resources":          "L956",
	},
}

// restrictedKeys are the keys of a component's securityContext block starting at line at: the
// chart declares every key of the restricted context the program sets, so none may be misspelt.
func restrictedKeys(at int) map[string]any {
	line := func(offset int) string { return "L" + strconv.Itoa(at+offset) }
	return map[string]any{
		"allowPrivilegeEscalation": line(1),
		"capabilities":             map[string]any{"drop": line(3)},
		"enabled":                  line(5),
		"readOnlyRootFilesystem":   line(6),
		"runAsNonRoot":             line(7),
		"runAsUser":                line(8),
		"seccompProfile":           map[string]any{"type": line(10)},
	}
}

// The Reloader chart at 2.2.16 comes from the module proxy (modules.ReloaderModule, v1.4.22),
// whose chart directory is 2.2.16 with one change made after the release: reloader.leaderElection
// (the values.yaml diff against the tag chart-v2.2.16 adds only that block). The check takes it
// out again, so it checks against exactly the release's keys.
var reloaderAfterRelease = [][]string{{"reloader", "leaderElection"}}

// wholeMaps are the maps the two charts take whole: below them any key goes. Only maps the
// program sets keys below that the chart does not declare are listed.
var wholeMaps = map[string][]chartrender.WholeMap{
	OperatorChart.Name: {
		{Path: "podSecurityContext", Why: "Kubernetes PodSecurityContext of the controller, less the chart's own enabled flag"},
		{Path: "resources", Why: "Kubernetes ResourceRequirements of the controller"},
		{Path: "webhook.podSecurityContext", Why: "Kubernetes PodSecurityContext of the webhook, less the chart's own enabled flag"},
		{Path: "webhook.resources", Why: "Kubernetes ResourceRequirements of the webhook"},
		{Path: "certController.podSecurityContext", Why: "Kubernetes PodSecurityContext of the cert controller, less the chart's own enabled flag"},
		{Path: "certController.resources", Why: "Kubernetes ResourceRequirements of the cert controller"},
		{Path: "nodeSelector", Why: "Kubernetes nodeSelector of the controller (node label to value)"},
		{Path: "webhook.nodeSelector", Why: "Kubernetes nodeSelector of the webhook"},
		{Path: "certController.nodeSelector", Why: "Kubernetes nodeSelector of the cert controller"},
	},
	ReloaderChart.Name: {
		{Path: "reloader.deployment.nodeSelector", Why: "Kubernetes nodeSelector of the Reloader pod (values.yaml declares it empty)"},
		{Path: "reloader.deployment.containerSecurityContext", Why: "Kubernetes SecurityContext of the Reloader container"},
		{Path: "reloader.deployment.resources", Why: "Kubernetes ResourceRequirements of the Reloader container"},
	},
}

// reloaderDefaults are the Reloader chart's values.yaml at 2.2.16, as Helm loads it.
func reloaderDefaults(t *testing.T) map[string]any {
	t.Helper()
	ch, err := chartrender.Load(modules.ChartDir(t, modules.ReloaderModule, "deployments/kubernetes/chart/reloader", ReloaderChart.Name, ReloaderChart.Version))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range reloaderAfterRelease {
		m := ch.Values
		for _, k := range path[:len(path)-1] {
			m, _ = m[k].(map[string]any)
		}
		if _, ok := m[path[len(path)-1]]; !ok {
			t.Fatalf("%s has no %s to take out", modules.ReloaderModule, strings.Join(path, "."))
		}
		delete(m, path[len(path)-1])
	}
	return ch.Values
}

// chartValues are the values the program passes each chart, as the engine recorded them.
func (d *deployment) chartValues(t *testing.T) map[string]map[string]any {
	t.Helper()
	return map[string]map[string]any{
		OperatorChart.Name: d.chart(t, "external-secrets").Inputs["values"].(map[string]any),
		ReloaderChart.Name: d.chart(t, "external-secrets-reloader").Inputs["values"].(map[string]any),
	}
}

// TestChartValuesExist checks every key the program passes ESO's and Reloader's charts against
// the keys they declare at the pinned releases. Neither chart's values.schema.json refuses an
// unknown key, so Helm would drop a misspelt one without a word. Every key listed for ESO must
// also be one the program sets, so that the list says exactly what the program relies on.
func TestChartValuesExist(t *testing.T) {
	if OperatorChart.Version != "2.9.0" {
		t.Fatalf("ESO's chart moved to %s: look every key up at the new tag and update operatorKeys", OperatorChart.Version)
	}
	defaults := map[string]map[string]any{OperatorChart.Name: operatorKeys, ReloaderChart.Name: reloaderDefaults(t)}
	values := deploy(t, false).chartValues(t)
	for chart, v := range values {
		unknown, unneeded := chartrender.UndeclaredValues(v, defaults[chart], wholeMaps[chart])
		if len(unknown) != 0 {
			t.Errorf("%s: values the chart does not declare: %v", chart, unknown)
		}
		for _, w := range unneeded {
			t.Errorf("%s: %s is in wholeMaps but the program sets nothing undeclared below it", chart, w.Path)
		}
	}
	if unset := chartrender.UnknownValues(operatorKeys, values[OperatorChart.Name], nil); len(unset) != 0 {
		t.Errorf("operatorKeys lists keys the program does not set: %v", unset)
	}

	// A misspelt key fails, in each chart.
	for _, c := range []struct {
		chart string
		path  []string
		typo  string
	}{
		{OperatorChart.Name, []string{"processClusterStore"}, "processClusterSecretStore"},
		{OperatorChart.Name, []string{"webhook", "securityContext", "readOnlyRootFilesystem"}, "readOnlyRootFileSystem"},
		{ReloaderChart.Name, []string{"reloader", "ignoreConfigMaps"}, "ignoreConfigmaps"},
		{ReloaderChart.Name, []string{"reloader", "readOnlyRootFileSystem"}, "readOnlyRootFilesystem"},
		{OperatorChart.Name, []string{"webhook", "tolerations"}, "toleration"},
		{OperatorChart.Name, []string{"certController", "nodeSelector"}, "nodeSelectors"},
		{ReloaderChart.Name, []string{"reloader", "deployment", "tolerations"}, "toleration"},
	} {
		typo, err := chartrender.WithKeyRenamed(values[c.chart], c.path, c.typo)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(append(slices.Clone(c.path[:len(c.path)-1]), c.typo), ".")
		if got, _ := chartrender.UndeclaredValues(typo, defaults[c.chart], wholeMaps[c.chart]); !slices.Equal(got, []string{want}) {
			t.Errorf("%s with %s: undeclared %v, want only it", c.chart, want, got)
		}
	}
}
