// Package monitoring installs the cluster's observability stack: the kube-prometheus-stack Helm
// chart (Prometheus Operator, Prometheus, Alertmanager, Grafana, kube-state-metrics and,
// optionally, node-exporter), plus what watches the Flask app: its PodMonitor, Grafana dashboard
// and alerting rules.
//
// Everything is created through an explicit Kubernetes provider passed in by the caller; nothing
// uses the ambient kubeconfig.
package monitoring

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/netpol"
)

// Namespace is where the program runs the monitoring stack (MonitoringArgs.Namespace), a
// namespace the app may not take.
const Namespace = "monitoring"

// NodeExporterNamespace holds node-exporter alone: its DaemonSet needs the host's network, PID
// namespace and paths, which only Pod Security "privileged" admits, and no other pod should
// share that level.
const NodeExporterNamespace = "node-exporter"

// Names of the objects this component creates. They are fixed (not auto-named) so that the chart
// values and the README can refer to them.
const (
	// GrafanaAdminSecretName holds Grafana's admin credentials (grafana.admin.existingSecret),
	// under the Grafana chart's default keys.
	GrafanaAdminSecretName  = "grafana-admin-credentials"
	GrafanaAdminUser        = "admin"
	GrafanaAdminUserKey     = "admin-user"
	GrafanaAdminPasswordKey = "admin-password"
	// AlertReceiverSecretName holds the alert webhook's URL, mounted into Alertmanager.
	AlertReceiverSecretName = "alert-receiver"
	alertReceiverURLKey     = "url"
)

// appNameLabel is the recommended Kubernetes label Alloy copies into the Loki label "app".
const appNameLabel = "app.kubernetes.io/name"

// Grafana exposures.
const (
	GrafanaInternal = "internal"
	GrafanaPublic   = "public"
	GrafanaNone     = "none"
)

// MonitoringArgs configures NewMonitoring.
type MonitoringArgs struct {
	// Provider is the Kubernetes provider of the target cluster.
	Provider *kubernetes.Provider
	// Namespace is created by the component and holds the release, the Grafana admin Secret,
	// the dashboard ConfigMap and the PrometheusRule.
	Namespace string
	// StorageClassName is the class of the Prometheus, Alertmanager and Grafana volumes; ""
	// uses the cluster's default.
	StorageClassName string
	// ReleaseDependsOn are what the release must wait for although no data flows from them:
	// the StorageClass and IngressClasses (and be deleted after).
	ReleaseDependsOn []pulumi.Resource
	// NamespaceDependsOn are what must outlive the namespace on destroy although no data flows
	// from them: what Grafana's load balancer needs until Auto Mode has deleted it, and the
	// switch that enforces the namespace's NetworkPolicies (see app.AppArgs.NamespaceDependsOn).
	NamespaceDependsOn []pulumi.Resource
	// Prometheus, Grafana and Alerting shape the three parts of the stack.
	Prometheus PrometheusSettings
	Grafana    GrafanaSettings
	Alerting   AlertingSettings
	// NodeExporter deploys the prometheus-node-exporter DaemonSet and its rules. Auto Mode nodes
	// are conformant and admit DaemonSets with hostPath mounts of /proc and /sys, under SELinux
	// and a read-only root filesystem; a toggle, because that has not run on every node type.
	NodeExporter bool
	// NodeCIDRs hold the nodes (the VPC): the stack scrapes kubelets and node-exporter there.
	NodeCIDRs []string
	// APIServer is where the stack's pods reach the API server, and where it calls the
	// operator's admission webhook from.
	APIServer netpol.APIServer
	// App is what the stack watches.
	App AppTarget
	// Logs turns on Loki, Alloy and the log panels and alert (logs.go).
	Logs LogsSettings
	// PrometheusClients are namespaces whose pods may query Prometheus (KEDA).
	PrometheusClients []string
	// Placement is where the stack's pods run: the operator and its admission and CRD upgrade
	// Jobs, Prometheus, Alertmanager, Grafana, kube-state-metrics and Loki (the platform
	// NodePool on EKS). EveryNode is for its DaemonSets, node-exporter and Alloy, which must
	// run on every node of every pool (its tolerations only). Zero keeps the charts' defaults.
	Placement kube.Placement
	EveryNode kube.Placement
}

// PrometheusSettings size Prometheus.
type PrometheusSettings struct {
	// Retention is how long samples are kept ("3d" in dev, "15d" in prod).
	Retention string
	// StorageSize is the volume ("20Gi" dev, "100Gi" prod).
	StorageSize string
}

