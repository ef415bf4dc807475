package monitoring

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/example/flask-eks/internal/kube"
)

// The chart, pinned to a published release: the git tag kube-prometheus-stack-88.5.3
// (https://github.com/prometheus-community/helm-charts/releases/tag/kube-prometheus-stack-88.5.3,
// commit ea930baeebeba39f56d6b44e351f23b2a072a600; prometheus-operator v0.93.1). Its subcharts at
// that tag: grafana 12.11.1 (https://grafana-community.github.io/helm-charts, tag grafana-12.11.1),
// kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1.
//
// Every key of the values below was checked in charts/kube-prometheus-stack/values.yaml at that
// tag and, for the keys kube-prometheus-stack passes through, in the subcharts' values.yaml and
// templates at their tags: grafana's rbac.namespaced, persistence.type sts, grafana.ini and
// ingress.*; kube-state-metrics' collectorsExclude (8.1.0 and later).
//
// No Go module holds these charts, so the tests cannot fetch them: TestChartValuesExist checks
// the keys against a list in chartvalues_test.go, each key with its line at the tags above.
//
// Bumping: read the chart's UPGRADE.md for every major in between (most majors upgrade the
// prometheus-operator CRDs), move ChartVersion, re-check the keys with `helm show values
// prometheus-community/kube-prometheus-stack --version <new>` and the subcharts', update the
// lines in chartvalues_test.go, and run the tests. Helm never upgrades the CRDs in a chart's crds/ directory; the chart's CRD upgrade job
// (crds.upgradeJob, a pre-upgrade hook running `kubectl apply --server-side`) does, on every
// install and upgrade, before the operator is replaced.
const (
	ChartName    = "kube-prometheus-stack"
	ChartRepo    = "https://prometheus-community.github.io/helm-charts"
	ChartVersion = "88.5.3"
	// ReleaseName is fixed so that the names the chart derives from it (the Grafana Service and
	// Ingress "<release>-grafana", the Prometheus Service) are stable.
	ReleaseName = "kube-prometheus-stack"
)

// The Grafana dashboard sidecar loads every ConfigMap carrying this label in Grafana's namespace.
const (
	DashboardLabel      = "grafana_dashboard"
	DashboardLabelValue = "1"
)

// PrometheusPort is Prometheus's web port, on its pods and its Service.
const PrometheusPort = 9090

// PrometheusURL is the in-cluster address of Prometheus: the chart's Service
// "<release>-prometheus" on PrometheusPort, in namespace ns.
func PrometheusURL(ns string) string {
	return fmt.Sprintf("http://%s-prometheus.%s.svc:%d", ReleaseName, ns, PrometheusPort)
}

// Resource requests for the stack's long-running pods. Requests only: a memory limit on
// Prometheus turns a load spike into an OOM-kill loop.
var (
	prometheusRequests   = resources{CPU: "200m", Memory: "512Mi"}
	grafanaRequests      = resources{CPU: "50m", Memory: "128Mi"}
	alertmanagerRequests = resources{CPU: "20m", Memory: "64Mi"}
)

// alertmanagerStorageSize is small: Alertmanager only keeps silences and the notification log.
const alertmanagerStorageSize = "2Gi"

// chartValues is the subset of kube-prometheus-stack's values this program sets, typed. Field
// names are the chart's keys; a key missing here keeps the chart's default.
type chartValues struct {
	// EKS runs the control plane: the controller manager, scheduler and etcd are not reachable
	// from the cluster, and kube-proxy on Auto Mode is part of the managed node, not a
	// scrapeable pod. Their scrapes and the default rules built on them would only produce
	// TargetDown noise.
	KubeControllerManager toggle `json:"kubeControllerManager"`
	KubeScheduler         toggle `json:"kubeScheduler"`
	KubeEtcd              toggle `json:"kubeEtcd"`
	KubeProxy             toggle `json:"kubeProxy"`
	DefaultRules          struct {
		Rules map[string]bool `json:"rules"`
	} `json:"defaultRules"`
	// NodeExporter.Enabled is the condition of the prometheus-node-exporter subchart;
	// PrometheusNodeExporter puts it into NodeExporterNamespace and holds its DaemonSet's
	// tolerations (prometheus-node-exporter values.yaml L471), which replace the subchart's
	// default.
	NodeExporter           toggle           `json:"nodeExporter"`
	PrometheusNodeExporter *nodeExporter    `json:"prometheus-node-exporter,omitempty"`
	KubeStateMetrics       kubeStateMetrics `json:"kube-state-metrics"`
	// PrometheusOperator places the operator and its admission webhook's certificate Jobs
	// (pre-/post-install hooks); nil without a placement.
	PrometheusOperator *prometheusOperator `json:"prometheusOperator,omitempty"`
	CRDs               struct {
		// UpgradeJob is the CRD upgrade Job (a pre-upgrade hook) and its placement.
		UpgradeJob struct {
			Enabled bool `json:"enabled"`
			kube.Placement
		} `json:"upgradeJob"`
	} `json:"crds"`
	Prometheus struct {
		PrometheusSpec prometheusSpec `json:"prometheusSpec"`
	} `json:"prometheus"`
	Alertmanager alertmanager `json:"alertmanager"`
	Grafana      grafana      `json:"grafana"`
}

