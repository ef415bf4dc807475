//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/pulumitest"
)

// chartPodPlacement is one pod of a chart that the tests do not render at its release (it is not
// on the module proxy, or only with changes made after the release): where the chart takes the
// pod's nodeSelector and tolerations from, read in its templates at the pinned tag.
type chartPodPlacement struct {
	// name is the pod's name in standIns (netpol_export_test.go), which lists the same pods.
	name string
	// daemonSet: the pod runs on every node (it must tolerate every pool).
	daemonSet bool
	// selector and tolerations are the dotted paths of the values the pod's nodeSelector and
	// tolerations are rendered from.
	selector, tolerations string
	// defaultSelector is what the chart's values.yaml puts at selector (Helm merges the
	// program's map over it); defaultTolerations its list at tolerations (which the program's
	// replaces).
	defaultSelector    map[string]string
	defaultTolerations []corev1.Toleration
	// enabled, when set, is the dotted path of the value that must be true for the pod to exist.
	enabled string
	source  string
}

// unrenderedPlacement describes, by chart, the pods of every chart the tests cannot render, with
// its pinned version. The URLs are the charts' trees at their tags (netpol_export_test.go).
var unrenderedPlacement = map[string]struct {
	version string
	pods    []chartPodPlacement
}{
	"kube-prometheus-stack": {version: "88.5.3", pods: []chartPodPlacement{
		{name: "prometheus-operator", selector: "prometheusOperator.nodeSelector", tolerations: "prometheusOperator.tolerations",
			source: kpsTag + "templates/prometheus-operator/deployment.yaml#L241-L255"},
		// The operator copies the Prometheus and Alertmanager objects' nodeSelector and
		// tolerations into their StatefulSets' pods.
		{name: "prometheus", selector: "prometheus.prometheusSpec.nodeSelector", tolerations: "prometheus.prometheusSpec.tolerations",
			source: kpsTag + "templates/prometheus/prometheus.yaml#L90-L92,L343-L345"},
		{name: "alertmanager", selector: "alertmanager.alertmanagerSpec.nodeSelector", tolerations: "alertmanager.alertmanagerSpec.tolerations",
			enabled: "alertmanager.enabled", source: kpsTag + "templates/alertmanager/alertmanager.yaml#L51-L53,L152-L154"},
		{name: "grafana", selector: "grafana.nodeSelector", tolerations: "grafana.tolerations",
			enabled: "grafana.enabled", source: grafTag + "templates/_pod.tpl#L1548-L1563"},
		{name: "kube-state-metrics", selector: "kube-state-metrics.nodeSelector", tolerations: "kube-state-metrics.tolerations",
			source: ksmTag + "templates/deployment.yaml#L355-L362"},
		{name: "node-exporter", daemonSet: true, selector: "prometheus-node-exporter.nodeSelector", tolerations: "prometheus-node-exporter.tolerations",
			defaultSelector:    map[string]string{"kubernetes.io/os": "linux"},
			defaultTolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			enabled:            "nodeExporter.enabled", source: nodeExpTag + "templates/daemonset.yaml#L330-L340, values.yaml#L464-L473"},
		{name: "admission-create", selector: "prometheusOperator.admissionWebhooks.patch.nodeSelector", tolerations: "prometheusOperator.admissionWebhooks.patch.tolerations",
			source: kpsTag + "templates/prometheus-operator/admission-webhooks/job-patch/job-createSecret.yaml#L58-L69"},
		{name: "admission-patch", selector: "prometheusOperator.admissionWebhooks.patch.nodeSelector", tolerations: "prometheusOperator.admissionWebhooks.patch.tolerations",
			source: kpsTag + "templates/prometheus-operator/admission-webhooks/job-patch/job-patchWebhook.yaml#L67-L78"},
		// The crds subchart reads .Values.upgradeJob, the parent's crds.upgradeJob.
		{name: "crds-upgrade", selector: "crds.upgradeJob.nodeSelector", tolerations: "crds.upgradeJob.tolerations",
			enabled: "crds.upgradeJob.enabled", source: kpsTag + "charts/crds/templates/upgrade/job.yaml#L131-L138"},
	}},
	// singleBinary's own values come first: templates/_pod.tpl coalesces them with defaults.*
	// and loki.*, which the program leaves empty.
	"loki": {version: "18.11.0", pods: []chartPodPlacement{
		{name: "loki", selector: "singleBinary.nodeSelector", tolerations: "singleBinary.tolerations", source: lokiTag + "templates/_pod.tpl#L117-L125"},
	}},
	"alloy": {version: "1.11.1", pods: []chartPodPlacement{
		{name: "alloy", daemonSet: true, selector: "controller.nodeSelector", tolerations: "controller.tolerations", source: alloyTag + "templates/controllers/_pod.yaml#L60-L67"},
	}},
	// Each Deployment reads its own keys, then global.* (empty by default).
	"external-secrets": {version: "2.9.0", pods: []chartPodPlacement{
		{name: "external-secrets", selector: "nodeSelector", tolerations: "tolerations", source: esoTag + "templates/deployment.yaml#L215-L226"},
		{name: "external-secrets-webhook", selector: "webhook.nodeSelector", tolerations: "webhook.tolerations", source: esoTag + "templates/webhook-deployment.yaml#L174-L185"},
		{name: "external-secrets-cert-controller", selector: "certController.nodeSelector", tolerations: "certController.tolerations", source: esoTag + "templates/cert-controller-deployment.yaml#L173-L184"},
	}},
	"reloader": {version: "2.2.16", pods: []chartPodPlacement{
		{name: "reloader", selector: "reloader.deployment.nodeSelector", tolerations: "reloader.deployment.tolerations", source: reloTag + "templates/deployment.yaml#L54-L69"},
	}},
	"external-dns": {version: "1.21.1", pods: []chartPodPlacement{
		{name: "external-dns", selector: "nodeSelector", tolerations: "tolerations", source: ednsTag + "templates/deployment.yaml#L238-L313"},
	}},
}