// GrafanaSettings place Grafana.
type GrafanaSettings struct {
	// StorageSize is Grafana's volume.
	StorageSize string
	// Exposure is GrafanaInternal, GrafanaPublic or GrafanaNone; IngressClassName is the ALB
	// class for the first two (the internal, or a public one limited to allowed CIDRs).
	Exposure         string
	IngressClassName string
	// Host is Grafana's host name ("" for the ALB's generated name); HTTPS serves it on 443
	// with HTTP redirected (the certificate is the IngressClass's).
	Host  string
	HTTPS bool
	// ALBSourceCIDRs are the networks Grafana's ALB sends from; only they reach Grafana's port.
	ALBSourceCIDRs []string
}

// AlertingSettings say where alerts go.
type AlertingSettings struct {
	// WebhookURL is a Slack incoming webhook (Slack says so: https://hooks.slack.com/...) or any
	// webhook receiver; nil sends alerts nowhere. It is a secret: it reaches Alertmanager
	// through a mounted Secret, never the Helm values.
	WebhookURL pulumi.StringInput
	// Slack says whether WebhookURL is a Slack incoming webhook.
	Slack bool
}

// AppTarget is the app the stack watches: its namespace (the object, so that the PodMonitor is
// deleted before it), the name of its release and the labels of its pods.
type AppTarget struct {
	Namespace     *corev1.Namespace
	NamespaceName string
	Name          string
	PodLabels     map[string]string
}

// Monitoring is the component returned by NewMonitoring.
type Monitoring struct {
	pulumi.ResourceState

	// Release is the kube-prometheus-stack Helm release; it installs the monitoring.coreos.com
	// CRDs, so anything that creates a PodMonitor or PrometheusRule depends on it.
	Release *charts.Release
	// Namespace is the monitoring namespace.
	Namespace *corev1.Namespace
	// Logs is the logs half (Loki, Alloy, the log bucket); nil when Logs is off.
	Logs *Logs

	// GrafanaURL is https://<host>/ when a host is configured (known at preview), else the
	// address of Grafana's ALB read back from its Ingress ("" until it has one, or without an
	// Ingress).
	GrafanaURL           pulumi.StringOutput `pulumi:"grafanaUrl"`
	GrafanaAdminUser     pulumi.StringOutput `pulumi:"grafanaAdminUser"`
	GrafanaAdminPassword pulumi.StringOutput `pulumi:"grafanaAdminPassword"` // secret
	// LogsBucket is Loki's S3 bucket ("" without logs).
	LogsBucket pulumi.StringOutput `pulumi:"logsBucket"`
}