// prometheusOperator is the operator's placement (prometheusOperator.nodeSelector and
// tolerations) and its admission webhook's patch Jobs' (admissionWebhooks.patch.*).
type prometheusOperator struct {
	kube.Placement
	AdmissionWebhooks struct {
		Patch kube.Placement `json:"patch"`
	} `json:"admissionWebhooks"`
}

// nodeExporter are the prometheus-node-exporter subchart's values: namespaceOverride places its
// DaemonSet, Service, ServiceAccount and ServiceMonitor (templates/_helpers.tpl,
// "prometheus-node-exporter.namespace" and ".monitor-namespace", at 4.56.1). Prometheus finds
// the ServiceMonitor there: the chart's serviceMonitorNamespaceSelector is {}, every namespace.
type nodeExporter struct {
	NamespaceOverride string `json:"namespaceOverride"`
	kube.Placement
}

type toggle struct {
	Enabled bool `json:"enabled"`
}

type resources struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

type requests struct {
	Requests resources `json:"requests"`
}

// kubeStateMetrics drops the Secrets collector: it would list every Secret of the cluster (and
// need RBAC to read them) for metrics nobody charts.
type kubeStateMetrics struct {
	CollectorsExclude []string `json:"collectorsExclude"`
	kube.Placement
}

// pvcSpec is a ReadWriteOnce claim; an empty StorageClassName is left out (the cluster's
// default class) rather than sent as "", which means "no dynamic provisioning".
type pvcSpec struct {
	AccessModes      []string `json:"accessModes"`
	StorageClassName string   `json:"storageClassName,omitempty"`
	Resources        struct {
		Requests struct {
			Storage string `json:"storage"`
		} `json:"requests"`
	} `json:"resources"`
}

func claim(storageClass, size string) pvcSpec {
	p := pvcSpec{AccessModes: []string{"ReadWriteOnce"}, StorageClassName: storageClass}
	p.Resources.Requests.Storage = size
	return p
}

type volumeClaimTemplate struct {
	VolumeClaimTemplate struct {
		Spec pvcSpec `json:"spec"`
	} `json:"volumeClaimTemplate"`
}

func storage(storageClass, size string) volumeClaimTemplate {
	var v volumeClaimTemplate
	v.VolumeClaimTemplate.Spec = claim(storageClass, size)
	return v
}

type prometheusSpec struct {
	// false: an empty selector selects every object in the cluster, not only those labelled for
	// this release, so the app's PodMonitor and rules are picked up.
	ServiceMonitorSelectorNilUsesHelmValues bool                `json:"serviceMonitorSelectorNilUsesHelmValues"`
	PodMonitorSelectorNilUsesHelmValues     bool                `json:"podMonitorSelectorNilUsesHelmValues"`
	RuleSelectorNilUsesHelmValues           bool                `json:"ruleSelectorNilUsesHelmValues"`
	ProbeSelectorNilUsesHelmValues          bool                `json:"probeSelectorNilUsesHelmValues"`
	ScrapeConfigSelectorNilUsesHelmValues   bool                `json:"scrapeConfigSelectorNilUsesHelmValues"`
	Retention                               string              `json:"retention"`
	Resources                               requests            `json:"resources"`
	StorageSpec                             volumeClaimTemplate `json:"storageSpec"`
	// The Prometheus object's nodeSelector and tolerations, which the operator gives its pods.
	kube.Placement
}

