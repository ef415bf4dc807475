package monitoring

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/chartrender"
)

// None of this package's charts can be had offline at its pinned release. The module proxy
// serves Go modules, and neither prometheus-community/helm-charts (kube-prometheus-stack and
// its kube-state-metrics and prometheus-node-exporter subcharts) nor
// grafana-community/helm-charts (Loki and the grafana subchart) is one: neither has a go.mod.
// grafana/alloy is a Go module, but the proxy refuses it (403), and no tag of it holds chart
// alloy 1.11.1 (helm-chart/1.11.1 is a chart-only tag; the app's v1.18.1 holds chart 1.10.1).
// So the keys the program may set are listed here, each with where the chart declares it at the
// release tag: "L<n>" is the line in the chart's values.yaml, "<subchart> L<n>" the line in the
// subchart's, and a template named with its line is a key the chart reads but declares only in
// a comment. A key missing from these lists fails the test; a key added to them must be looked
// up at the tag, like the others.
//
//   - kube-prometheus-stack 88.5.3: https://github.com/prometheus-community/helm-charts/blob/kube-prometheus-stack-88.5.3/charts/kube-prometheus-stack/values.yaml
//   - grafana 12.11.1: https://github.com/grafana-community/helm-charts/blob/grafana-12.11.1/charts/grafana/values.yaml
//   - kube-state-metrics 8.4.0: https://github.com/prometheus-community/helm-charts/blob/kube-state-metrics-8.4.0/charts/kube-state-metrics/values.yaml
//   - loki 18.11.0: https://github.com/grafana-community/helm-charts/blob/loki-18.11.0/charts/loki/values.yaml
//   - alloy 1.11.1: https://github.com/grafana/alloy/blob/helm-chart/1.11.1/operations/helm/charts/alloy/values.yaml
//
//   - prometheus-node-exporter 4.56.1: https://github.com/prometheus-community/helm-charts/blob/prometheus-node-exporter-4.56.1/charts/prometheus-node-exporter/values.yaml
//
// Of the prometheus-node-exporter subchart the program sets only its condition
// nodeExporter.enabled, namespaceOverride (which kube-prometheus-stack declares under
// prometheus-node-exporter, and the subchart at L517) and the DaemonSet's tolerations.

// declared is a chart's values as far as this program sets them: a key maps to the keys below
// it, or to where the chart declares it.
type declared = map[string]any

var kubePrometheusStackKeys = declared{
	"kubeControllerManager": declared{"enabled": "L2025"},
	"kubeScheduler":         declared{"enabled": "L2440"},
	"kubeEtcd":              declared{"enabled": "L2326"},
	"kubeProxy":             declared{"enabled": "L2579"},
	"defaultRules": declared{"rules": declared{
		"etcd":                   "L178",
		"kubeControllerManager":  "L192",
		"kubeProxy":              "L194",
		"kubeSchedulerAlerting":  "L201",
		"kubeSchedulerRecording": "L202",
		"nodeExporterAlerting":   "L206",
		"nodeExporterRecording":  "L207",
	}},
	"nodeExporter":             declared{"enabled": "L2712"},
	"prometheus-node-exporter": declared{"tolerations": "prometheus-node-exporter L471", "namespaceOverride": "L2728"},
	"kube-state-metrics": declared{
		"collectorsExclude": "kube-state-metrics L471",
		"nodeSelector":      "kube-state-metrics L360",
		"tolerations":       "kube-state-metrics L376",
	},
	"crds": declared{"upgradeJob": declared{"enabled": "L40", "nodeSelector": "L75", "tolerations": "L94"}},
	"prometheusOperator": declared{
		"nodeSelector": "L3434",
		"tolerations":  "L3439",
		"admissionWebhooks": declared{"patch": declared{
			"nodeSelector": "L3144",
			"tolerations":  "L3146",
		}},
	},
	"prometheus": declared{"prometheusSpec": declared{
		"serviceMonitorSelectorNilUsesHelmValues": "L4476",
		"podMonitorSelectorNilUsesHelmValues":     "L4499",
		"ruleSelectorNilUsesHelmValues":           "L4451",
		"probeSelectorNilUsesHelmValues":          "L4521",
		"scrapeConfigSelectorNilUsesHelmValues":   "L4546",
		"retention":                               "L4567",
		"resources":                               "L4668",
		"storageSpec":                             "L4675",
		"nodeSelector":                            "L4421",
		"tolerations":                             "L4354",
	}},
	"alertmanager": declared{
		"enabled": "L402",
		"config":  "L553",
		"alertmanagerSpec": declared{
			"secrets":      "L1033",
			"storage":      "L1126",
			"nodeSelector": "L1160",
			"resources":    "L1165",
			"tolerations":  "L1198",
		},
	},
	"grafana": declared{
		"enabled": "L1378",
		"admin":   declared{"existingSecret": "L1473", "userKey": "L1474", "passwordKey": "L1475"},
		"rbac":    declared{"namespaced": "grafana L26"},
		"persistence": declared{
			"type":             "grafana L490",
			"enabled":          "grafana L491",
			"accessModes":      "grafana L495",
			"size":             "grafana L497",
			"storageClassName": "grafana templates/statefulset.yaml:63 (values.yaml L492, a comment)",
		},
		"resources": "grafana L427",
		"sidecar": declared{
			"dashboards":  declared{"enabled": "L1538", "label": "L1539", "labelValue": "L1540", "searchNamespace": "L1542"},
			"datasources": declared{"enabled": "L1558", "searchNamespace": "grafana L1311"},
		},
		"grafana.ini": "grafana L959",
		"ingress": declared{
			"enabled":          "L1485",
			"ingressClassName": "grafana templates/ingress.yaml:24 (values.yaml L306, a comment)",
			"annotations":      "L1494",
			"hosts":            "L1507",
			"path":             "L1510",
			"pathType":         "grafana L313",
		},
		"additionalDataSources": "L1625",
		"nodeSelector":          "grafana L438",
		"tolerations":           "grafana L443",
	},
}