// NewMonitoring creates the monitoring namespace with its network policies, Grafana's admin
// credentials, the alert receiver's Secret, with Logs on the logs half (Loki, Alloy and Loki's
// bucket, before the release, which gets Loki as a data source), the kube-prometheus-stack
// release, the app's PodMonitor, dashboard and alerting rules, and reads Grafana's URL.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource("flask-eks:monitoring:Monitoring", name, m, opts...); err != nil {
		return nil, fmt.Errorf("monitoring %q: registering component: %w", name, err)
	}
	k8s := func(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
		return append([]pulumi.ResourceOption{pulumi.Parent(m), pulumi.Provider(args.Provider)}, extra...)
	}

	// The stack runs under Pod Security "baseline": it would run under "restricted" but the
	// chart does not promise it. node-exporter, which needs host paths, the host network and
	// the host PID namespace (hostNetwork, hostPID at prometheus-node-exporter 4.56.1's
	// values.yaml L382, L390), gets a "privileged" namespace of its own, so that a pod of
	// Prometheus, Grafana or Alertmanager (each reachable from outside) could not be
	// admitted with the host's namespaces.
	ns, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(args.Namespace),
			Labels: kube.PodSecurityLabels("baseline"),
		},
	}, k8s(pulumi.DependsOn(args.NamespaceDependsOn))...)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: creating namespace %q: %w", name, args.Namespace, err)
	}
	m.Namespace = ns
	if err := newNetworkPolicies(ctx, name, ns, args, k8s()); err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}

	adminSecret, adminPassword, err := newGrafanaAdmin(ctx, name, m, ns, k8s)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	deps := append([]pulumi.Resource{adminSecret}, args.ReleaseDependsOn...)
	if args.NodeExporter {
		// The release installs node-exporter into it (prometheus-node-exporter.namespaceOverride).
		// On the host network, no NetworkPolicy applies to node-exporter's pods; the namespace
		// gets the default deny all the same, for any other pod.
		nodeNS, err := kube.Namespace(ctx, name+"-node-exporter-ns", NodeExporterNamespace, "privileged",
			k8s(pulumi.DependsOn(args.NamespaceDependsOn))...)
		if err != nil {
			return nil, fmt.Errorf("monitoring %q: %w", name, err)
		}
		deps = append(deps, nodeNS)
	}
	if args.Alerting.WebhookURL != nil {
		receiver, err := newAlertReceiver(ctx, name, ns, args.Alerting.WebhookURL, k8s)
		if err != nil {
			return nil, fmt.Errorf("monitoring %q: %w", name, err)
		}
		deps = append(deps, receiver)
	}
	m.LogsBucket = pulumi.String("").ToStringOutput()
	if args.Logs.Enabled {
		m.Logs, err = NewLogs(ctx, name+"-logs", &LogsArgs{
			Settings: args.Logs, Provider: args.Provider, Namespace: ns, NamespaceName: args.Namespace,
			StorageClassName: args.StorageClassName, DependsOn: args.ReleaseDependsOn, Rules: appAssetParams(args),
			Placement: args.Placement, EveryNode: args.EveryNode,
		}, pulumi.Parent(m))
		if err != nil {
			return nil, fmt.Errorf("monitoring %q: %w", name, err)
		}
		m.LogsBucket = m.Logs.BucketName
		// No wait for Loki: Grafana's Loki data source (grafanaValues) is only configuration,
		// which Grafana uses once Loki answers, so the two installs run side by side and the
		// slowest one (this release's) does not wait for Loki's.
	}

	values, err := toMap(buildValues(args))
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: encoding chart values: %w", name, err)
	}
	// helm/v3 Release rather than helm/v4 Chart: kube-prometheus-stack creates its
	// admission-webhook TLS certificate, and patches it into the webhook configurations, with
	// Jobs that are Helm hooks (pre-/post-install and -upgrade), and upgrades its CRDs with a
	// pre-upgrade hook Job (crds.upgradeJob). Chart v4 renders the templates like `helm template`
	// and does not run hooks, so the webhook could be left without a valid certificate and the
	// CRDs never upgraded. A Release runs the real Helm install, hooks included; Atomic rolls
	// the whole install back if any part of it fails.
	release, err := charts.NewRelease(ctx, name+"-kube-prometheus-stack", &charts.ReleaseArgs{
		Name:          pulumi.String(ReleaseName),
		Chart:         pulumi.String(ChartName),
		Version:       pulumi.String(ChartVersion),
		Repo:          pulumi.String(ChartRepo),
		Namespace:     ns.Metadata.Name(),
		Atomic:        pulumi.Bool(true),
		CleanupOnFail: pulumi.Bool(true),
		// Covers EBS provisioning and Auto Mode launching nodes for the stack.
		Timeout:    pulumi.Int(900),
		MaxHistory: pulumi.Int(5),
		Values:     pulumi.ToMap(values),
	}, k8s(pulumi.DependsOn(deps))...)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: creating kube-prometheus-stack release: %w", name, err)
	}
	m.Release = release

	if err := newAppObjects(ctx, name, ns, args, release, k8s); err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}

	m.GrafanaAdminUser = pulumi.String(GrafanaAdminUser).ToStringOutput()
	m.GrafanaAdminPassword = adminPassword
	m.GrafanaURL, err = grafanaURL(ctx, name, args.Grafana, release, k8s)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{
		"grafanaUrl":           m.GrafanaURL,
		"grafanaAdminUser":     m.GrafanaAdminUser,
		"grafanaAdminPassword": m.GrafanaAdminPassword,
		"logsBucket":           m.LogsBucket,
	}); err != nil {
		return nil, fmt.Errorf("monitoring %q: registering outputs: %w", name, err)
	}
	return m, nil
}