type alertmanager struct {
	Enabled bool `json:"enabled"`
	// Config is Alertmanager's configuration, merged by Helm over the chart's default (which
	// keeps the default inhibit_rules).
	Config           alertmanagerConfig `json:"config"`
	AlertmanagerSpec struct {
		Resources requests            `json:"resources"`
		Storage   volumeClaimTemplate `json:"storage"`
		// Secrets are mounted at /etc/alertmanager/secrets/<name>/: the receiver reads its URL
		// from there, so it never enters the Helm values or the rendered config Secret.
		Secrets []string `json:"secrets,omitempty"`
		// The Alertmanager object's nodeSelector and tolerations, for its pods.
		kube.Placement
	} `json:"alertmanagerSpec"`
}

type grafana struct {
	Enabled bool `json:"enabled"`
	// The component creates the admin Secret from a generated password; the chart renders no
	// Secret of its own (and no well-known default password) when existingSecret is set.
	Admin struct {
		ExistingSecret string `json:"existingSecret"`
		UserKey        string `json:"userKey"`
		PasswordKey    string `json:"passwordKey"`
	} `json:"admin"`
	// Namespaced RBAC: Roles in Grafana's namespace instead of a ClusterRole that lets the
	// sidecars read every ConfigMap and Secret of the cluster.
	RBAC struct {
		Namespaced bool `json:"namespaced"`
	} `json:"rbac"`
	// Type "sts": a StatefulSet with a volumeClaimTemplate. With the default Deployment and an
	// RWO PVC a rolling update deadlocks when the new pod lands on another node; a StatefulSet's
	// claim also outlives a release replacement.
	Persistence struct {
		Enabled          bool     `json:"enabled"`
		Type             string   `json:"type"`
		AccessModes      []string `json:"accessModes"`
		Size             string   `json:"size"`
		StorageClassName string   `json:"storageClassName,omitempty"`
	} `json:"persistence"`
	Resources requests `json:"resources"`
	Sidecar   struct {
		Dashboards  sidecar `json:"dashboards"`
		Datasources sidecar `json:"datasources"`
	} `json:"sidecar"`
	GrafanaIni            map[string]map[string]any `json:"grafana.ini"`
	Ingress               grafanaIngress            `json:"ingress"`
	AdditionalDataSources []dataSource              `json:"additionalDataSources,omitempty"`
	kube.Placement
}

// sidecar is a Grafana sidecar that loads labelled ConfigMaps, only from Grafana's namespace
// (kube-prometheus-stack's default is ALL, which needs a ClusterRole on every Secret).
type sidecar struct {
	Enabled         bool   `json:"enabled"`
	Label           string `json:"label,omitempty"`
	LabelValue      string `json:"labelValue,omitempty"`
	SearchNamespace string `json:"searchNamespace"`
}

type grafanaIngress struct {
	Enabled          bool              `json:"enabled"`
	IngressClassName string            `json:"ingressClassName,omitempty"`
	Annotations      map[string]string `json:"annotations,omitempty"`
	Hosts            []string          `json:"hosts"`
	Path             string            `json:"path,omitempty"`
	PathType         string            `json:"pathType,omitempty"`
}

// dataSource is an entry of kube-prometheus-stack's grafana.additionalDataSources.
type dataSource struct {
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	UID      string         `json:"uid"`
	URL      string         `json:"url"`
	Access   string         `json:"access"`
	JSONData map[string]any `json:"jsonData,omitempty"`
}

// alertmanagerConfig is the part of Alertmanager's configuration this program writes.
type alertmanagerConfig struct {
	Global struct {
		ResolveTimeout string `json:"resolve_timeout"`
	} `json:"global"`
	Route     route      `json:"route"`
	Receivers []receiver `json:"receivers"`
}

type route struct {
	Receiver       string   `json:"receiver"`
	GroupBy        []string `json:"group_by,omitempty"`
	GroupWait      string   `json:"group_wait,omitempty"`
	GroupInterval  string   `json:"group_interval,omitempty"`
	RepeatInterval string   `json:"repeat_interval,omitempty"`
	Matchers       []string `json:"matchers,omitempty"`
	Routes         []route  `json:"routes,omitempty"`
}