var lokiKeys = declared{
	"deploymentMode": "L70",
	"loki": declared{
		"auth_enabled":  "L555",
		"analytics":     "L828",
		"commonConfig":  declared{"replication_factor": "L619"},
		"schemaConfig":  "L767",
		"limits_config": "L606",
		"compactor":     "L818",
		"rulerConfig":   "L787",
		"storage": declared{
			"type":        "L632",
			"s3":          declared{"region": "L639"},
			"bucketNames": declared{"chunks": "templates/_helpers.tpl:228 (values.yaml L629, a comment)"},
		},
		"podSecurityContext": declared{
			"fsGroup":             "L276",
			"fsGroupChangePolicy": "L277",
			"runAsGroup":          "L278",
			"runAsNonRoot":        "L279",
			"runAsUser":           "L280",
			"seccompProfile":      declared{"type": "L282"},
		},
		"containerSecurityContext": "L285",
	},
	"defaults": declared{"automountServiceAccountToken": "L143"},
	"singleBinary": declared{
		"replicas":          "L1884",
		"extraVolumeMounts": "L2040",
		"extraVolumes":      "L2042",
		"resources":         "L2045",
		"nodeSelector":      "L2080",
		"tolerations":       "L2082",
		"persistence": declared{
			"enabled":      "L2093",
			"accessModes":  "L2095",
			"size":         "L2098",
			"storageClass": "L2105",
		},
	},
	"read":         declared{"replicas": "L2415"},
	"write":        declared{"replicas": "L2146"},
	"backend":      declared{"replicas": "L2653"},
	"chunksCache":  declared{"enabled": "L6489"},
	"resultsCache": declared{"enabled": "L6331"},
	"minio":        declared{"enabled": "L6856"},
	"gateway":      declared{"enabled": "L1215"},
	"lokiCanary":   declared{"enabled": "L928"},
	"test":         declared{"enabled": "L894"},
	"sidecar":      declared{"rules": declared{"enabled": "L7001"}},
	"serviceAccount": declared{
		"create":                       "L1115",
		"name":                         "L1119",
		"automountServiceAccountToken": "L1130",
	},
}

var alloyKeys = declared{
	"crds": declared{"create": "L29"},
	"global": declared{
		"podSecurityContext": "L25",
	},
	"alloy": declared{
		"configMap":       declared{"create": "L37", "content": "L39"},
		"storagePath":     "L62",
		"enableReporting": "L88",
		"mounts":          declared{"varlog": "L124", "dockercontainers": "L127", "extra": "L131"},
		"securityContext": "L134",
		"resources":       "L137",
	},
	"controller": declared{
		"type":        "L282",
		"tolerations": "L323",
		"volumes":     declared{"extra": "L480"},
	},
	"rbac":           declared{"create": "L167", "rules": "L175", "clusterRules": "L214"},
	"serviceAccount": declared{"create": "L233"},
}

