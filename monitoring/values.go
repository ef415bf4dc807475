package monitoring

import (
	"errors"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The chart, pinned.
//
// Version checked against prometheus-community/helm-charts
// charts/kube-prometheus-stack/Chart.yaml at commit 4879317737d4 (version
// 81.4.5, appVersion v0.88.0; subcharts grafana 10.5.12,
// prometheus-node-exporter 4.51.0, kube-state-metrics 7.1.0).
//
// Every value key below was checked in charts/kube-prometheus-stack/values.yaml
// of the same repository (commit 6e3607554b0e) and, for the grafana.* keys that
// the umbrella chart passes through, in grafana/helm-charts
// charts/grafana/values.yaml (admin.existingSecret/userKey/passwordKey,
// persistence.*, ingress.*, sidecar.dashboards.*) and
// charts/grafana/templates/statefulset.yaml (persistence.type "sts"). The
// grafana keys are the same in an older grafana chart and in 11.1.6
// (grafana-community/helm-charts), on both sides of the pinned 10.5.12; the
// umbrella values.yaml held here is older than 81.4.5 (about 75-77). Re-check
// them with `helm show values prometheus-community/kube-prometheus-stack
// --version <new>` when bumping ChartVersion.
const (
	ChartName    = "kube-prometheus-stack"
	ChartRepo    = "https://prometheus-community.github.io/helm-charts"
	ChartVersion = "81.4.5"
	// ReleaseName is fixed so that the names the chart derives from it
	// (e.g. the Grafana Service and Ingress "<release>-grafana") are stable.
	ReleaseName = "kube-prometheus-stack"
)

// The Grafana dashboard sidecar loads every ConfigMap carrying this label, in
// every namespace (kube-prometheus-stack's defaults: label grafana_dashboard,
// labelValue "1", searchNamespace ALL; set explicitly below).
const (
	DashboardLabel      = "grafana_dashboard"
	DashboardLabelValue = "1"
)

// GrafanaSubPath is where Grafana is served when it shares the app's ALB
// (AlbGroupName set): the app's Ingress owns "/" on that load balancer.
const GrafanaSubPath = "/grafana"

// albGroupOrder puts Grafana's rule ahead of the app's "/" rule in a shared
// IngressGroup. The AWS Load Balancer Controller evaluates Ingresses of a group
// by alb.ingress.kubernetes.io/group.order (default 0, smaller first), then by
// namespace/name; without it "flask-app/..." would sort before "monitoring/..."
// and its "/" prefix would swallow /grafana.
const albGroupOrder = "-100"

// Resource requests for the stack's long-running pods. Requests only: a memory
// limit on Prometheus turns a load spike into an OOM-kill loop.
var (
	prometheusRequests   = map[string]interface{}{"cpu": "200m", "memory": "512Mi"}
	grafanaRequests      = map[string]interface{}{"cpu": "50m", "memory": "128Mi"}
	alertmanagerRequests = map[string]interface{}{"cpu": "20m", "memory": "64Mi"}
)

// alertmanagerStorageSize is small: Alertmanager only keeps silences and the
// notification log.
const alertmanagerStorageSize = "2Gi"

// chartValues builds the release's values. It never contains a secret: Grafana
// reads its admin password from the Secret named by adminSecretName.
func chartValues(cfg *resolved, adminSecretName pulumi.StringInput) pulumi.Map {
	selectAll := pulumi.Map{
		// false: an empty selector selects every object in the cluster, not only
		// those labelled for this release, so the app's ServiceMonitor and rules
		// are picked up.
		"serviceMonitorSelectorNilUsesHelmValues": pulumi.Bool(false),
		"podMonitorSelectorNilUsesHelmValues":     pulumi.Bool(false),
		"ruleSelectorNilUsesHelmValues":           pulumi.Bool(false),
		"probeSelectorNilUsesHelmValues":          pulumi.Bool(false),
		"scrapeConfigSelectorNilUsesHelmValues":   pulumi.Bool(false),
		"retention":                               pulumi.String(cfg.retention),
		"resources":                               pulumi.Map{"requests": toMap(prometheusRequests)},
		"storageSpec": pulumi.Map{
			"volumeClaimTemplate": pulumi.Map{
				"spec": pvcSpec(cfg.storageClass, cfg.promStorage),
			},
		},
	}

	return pulumi.Map{
		// EKS runs the control plane: the controller manager, scheduler and etcd
		// are not reachable from the cluster, and kube-proxy on Auto Mode is part
		// of the managed node, not a scrapeable pod. Their scrapes and the default
		// rules built on them would only produce TargetDown noise.
		"kubeControllerManager": pulumi.Map{"enabled": pulumi.Bool(false)},
		"kubeScheduler":         pulumi.Map{"enabled": pulumi.Bool(false)},
		"kubeEtcd":              pulumi.Map{"enabled": pulumi.Bool(false)},
		"kubeProxy":             pulumi.Map{"enabled": pulumi.Bool(false)},
		"defaultRules": pulumi.Map{
			"rules": pulumi.Map{
				"etcd":                   pulumi.Bool(false),
				"kubeControllerManager":  pulumi.Bool(false),
				"kubeSchedulerAlerting":  pulumi.Bool(false),
				"kubeSchedulerRecording": pulumi.Bool(false),
				"kubeProxy":              pulumi.Bool(false),
				"nodeExporterAlerting":   pulumi.Bool(cfg.nodeExporter),
				"nodeExporterRecording":  pulumi.Bool(cfg.nodeExporter),
			},
		},
		// nodeExporter.enabled is the condition of the prometheus-node-exporter
		// subchart dependency in Chart.yaml.
		"nodeExporter": pulumi.Map{"enabled": pulumi.Bool(cfg.nodeExporter)},
		"prometheus": pulumi.Map{
			"prometheusSpec": selectAll,
		},
		"alertmanager": pulumi.Map{
			"enabled": pulumi.Bool(true),
			"config":  alertmanagerConfig(),
			"alertmanagerSpec": pulumi.Map{
				"resources": pulumi.Map{"requests": toMap(alertmanagerRequests)},
				"storage": pulumi.Map{
					"volumeClaimTemplate": pulumi.Map{
						"spec": pvcSpec(cfg.storageClass, alertmanagerStorageSize),
					},
				},
			},
		},
		"grafana": grafanaValues(cfg, adminSecretName),
	}
}

// alertmanagerConfig is a minimal valid configuration: everything goes to the
// "null" receiver until a real one (Slack, PagerDuty, ...) is configured.
// Helm merges it over the chart default, which keeps the default inhibit_rules.
func alertmanagerConfig() pulumi.Map {
	return pulumi.Map{
		"global": pulumi.Map{"resolve_timeout": pulumi.String("5m")},
		"route": pulumi.Map{
			"receiver":        pulumi.String("null"),
			"group_by":        pulumi.StringArray{pulumi.String("namespace"), pulumi.String("alertname")},
			"group_wait":      pulumi.String("30s"),
			"group_interval":  pulumi.String("5m"),
			"repeat_interval": pulumi.String("12h"),
			"routes": pulumi.Array{
				pulumi.Map{
					"receiver": pulumi.String("null"),
					"matchers": pulumi.StringArray{pulumi.String(`alertname = "Watchdog"`)},
				},
			},
		},
		"receivers": pulumi.Array{pulumi.Map{"name": pulumi.String("null")}},
	}
}

func grafanaValues(cfg *resolved, adminSecretName pulumi.StringInput) pulumi.Map {
	g := pulumi.Map{
		"enabled": pulumi.Bool(true),
		// The Secret is created by the component from a random password; the
		// chart's own admin Secret (and its well-known default password) is not
		// rendered when existingSecret is set.
		"admin": pulumi.Map{
			"existingSecret": adminSecretName,
			"userKey":        pulumi.String(GrafanaAdminUserKey),
			"passwordKey":    pulumi.String(GrafanaAdminPasswordKey),
		},
		// kube-prometheus-stack's values carry the well-known "prom-operator" here. existingSecret
		// makes Grafana ignore it; clearing it means that, should the Secret wiring ever break,
		// the grafana chart falls back to a random password instead of the well-known one.
		"adminPassword": pulumi.String(""),
		// type "sts": a StatefulSet with a volumeClaimTemplate. With the default
		// Deployment + RWO PVC a rolling update deadlocks when the new pod lands
		// on another node.
		"persistence": withStorageClass(cfg.storageClass, map[string]interface{}{
			"enabled":     true,
			"type":        "sts",
			"accessModes": []interface{}{"ReadWriteOnce"},
			"size":        cfg.grafanaStorage,
		}),
		"resources": pulumi.Map{"requests": toMap(grafanaRequests)},
		"sidecar": pulumi.Map{
			"dashboards": pulumi.Map{
				"enabled":         pulumi.Bool(true),
				"label":           pulumi.String(DashboardLabel),
				"labelValue":      pulumi.String(DashboardLabelValue),
				"searchNamespace": pulumi.String("ALL"),
			},
		},
		"ingress": grafanaIngress(cfg),
	}
	if cfg.ingressEnabled && cfg.albGroupName != "" {
		// Serve Grafana under /grafana (see GrafanaSubPath).
		g["grafana.ini"] = pulumi.Map{
			"server": pulumi.Map{
				"root_url":            pulumi.String("%(protocol)s://%(domain)s:%(http_port)s" + GrafanaSubPath + "/"),
				"serve_from_sub_path": pulumi.Bool(true),
			},
		}
	}
	return g
}

func grafanaIngress(cfg *resolved) pulumi.Map {
	if !cfg.ingressEnabled {
		return pulumi.Map{"enabled": pulumi.Bool(false)}
	}
	path := "/"
	if cfg.albGroupName != "" {
		path = GrafanaSubPath
	}
	ann := pulumi.Map{
		"alb.ingress.kubernetes.io/scheme":      pulumi.String("internet-facing"),
		"alb.ingress.kubernetes.io/target-type": pulumi.String("ip"),
		// Grafana's unauthenticated health endpoint; "/" answers 302 to /login.
		"alb.ingress.kubernetes.io/healthcheck-path": pulumi.String(strings.TrimSuffix(path, "/") + "/api/health"),
	}
	if cfg.albGroupName != "" {
		ann["alb.ingress.kubernetes.io/group.name"] = pulumi.String(cfg.albGroupName)
		ann["alb.ingress.kubernetes.io/group.order"] = pulumi.String(albGroupOrder)
	}
	if cfg.certificateArn != "" {
		ann["alb.ingress.kubernetes.io/certificate-arn"] = pulumi.String(cfg.certificateArn)
		ann["alb.ingress.kubernetes.io/listen-ports"] = pulumi.String(`[{"HTTP":80},{"HTTPS":443}]`)
		ann["alb.ingress.kubernetes.io/ssl-redirect"] = pulumi.String("443")
	}
	return pulumi.Map{
		"enabled":          pulumi.Bool(true),
		"ingressClassName": nonEmpty(cfg.ingressClass, "IngressClassName"),
		"annotations":      ann,
		// No host: the ALB's generated DNS name is the address.
		"hosts":    pulumi.Array{},
		"path":     pulumi.String(path),
		"pathType": pulumi.String("Prefix"),
	}
}

// pvcSpec is a ReadWriteOnce PVC spec of the given size on storageClass.
func pvcSpec(storageClass pulumi.StringInput, size string) pulumi.Input {
	return withStorageClass(storageClass, map[string]interface{}{
		"accessModes": []interface{}{"ReadWriteOnce"},
		"resources":   map[string]interface{}{"requests": map[string]interface{}{"storage": size}},
	})
}

// withStorageClass returns base plus storageClassName when storageClass is
// non-empty. An empty name is left out rather than sent as "": in a PVC,
// storageClassName "" means "no class, no dynamic provisioning", while an
// absent field means "the cluster default".
func withStorageClass(storageClass pulumi.StringInput, base map[string]interface{}) pulumi.Input {
	if storageClass == nil {
		return toMap(base)
	}
	return storageClass.ToStringOutput().ApplyT(func(name string) map[string]interface{} {
		out := make(map[string]interface{}, len(base)+1)
		for k, v := range base {
			out[k] = v
		}
		if name != "" {
			out["storageClassName"] = name
		}
		return out
	})
}

// nonEmpty passes s through, failing the deployment with a clear message if it
// resolves to "" (a known "" is caught earlier, in resolveArgs).
func nonEmpty(s pulumi.StringInput, field string) pulumi.StringOutput {
	return s.ToStringOutput().ApplyT(func(v string) (string, error) {
		if v == "" {
			return "", errors.New("monitoring: " + field + " resolved to an empty string; pass nil to disable Grafana's Ingress")
		}
		return v, nil
	}).(pulumi.StringOutput)
}

// toMap converts a plain Go map into a pulumi.Map of plain values.
func toMap(m map[string]interface{}) pulumi.Map {
	out := pulumi.Map{}
	for k, v := range m {
		out[k] = pulumi.Any(v)
	}
	return out
}

// grafanaFullname mirrors the Grafana chart's "grafana.fullname" helper for a
// release without fullnameOverride/nameOverride: the release name itself if it
// already contains "grafana", else "<release>-grafana", cut to 63 characters
// and stripped of one trailing '-' (trunc 63 | trimSuffix "-"). The chart names Grafana's Ingress after it.
func grafanaFullname(release string) string {
	name := release + "-grafana"
	if strings.Contains(release, "grafana") {
		name = release
	}
	if len(name) > 63 {
		name = name[:63]
	}
	return strings.TrimSuffix(name, "-")
}