type receiver struct {
	Name          string          `json:"name"`
	SlackConfigs  []slackConfig   `json:"slack_configs,omitempty"`
	WebhookConfig []webhookConfig `json:"webhook_configs,omitempty"`
}

type slackConfig struct {
	APIURLFile   string `json:"api_url_file"`
	SendResolved bool   `json:"send_resolved"`
	Title        string `json:"title,omitempty"`
	Text         string `json:"text,omitempty"`
}

type webhookConfig struct {
	URLFile      string `json:"url_file"`
	SendResolved bool   `json:"send_resolved"`
}

// toMap turns typed values into the generic form a Helm release takes.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// grafanaFullname mirrors the Grafana chart's "grafana.fullname" helper for a release without
// fullnameOverride/nameOverride: the release name itself if it already contains "grafana", else
// "<release>-grafana", cut to 63 characters and stripped of one trailing '-'. The chart names
// Grafana's Ingress after it.
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

// buildValues returns the chart values for args. It never holds a secret: Grafana reads its
// admin password from a Secret, Alertmanager its receiver's URL from a mounted file.
func buildValues(args *MonitoringArgs) chartValues {
	var v chartValues
	v.DefaultRules.Rules = map[string]bool{
		"etcd":                   false,
		"kubeControllerManager":  false,
		"kubeSchedulerAlerting":  false,
		"kubeSchedulerRecording": false,
		"kubeProxy":              false,
		"nodeExporterAlerting":   args.NodeExporter,
		"nodeExporterRecording":  args.NodeExporter,
	}
	v.NodeExporter.Enabled = args.NodeExporter
	if args.NodeExporter {
		v.PrometheusNodeExporter = &nodeExporter{NamespaceOverride: NodeExporterNamespace}
	}
	v.KubeStateMetrics.CollectorsExclude = []string{"secrets"}
	v.CRDs.UpgradeJob.Enabled = true

	// Every pod of the release runs where args.Placement says, Jobs included: a hook Job that
	// finds no node holds the install. node-exporter, a DaemonSet, goes on every node.
	v.KubeStateMetrics.Placement = args.Placement
	v.CRDs.UpgradeJob.Placement = args.Placement
	if !args.Placement.IsZero() {
		v.PrometheusOperator = &prometheusOperator{Placement: args.Placement}
		v.PrometheusOperator.AdmissionWebhooks.Patch = args.Placement
	}
	if args.NodeExporter && !args.EveryNode.IsZero() {
		v.PrometheusNodeExporter.Tolerations = args.EveryNode.Tolerations
	}

	p := &v.Prometheus.PrometheusSpec
	p.Retention = args.Prometheus.Retention
	p.Resources.Requests = prometheusRequests
	p.StorageSpec = storage(args.StorageClassName, args.Prometheus.StorageSize)
	p.Placement = args.Placement

	v.Alertmanager.Enabled = true
	v.Alertmanager.Config = alertmanagerConfigFor(args.Alerting)
	v.Alertmanager.AlertmanagerSpec.Resources.Requests = alertmanagerRequests
	v.Alertmanager.AlertmanagerSpec.Storage = storage(args.StorageClassName, alertmanagerStorageSize)
	v.Alertmanager.AlertmanagerSpec.Placement = args.Placement
	if args.Alerting.WebhookURL != nil {
		v.Alertmanager.AlertmanagerSpec.Secrets = []string{AlertReceiverSecretName}
	}

	v.Grafana = grafanaValues(args)
	return v
}