// wholeMaps are the maps this package's charts take whole: below them any key goes, and a typo
// there is for the program that reads the map to catch. Only maps the program sets keys below
// are listed.
var wholeMaps = map[string][]chartrender.WholeMap{
	ChartName: {
		{Path: "alertmanager.config", Why: "Alertmanager's configuration file, written whole into its Secret; TestAlerting loads it with Alertmanager's own parser"},
		{Path: "alertmanager.alertmanagerSpec.resources", Why: "Kubernetes ResourceRequirements of the Alertmanager object"},
		{Path: "alertmanager.alertmanagerSpec.storage", Why: "prometheus-operator StorageSpec of the Alertmanager object"},
		{Path: "prometheus.prometheusSpec.resources", Why: "Kubernetes ResourceRequirements of the Prometheus object"},
		{Path: "prometheus.prometheusSpec.storageSpec", Why: "prometheus-operator StorageSpec of the Prometheus object"},
		{Path: "grafana.grafana.ini", Why: "Grafana's grafana.ini, written section by section (grafana templates/_config.tpl)"},
		{Path: "grafana.resources", Why: "Kubernetes ResourceRequirements of the Grafana container"},
		{Path: "grafana.ingress.annotations", Why: "annotations of Grafana's Ingress, read by the AWS Load Balancer Controller"},
		{Path: "prometheusOperator.nodeSelector", Why: "Kubernetes nodeSelector of the operator's pod"},
		{Path: "prometheusOperator.admissionWebhooks.patch.nodeSelector", Why: "Kubernetes nodeSelector of the admission webhook's certificate Jobs"},
		{Path: "crds.upgradeJob.nodeSelector", Why: "Kubernetes nodeSelector of the CRD upgrade Job (the crds subchart's upgradeJob)"},
		{Path: "prometheus.prometheusSpec.nodeSelector", Why: "nodeSelector of the Prometheus object, for its pods"},
		{Path: "alertmanager.alertmanagerSpec.nodeSelector", Why: "nodeSelector of the Alertmanager object, for its pods"},
		{Path: "grafana.nodeSelector", Why: "Kubernetes nodeSelector of Grafana's pod"},
		{Path: "kube-state-metrics.nodeSelector", Why: "Kubernetes nodeSelector of kube-state-metrics' pod"},
	},
	LokiChart.Name: {
		{Path: "loki.limits_config", Why: "Loki's limits_config, written whole into config.yaml (values.yaml L385)"},
		{Path: "loki.schemaConfig", Why: "Loki's schema_config, written whole into config.yaml (values.yaml L434)"},
		{Path: "loki.rulerConfig", Why: "Loki's ruler block, merged over the chart's ruler storage (templates/_helpers.tpl loki.rulerConfig)"},
		{Path: "loki.compactor", Why: "Loki's compactor block, written whole into config.yaml (values.yaml L493)"},
		{Path: "loki.analytics", Why: "Loki's analytics block, written whole into config.yaml (values.yaml L503)"},
		{Path: "loki.containerSecurityContext", Why: "Kubernetes SecurityContext of Loki's containers"},
		{Path: "singleBinary.resources", Why: "Kubernetes ResourceRequirements of the single binary"},
		{Path: "singleBinary.nodeSelector", Why: "Kubernetes nodeSelector of the single binary's pod"},
	},
	AlloyChart.Name: {
		{Path: "global.podSecurityContext", Why: "Kubernetes PodSecurityContext of Alloy's pods"},
		{Path: "alloy.securityContext", Why: "Kubernetes SecurityContext of the Alloy container"},
		{Path: "alloy.resources", Why: "Kubernetes ResourceRequirements of the Alloy container"},
	},
}

// withEverything sets every option that adds chart values: logs, a Slack receiver, Grafana's
// host (grafana.ini server) and its Ingress, and the placements.
func withEverything(a *MonitoringArgs) {
	withLogs(a)
	withPlacement(a)
	a.Alerting = AlertingSettings{WebhookURL: pulumi.ToSecret(pulumi.String(webhookURL)).(pulumi.StringOutput), Slack: true}
}