// validate checks the programmer's side of the arguments; config.go has checked what users typed.
func (a *MonitoringArgs) validate() error {
	switch {
	case a == nil || a.Provider == nil:
		return fmt.Errorf("an explicit Kubernetes provider is required")
	case a.Namespace == "" || a.App.NamespaceName == "" || a.App.Name == "" || len(a.App.PodLabels) == 0:
		return fmt.Errorf("the namespace and the app's namespace, name and pod labels are required")
	case a.APIServer.Validate() != nil:
		return a.APIServer.Validate()
	case a.Prometheus.Retention == "" || a.Prometheus.StorageSize == "" || a.Grafana.StorageSize == "":
		return fmt.Errorf("retention and volume sizes are required")
	case a.Grafana.Exposure != GrafanaNone && a.Grafana.IngressClassName == "":
		return fmt.Errorf("grafana exposure %q needs an IngressClassName", a.Grafana.Exposure)
	case a.Grafana.Exposure != GrafanaNone && a.Grafana.Exposure != GrafanaInternal && a.Grafana.Exposure != GrafanaPublic:
		return fmt.Errorf("grafana exposure %q: accepted %s, %s or %s", a.Grafana.Exposure, GrafanaInternal, GrafanaPublic, GrafanaNone)
	case a.Grafana.HTTPS && a.Grafana.Host == "":
		return fmt.Errorf("HTTPS for Grafana needs a host name")
	case a.Grafana.Exposure == GrafanaPublic && !a.Grafana.HTTPS:
		return fmt.Errorf("a public Grafana must be HTTPS only")
	}
	return a.Logs.validate()
}

// newGrafanaAdmin creates Grafana's admin password and the Secret the chart reads it from. It
// returns the Secret and the password as a secret output.
func newGrafanaAdmin(ctx *pulumi.Context, name string, m *Monitoring, ns *corev1.Namespace,
	k8s func(...pulumi.ResourceOption) []pulumi.ResourceOption,
) (*corev1.Secret, pulumi.StringOutput, error) {
	// The random provider is not Kubernetes; it only gets the parent.
	password, err := random.NewRandomPassword(ctx, name+"-grafana-admin", &random.RandomPasswordArgs{
		Length:  pulumi.Int(32),
		Special: pulumi.Bool(false), // alphanumeric: safe to paste into the login form and shells
	}, pulumi.Parent(m))
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating Grafana admin password: %w", err)
	}
	// RandomPassword.Result is a secret in a real engine, but under mocks (or if the provider
	// schema ever changes) it may not be: mark it explicitly.
	secretPassword := pulumi.ToSecret(password.Result).(pulumi.StringOutput)
	adminSecret, err := corev1.NewSecret(ctx, name+"-grafana-admin", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(GrafanaAdminSecretName),
			Namespace: ns.Metadata.Name(),
			Labels:    commonLabels(),
		},
		Type: pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			GrafanaAdminUserKey:     pulumi.String(GrafanaAdminUser),
			GrafanaAdminPasswordKey: secretPassword,
		},
	}, k8s()...)
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating Grafana admin Secret: %w", err)
	}
	return adminSecret, secretPassword, nil
}

// newAlertReceiver stores the alert webhook's URL in the Secret that Alertmanager mounts.
func newAlertReceiver(ctx *pulumi.Context, name string, ns *corev1.Namespace, url pulumi.StringInput,
	k8s func(...pulumi.ResourceOption) []pulumi.ResourceOption,
) (*corev1.Secret, error) {
	s, err := corev1.NewSecret(ctx, name+"-alert-receiver", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(AlertReceiverSecretName),
			Namespace: ns.Metadata.Name(),
			Labels:    commonLabels(),
		},
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{alertReceiverURLKey: pulumi.ToSecret(url).(pulumi.StringOutput)},
	}, k8s()...)
	if err != nil {
		return nil, fmt.Errorf("creating the alert receiver Secret: %w", err)
	}
	return s, nil
}

// grafanaURL is Grafana's address: from its host when one is configured (known at preview),
// else from the ALB's name read back from the Ingress the chart creates.
func grafanaURL(ctx *pulumi.Context, name string, g GrafanaSettings, release *charts.Release,
	k8s func(...pulumi.ResourceOption) []pulumi.ResourceOption,
) (pulumi.StringOutput, error) {
	switch {
	case g.Exposure == GrafanaNone:
		return pulumi.String("").ToStringOutput(), nil
	case g.Host != "":
		return pulumi.String(kube.HostURL(g.Host, g.HTTPS)).ToStringOutput(), nil
	}
	hostname, err := kube.ReleaseIngressHostname(ctx, name+"-grafana-ingress", release, grafanaFullname, k8s()...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return kube.LoadBalancerURL(hostname), nil
}

// commonLabels marks every object this component creates.
func commonLabels() pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
		"app.kubernetes.io/part-of":    pulumi.String("monitoring"),
	}
}