// podPlacement is one pod the program runs, with the nodeSelector and tolerations it gets.
type podPlacement struct {
	chart, pod   string
	daemonSet    bool
	nodeSelector map[string]string
	tolerations  []corev1.Toleration
}

// TestEveryPodHasAPool: in dev and prod, with Auto Mode's built-in pools OFF, every pod of every
// chart the program installs can be scheduled: the app's on the app pool alone, every other
// pod on a pool that is not the app's (which stays the app's), and every DaemonSet on every
// pool. Each pod's nodeSelector and tolerations are those of the values the program sends: the
// charts on the module proxy are rendered with them, the others read where their templates
// take them from (unrenderedPlacement). eks.PoolShape.Fits decides, against the pools as
// eks.Shapes makes them from the stack's config.
func TestEveryPodHasAPool(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			raw := stackConfig(t, stack)
			cfg, err := readConfig("flask-eks", stack, mapConfig{values: raw}, testToday())
			if err != nil {
				t.Fatal(err)
			}
			rec, err := runProgram(t, stack, raw)
			if err != nil {
				t.Fatal(err)
			}
			shapes := eks.Shapes(cfg.Nodes.App, cfg.Nodes.Platform, false)
			pods := programPods(t, rec)
			for _, p := range pods {
				var fits []string
				var why []string
				for _, s := range shapes {
					if err := s.Fits(p.nodeSelector, p.tolerations); err != nil {
						why = append(why, err.Error())
						continue
					}
					fits = append(fits, s.Name)
				}
				where := fmt.Sprintf("%s: chart %s pod %s (nodeSelector %v, tolerations %v)", stack, p.chart, p.pod, p.nodeSelector, p.tolerations)
				switch {
				case p.chart == chartPath:
					if !slices.Equal(fits, []string{eks.AppPool}) {
						t.Errorf("%s fits %v, want only %s", where, fits, eks.AppPool)
					}
				case p.daemonSet:
					if len(fits) != len(shapes) {
						t.Errorf("%s is a DaemonSet that fits only %v: %s", where, fits, strings.Join(why, "; "))
					}
				case len(fits) == 0:
					t.Errorf("%s fits no pool: %s", where, strings.Join(why, "; "))
				case slices.Contains(fits, eks.AppPool):
					t.Errorf("%s fits the app pool (%v), which is the app's alone", where, fits)
				}
			}
			t.Logf("%s: %d pods checked against %d pools", stack, len(pods), len(shapes))
		})
	}
}