// chartValues are the values the program passes each chart, as the engine recorded them.
func (r *monRun) chartValues(t *testing.T) map[string]map[string]any {
	t.Helper()
	return map[string]map[string]any{
		ChartName:       r.m.One(t, tRelease, "monitoring-kube-prometheus-stack").Inputs["values"].(map[string]any),
		LokiChart.Name:  r.m.One(t, tChartV4, "monitoring-logs-loki").Inputs["values"].(map[string]any),
		AlloyChart.Name: r.m.One(t, tChartV4, "monitoring-logs-alloy").Inputs["values"].(map[string]any),
	}
}

var chartKeys = map[string]declared{ChartName: kubePrometheusStackKeys, LokiChart.Name: lokiKeys, AlloyChart.Name: alloyKeys}

// TestChartValuesExist checks every key the program passes kube-prometheus-stack (with its
// grafana and kube-state-metrics subcharts), Loki and Alloy against the keys those charts
// declare at the pinned releases. None of them has a values.schema.json that refuses an
// unknown key, so Helm would drop a misspelt one without a word. Every key listed must also be
// one the program sets, so that the lists say exactly what the program relies on.
func TestChartValuesExist(t *testing.T) {
	if ChartVersion != "88.5.3" || LokiChart.Version != "18.11.0" || AlloyChart.Version != "1.11.1" {
		t.Fatalf("the charts moved (%s, %s, %s): look every key up at the new tags and update the lists", ChartVersion, LokiChart.Version, AlloyChart.Version)
	}
	r := mustRun(t, withEverything)
	for chart, values := range r.chartValues(t) {
		unknown, unneeded := chartrender.UndeclaredValues(values, chartKeys[chart], wholeMaps[chart])
		if len(unknown) != 0 {
			t.Errorf("%s: values the chart does not declare: %v", chart, unknown)
		}
		for _, w := range unneeded {
			t.Errorf("%s: %s is in wholeMaps but the program sets nothing undeclared below it", chart, w.Path)
		}
		if unset := chartrender.UnknownValues(chartKeys[chart], values, nil); len(unset) != 0 {
			t.Errorf("%s: listed keys the program does not set: %v", chart, unset)
		}
	}
}

// TestChartValuesCatchTypos: a misspelt key fails the check, in each chart and subchart;
// kube-state-metrics' collectorsExclude first, which only the graph snapshot caught before.
func TestChartValuesCatchTypos(t *testing.T) {
	values := mustRun(t, withEverything).chartValues(t)
	for _, c := range []struct {
		chart string
		path  []string
		typo  string
	}{
		{ChartName, []string{"kube-state-metrics", "collectorsExclude"}, "collectorExclude"},
		{ChartName, []string{"grafana", "persistence", "storageClassName"}, "storageClass"},
		{ChartName, []string{"prometheus", "prometheusSpec", "retention"}, "retentionPeriod"},
		{LokiChart.Name, []string{"singleBinary", "persistence", "storageClass"}, "storageClassName"},
		{LokiChart.Name, []string{"loki", "commonConfig", "replication_factor"}, "replicationFactor"},
		{AlloyChart.Name, []string{"alloy", "mounts", "varlog"}, "varLog"},
		{ChartName, []string{"prometheusOperator", "admissionWebhooks", "patch", "tolerations"}, "toleration"},
		{ChartName, []string{"prometheus", "prometheusSpec", "nodeSelector"}, "nodeSelectors"},
		{ChartName, []string{"prometheus-node-exporter", "tolerations"}, "toleration"},
		{LokiChart.Name, []string{"singleBinary", "tolerations"}, "toleration"},
		{AlloyChart.Name, []string{"controller", "tolerations"}, "toleration"},
	} {
		typo, err := chartrender.WithKeyRenamed(values[c.chart], c.path, c.typo)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(append(slices.Clone(c.path[:len(c.path)-1]), c.typo), ".")
		if got, _ := chartrender.UndeclaredValues(typo, chartKeys[c.chart], wholeMaps[c.chart]); !slices.Equal(got, []string{want}) {
			t.Errorf("%s with %s: undeclared %v, want only it", c.chart, want, got)
		}
	}
}