// grafanaValues places Grafana: its admin Secret, a StatefulSet volume, sidecars and RBAC kept
// to its own namespace, and its Ingress on the ALB class it is given.
func grafanaValues(args *MonitoringArgs) grafana {
	g := grafana{Enabled: true}
	g.Admin.ExistingSecret, g.Admin.UserKey, g.Admin.PasswordKey = GrafanaAdminSecretName, GrafanaAdminUserKey, GrafanaAdminPasswordKey
	g.RBAC.Namespaced = true
	g.Persistence.Enabled, g.Persistence.Type = true, "sts"
	g.Persistence.AccessModes, g.Persistence.Size = []string{"ReadWriteOnce"}, args.Grafana.StorageSize
	g.Persistence.StorageClassName = args.StorageClassName
	g.Resources.Requests = grafanaRequests
	g.Placement = args.Placement
	g.Sidecar.Dashboards = sidecar{Enabled: true, Label: DashboardLabel, LabelValue: DashboardLabelValue, SearchNamespace: args.Namespace}
	g.Sidecar.Datasources = sidecar{Enabled: true, SearchNamespace: args.Namespace}
	g.GrafanaIni = map[string]map[string]any{
		// Nothing phones home: the network policies allow Grafana no egress to the internet.
		"analytics": {"check_for_updates": false, "check_for_plugin_updates": false, "reporting_enabled": false},
	}
	if args.Grafana.Host != "" {
		// Absolute links (redirects, alert notifications) name the host users reach.
		g.GrafanaIni["server"] = map[string]any{"domain": args.Grafana.Host, "root_url": kube.HostURL(args.Grafana.Host, args.Grafana.HTTPS)}
	}
	g.Ingress = grafanaIngressValues(args.Grafana)
	if args.Logs.Enabled {
		// Loki, served by the Loki chart (NewMonitoring makes the release wait for it).
		g.AdditionalDataSources = append(g.AdditionalDataSources, dataSource{
			Name: "Loki", Type: lokiDataSourceType, UID: LokiDataSourceUID, URL: LokiURL(args.Namespace), Access: "proxy",
			JSONData: map[string]any{"maxLines": 1000},
		})
	}
	return g
}

// grafanaIngressValues is Grafana's Ingress: on its own ALB class (internal, or public and
// limited to allowed CIDRs), HTTPS only whenever it has a host and certificate.
func grafanaIngressValues(s GrafanaSettings) grafanaIngress {
	if s.Exposure == GrafanaNone {
		return grafanaIngress{Enabled: false, Hosts: []string{}}
	}
	ann := map[string]string{
		"alb.ingress.kubernetes.io/target-type": "ip",
		// Grafana's unauthenticated health endpoint; "/" answers 302 to /login.
		"alb.ingress.kubernetes.io/healthcheck-path": "/api/health",
		"alb.ingress.kubernetes.io/listen-ports":     `[{"HTTP":80}]`,
	}
	if s.HTTPS {
		ann["alb.ingress.kubernetes.io/listen-ports"] = `[{"HTTP":80},{"HTTPS":443}]`
		ann["alb.ingress.kubernetes.io/ssl-redirect"] = "443"
	}
	hosts := []string{}
	if s.Host != "" {
		hosts = append(hosts, s.Host)
	}
	return grafanaIngress{
		Enabled:          true,
		IngressClassName: s.IngressClassName,
		Annotations:      ann,
		Hosts:            hosts,
		Path:             "/",
		PathType:         "Prefix",
	}
}

// alertmanagerConfigFor routes every alert to the configured webhook (Slack or generic), reading
// its URL from the mounted Secret, or to the "null" receiver when there is none. The Watchdog
// alert, which always fires to prove the pipeline works, goes to "null" either way.
func alertmanagerConfigFor(a AlertingSettings) alertmanagerConfig {
	var c alertmanagerConfig
	c.Global.ResolveTimeout = "5m"
	c.Receivers = []receiver{{Name: "null"}}
	c.Route = route{
		Receiver:       "null",
		GroupBy:        []string{"namespace", "alertname"},
		GroupWait:      "30s",
		GroupInterval:  "5m",
		RepeatInterval: "12h",
		Routes:         []route{{Receiver: "null", Matchers: []string{`alertname = "Watchdog"`}}},
	}
	if a.WebhookURL == nil {
		return c
	}
	file := "/etc/alertmanager/secrets/" + AlertReceiverSecretName + "/" + alertReceiverURLKey
	r := receiver{Name: "notify"}
	if a.Slack {
		r.SlackConfigs = []slackConfig{{
			APIURLFile: file, SendResolved: true,
			Title: `[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}`,
			Text:  `{{ range .Alerts }}{{ .Annotations.summary }}{{ "\n" }}{{ end }}`,
		}}
	} else {
		r.WebhookConfig = []webhookConfig{{URLFile: file, SendResolved: true}}
	}
	c.Receivers = append(c.Receivers, r)
	c.Route.Receiver = "notify"
	return c
}