// programPods are the pods of every chart the program installs, with their placement.
func programPods(t *testing.T, rec *pulumitest.Mocks) []podPlacement {
	t.Helper()
	var out []podPlacement
	for _, typ := range []string{"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"} {
		for _, n := range rec.ByType(typ) {
			chart := n.Inputs["chart"].(string)
			version, _ := n.Inputs["version"].(string)
			values, _ := n.Inputs["values"].(map[string]any)
			if dir := renderableChart(t, chart, version); dir != "" {
				manifests, err := chartrender.Render(dir, values, n.Inputs["name"].(string), n.Inputs["namespace"].(string), "v1.35.0")
				if err != nil {
					t.Fatalf("rendering %s: %v", chart, err)
				}
				pods := renderedPods(t, chart, manifests)
				if len(pods) == 0 {
					t.Errorf("chart %s renders no pod: a workload kind renderedPods does not read?", chart)
				}
				out = append(out, pods...)
				continue
			}
			model, ok := unrenderedPlacement[chart]
			if !ok {
				t.Fatalf("chart %s %s is neither rendered nor described in unrenderedPlacement", chart, version)
			}
			if model.version != version {
				t.Fatalf("unrenderedPlacement describes %s %s, the program installs %s: re-read the chart at its new tag", chart, model.version, version)
			}
			for _, p := range model.pods {
				if p.enabled != "" {
					if on, _ := lookup(values, p.enabled); on != true {
						continue
					}
				}
				out = append(out, modelPod(t, chart, p, values))
			}
		}
	}
	return out
}

// renderedPods are the pod templates of a rendered chart's workloads.
func renderedPods(t *testing.T, chart string, manifests []chartrender.Manifest) []podPlacement {
	t.Helper()
	var out []podPlacement
	for _, m := range manifests {
		var spec *corev1.PodSpec
		daemonSet := false
		switch m.Kind {
		case "Deployment":
			var d appsv1.Deployment
			unmarshal(t, m, &d)
			spec = &d.Spec.Template.Spec
		case "StatefulSet":
			var s appsv1.StatefulSet
			unmarshal(t, m, &s)
			spec = &s.Spec.Template.Spec
		case "DaemonSet":
			var d appsv1.DaemonSet
			unmarshal(t, m, &d)
			spec, daemonSet = &d.Spec.Template.Spec, true
		case "Job":
			var j batchv1.Job
			unmarshal(t, m, &j)
			spec = &j.Spec.Template.Spec
		case "CronJob":
			var c batchv1.CronJob
			unmarshal(t, m, &c)
			spec = &c.Spec.JobTemplate.Spec.Template.Spec
		case "Pod":
			var p corev1.Pod
			unmarshal(t, m, &p)
			spec = &p.Spec
		}
		if spec != nil {
			out = append(out, podPlacement{chart: chart, pod: m.Kind + "/" + m.Name, daemonSet: daemonSet,
				nodeSelector: spec.NodeSelector, tolerations: spec.Tolerations})
		}
	}
	return out
}

func unmarshal(t *testing.T, m chartrender.Manifest, into any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(m.YAML), into); err != nil {
		t.Fatalf("%s: %v", m.Template, err)
	}
}

// modelPod is the placement of a pod of an unrendered chart: the chart's default selector with
// the program's merged over it, and the program's tolerations, else the chart's.
func modelPod(t *testing.T, chart string, p chartPodPlacement, values map[string]any) podPlacement {
	t.Helper()
	out := podPlacement{chart: chart, pod: p.name, daemonSet: p.daemonSet, nodeSelector: maps.Clone(p.defaultSelector), tolerations: p.defaultTolerations}
	if v, ok := lookup(values, p.selector); ok && v != nil {
		var sel map[string]string
		decodeJSON(t, v, &sel)
		if out.nodeSelector == nil {
			out.nodeSelector = map[string]string{}
		}
		maps.Copy(out.nodeSelector, sel)
	}
	if v, ok := lookup(values, p.tolerations); ok && v != nil {
		out.tolerations = nil
		decodeJSON(t, v, &out.tolerations)
	}
	return out
}

func decodeJSON(t *testing.T, v, into any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

// TestUnrenderedPlacementCoversEveryPod keeps the placement table and the stand-in table in
// step: each lists the same pods of each chart, and each placement cites its chart's template.
func TestUnrenderedPlacementCoversEveryPod(t *testing.T) {
	for chart, model := range unrenderedPlacement {
		si, ok := standIns[chart]
		if !ok || si.version != model.version {
			t.Errorf("%s %s: standIns has %v %s", chart, model.version, ok, si.version)
			continue
		}
		var want, got []string
		for _, p := range si.pods {
			want = append(want, p.name)
		}
		for _, p := range model.pods {
			got = append(got, p.name)
			if !strings.HasPrefix(p.source, "https://") || p.selector == "" || p.tolerations == "" {
				t.Errorf("%s pod %s: incomplete %+v", chart, p.name, p)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: placement for pods %v, stand-ins for %v", chart, got, want)
		}
	}
	for chart := range standIns {
		if _, ok := unrenderedPlacement[chart]; !ok {
			t.Errorf("standIns describe %s, unrenderedPlacement does not", chart)
		}
	}
}
