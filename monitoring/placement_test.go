package monitoring

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/kube"
)

// testPlacement and testEveryNode are a pool's placement and every pool's tolerations, as main.go
// passes the platform pool's and eks.EveryNodeTolerations.
var (
	testPlacement = kube.Placement{
		NodeSelector: map[string]string{"karpenter.sh/nodepool": "platform"},
		Tolerations:  []kube.Toleration{{Key: "CriticalAddonsOnly", Operator: "Exists", Effect: "NoSchedule"}},
	}
	testEveryNode = kube.Placement{Tolerations: []kube.Toleration{
		{Key: "dedicated", Operator: "Equal", Value: "app", Effect: "NoSchedule"},
		{Key: "CriticalAddonsOnly", Operator: "Exists", Effect: "NoSchedule"},
	}}
)

func withPlacement(a *MonitoringArgs) {
	a.Placement, a.EveryNode = testPlacement, testEveryNode
}

// placedPaths are where each chart takes the placement of a pod that is not a DaemonSet (the
// keys of chartvalues_test.go's lists), and everyNodePaths the tolerations of its DaemonSets.
var (
	placedPaths = map[string][]string{
		ChartName: {"prometheusOperator", "prometheusOperator.admissionWebhooks.patch", "crds.upgradeJob",
			"prometheus.prometheusSpec", "alertmanager.alertmanagerSpec", "grafana", "kube-state-metrics"},
		LokiChart.Name: {"singleBinary"},
	}
	everyNodePaths = map[string][]string{ChartName: {"prometheus-node-exporter"}, AlloyChart.Name: {"controller"}}
)

// TestPlacementReachesEveryPod: the placement goes to every pod of the three charts, each
// DaemonSet gets the every-node tolerations and no node selector, and without placements the
// program sets no nodeSelector or tolerations anywhere (the charts' defaults stay).
func TestPlacementReachesEveryPod(t *testing.T) {
	// jsonOf is v as JSON with every object's keys sorted, typed or not.
	jsonOf := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var plain any
		if err := json.Unmarshal(b, &plain); err != nil {
			t.Fatal(err)
		}
		if b, err = json.Marshal(plain); err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	at := func(values map[string]any, path string) map[string]any {
		m := values
		for _, k := range strings.Split(path, ".") {
			m, _ = m[k].(map[string]any)
		}
		return m
	}
	placed := mustRun(t, withEverything).chartValues(t)
	for chart, paths := range placedPaths {
		for _, path := range paths {
			m := at(placed[chart], path)
			if got, want := jsonOf(map[string]any{"nodeSelector": m["nodeSelector"], "tolerations": m["tolerations"]}), jsonOf(testPlacement); got != want {
				t.Errorf("%s %s: placement %s, want %s", chart, path, got, want)
			}
		}
	}
	for chart, paths := range everyNodePaths {
		for _, path := range paths {
			m := at(placed[chart], path)
			if got, want := jsonOf(m["tolerations"]), jsonOf(testEveryNode.Tolerations); got != want || m["nodeSelector"] != nil {
				t.Errorf("%s %s: tolerations %s and node selector %v, want %s and none", chart, path, got, m["nodeSelector"], want)
			}
		}
	}

	// Without placements: no key of either name anywhere.
	var find func(path string, v any) []string
	find = func(path string, v any) []string {
		var out []string
		if m, ok := v.(map[string]any); ok {
			for k, sub := range m {
				if k == "nodeSelector" || k == "tolerations" {
					out = append(out, path+k)
				}
				out = append(out, find(path+k+".", sub)...)
			}
		}
		return out
	}
	for chart, values := range mustRun(t, func(a *MonitoringArgs) { withLogs(a) }).chartValues(t) {
		if keys := find("", values); len(keys) != 0 {
			slices.Sort(keys)
			t.Errorf("%s without a placement sets %v", chart, keys)
		}
	}
}
