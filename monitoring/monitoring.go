// Package monitoring installs the cluster's observability stack: the
// kube-prometheus-stack Helm chart (Prometheus Operator, Prometheus,
// Alertmanager, Grafana, kube-state-metrics and, optionally, node-exporter),
// plus the Flask app's Grafana dashboard and alerting rules.
//
// Everything is created through an explicit Kubernetes provider passed in by
// the caller; nothing uses the ambient kubeconfig.
package monitoring

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ComponentType is the type token the component registers under.
const ComponentType = "flask-eks:monitoring:Monitoring"

// Defaults applied when the corresponding MonitoringArgs field is zero.
const (
	DefaultTimeout               = 900 // seconds; covers EBS provisioning and Auto Mode node launch
	DefaultPrometheusRetention   = "7d"
	DefaultPrometheusStorageSize = "20Gi"
	DefaultGrafanaStorageSize    = "5Gi"
	DefaultGrafanaAdminUser      = "admin"
)

// Names of the objects this component creates in the cluster. They are fixed
// (not auto-named) so that the chart values and the README can refer to them.
const (
	// GrafanaAdminSecretName is the Secret holding Grafana's admin
	// credentials; the chart reads it through grafana.admin.existingSecret.
	GrafanaAdminSecretName = "grafana-admin-credentials"
	// GrafanaAdminUserKey and GrafanaAdminPasswordKey are the keys inside
	// that Secret (the Grafana chart's defaults for admin.userKey/passwordKey).
	GrafanaAdminUserKey     = "admin-user"
	GrafanaAdminPasswordKey = "admin-password"
)

// MonitoringArgs configures NewMonitoring.
type MonitoringArgs struct {
	// Provider is the Kubernetes provider for the target cluster. Required:
	// the component never falls back to the ambient kubeconfig.
	Provider *kubernetes.Provider
	// Namespace is created by the component and holds the release, the
	// Grafana admin Secret, the dashboard ConfigMap and the PrometheusRule.
	Namespace string
	// StorageClassName is the StorageClass for the Prometheus, Alertmanager and
	// Grafana volumes (the eks component's gp3 class). nil or "" leaves
	// storageClassName unset, so the cluster's default class is used.
	StorageClassName pulumi.StringInput
	// StorageDependsOn are resources the release must wait for, typically the
	// StorageClass itself: its PVCs would stay Pending without it.
	StorageDependsOn []pulumi.Resource
	// IngressClassName is the cluster's ALB IngressClass. nil or
	// pulumi.String("") disables Grafana's Ingress (reach it with
	// kubectl port-forward). An Output must resolve to a non-empty name.
	IngressClassName pulumi.StringInput
	// AlbGroupName, when set, puts Grafana's Ingress into that ALB IngressGroup
	// (alb.ingress.kubernetes.io/group.name) so that it shares the app's load
	// balancer. Grafana is then served under GrafanaSubPath, because the app
	// already owns "/" on that ALB. "" gives Grafana an ALB of its own at "/".
	AlbGroupName string
	// CertificateArn, when set, adds an HTTPS listener with this ACM
	// certificate and redirects HTTP to HTTPS, as the app's Ingress does.
	CertificateArn string
	// PrometheusRetention is how long Prometheus keeps samples ("3d" in dev,
	// "15d" in prod). Default DefaultPrometheusRetention.
	PrometheusRetention string
	// PrometheusStorageSize is the Prometheus volume size ("20Gi" dev,
	// "100Gi" prod). Default DefaultPrometheusStorageSize.
	PrometheusStorageSize string
	// GrafanaStorageSize is the Grafana volume size. Default
	// DefaultGrafanaStorageSize.
	GrafanaStorageSize string
	// NodeExporter deploys the prometheus-node-exporter DaemonSet (and its
	// default rules). On EKS Auto Mode it is expected to run: Auto Mode nodes
	// are Kubernetes-conformant and admit DaemonSets with hostPath mounts of
	// /proc and /sys, subject to Bottlerocket's SELinux policy and read-only
	// root filesystem (AWS whitepaper "Security Overview of Amazon EKS Auto
	// Mode", Workloads section; aws-samples/sample-aws-eks-auto-mode
	// examples/observability/README.md lists "Prometheus node-exporter
	// DaemonSet" as a supported path for node metrics). Not verified on a
	// live cluster from here, hence a toggle.
	NodeExporter bool
	// AppNamespace is the namespace the Flask app runs in.
	AppNamespace string
	// AppName is the app's Service name (= its Helm fullname and Deployment
	// name). The ServiceMonitor turns it into the `service` label of the
	// app's series; kube-state-metrics reports it as `deployment`.
	AppName string
	// GrafanaAdminUser is Grafana's admin login. Default DefaultGrafanaAdminUser.
	GrafanaAdminUser string
	// Timeout is the Helm release timeout in seconds. Default DefaultTimeout.
	Timeout int
}

// Monitoring is the component returned by NewMonitoring.
type Monitoring struct {
	pulumi.ResourceState

	// Release is the kube-prometheus-stack Helm release. It installs the
	// monitoring.coreos.com CRDs, so anything that creates a ServiceMonitor or
	// PrometheusRule (such as the app's chart) must depend on it.
	Release *helmv3.Release

	// GrafanaURL is http(s)://<ALB hostname>[/grafana], or "" when the Ingress
	// is disabled or the ALB has no hostname yet.
	GrafanaURL pulumi.StringOutput `pulumi:"grafanaUrl"`
	// GrafanaAdminUser is Grafana's admin login.
	GrafanaAdminUser pulumi.StringOutput `pulumi:"grafanaAdminUser"`
	// GrafanaAdminPassword is Grafana's admin password (a secret output).
	GrafanaAdminPassword pulumi.StringOutput `pulumi:"grafanaAdminPassword"`
}

// NewMonitoring creates the monitoring namespace, Grafana's admin credentials,
// the kube-prometheus-stack release, the app's dashboard and alerting rules,
// and reads back Grafana's Ingress to report its URL.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs,
	opts ...pulumi.ResourceOption,
) (*Monitoring, error) {
	cfg, err := resolveArgs(args)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: invalid arguments: %w", name, err)
	}

	component := &Monitoring{}
	if err := ctx.RegisterComponentResource(ComponentType, name, component, opts...); err != nil {
		return nil, fmt.Errorf("monitoring %q: registering component: %w", name, err)
	}
	// Options for Kubernetes children: parented to the component, through the
	// explicit provider.
	k8sOpts := k8sOptions(func(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
		return append([]pulumi.ResourceOption{pulumi.Parent(component), pulumi.Provider(cfg.provider)}, extra...)
	})

	ns, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(cfg.namespace),
			Labels: commonLabels(),
		},
	}, k8sOpts()...)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: creating namespace %q: %w", name, cfg.namespace, err)
	}

	adminSecret, adminPassword, err := newGrafanaAdmin(ctx, name, component, ns, cfg, k8sOpts)
	if err != nil {
		return nil, err
	}

	// helm/v3 Release rather than helm/v4 Chart: kube-prometheus-stack creates
	// its admission-webhook TLS certificate, and patches it into the webhook
	// configurations, with Jobs that are Helm hooks (pre-/post-install and
	// -upgrade; prometheusOperator.admissionWebhooks.patch in the values).
	// Chart v4 renders the templates client-side (like `helm template`) and
	// manages the output as ordinary resources, so Helm's hook semantics (run
	// before/after the install, on every upgrade, then deleted) do not apply
	// and the webhook can be left without a valid certificate. A Release runs
	// the real Helm install, hooks included; Atomic rolls the whole install
	// back if any part of it fails.
	release, err := helmv3.NewRelease(ctx, name+"-kube-prometheus-stack", &helmv3.ReleaseArgs{
		Name:    pulumi.String(ReleaseName),
		Chart:   pulumi.String(ChartName),
		Version: pulumi.String(ChartVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{
			Repo: pulumi.String(ChartRepo),
		},
		Namespace:     ns.Metadata.Name(),
		Atomic:        pulumi.Bool(true),
		CleanupOnFail: pulumi.Bool(true),
		Timeout:       pulumi.Int(cfg.timeout),
		MaxHistory:    pulumi.Int(5),
		Values:        chartValues(cfg, adminSecret.Metadata.Name().Elem()),
	}, k8sOpts(pulumi.DependsOn(append([]pulumi.Resource{adminSecret}, cfg.storageDependsOn...)))...)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: creating kube-prometheus-stack release: %w", name, err)
	}
	component.Release = release

	if err := newAppObjects(ctx, name, ns, cfg, release, k8sOpts); err != nil {
		return nil, err
	}

	component.GrafanaAdminUser = pulumi.String(cfg.adminUser).ToStringOutput()
	component.GrafanaAdminPassword = adminPassword
	component.GrafanaURL = pulumi.String("").ToStringOutput()
	if cfg.ingressEnabled {
		url, err := readGrafanaURL(ctx, name, cfg, release, k8sOpts)
		if err != nil {
			return nil, err
		}
		component.GrafanaURL = url
	}

	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"grafanaUrl":           component.GrafanaURL,
		"grafanaAdminUser":     component.GrafanaAdminUser,
		"grafanaAdminPassword": component.GrafanaAdminPassword,
	}); err != nil {
		return nil, fmt.Errorf("monitoring %q: registering outputs: %w", name, err)
	}
	return component, nil
}

// k8sOptions returns the options for a Kubernetes child: parented to the
// component, through the explicit provider, plus extra.
type k8sOptions func(extra ...pulumi.ResourceOption) []pulumi.ResourceOption

// newGrafanaAdmin creates Grafana's admin password and the Secret the chart
// reads it from. It returns the Secret and the password as a secret output.
func newGrafanaAdmin(ctx *pulumi.Context, name string, component *Monitoring, ns *corev1.Namespace,
	cfg *resolved, k8sOpts k8sOptions,
) (*corev1.Secret, pulumi.StringOutput, error) {
	// The random provider is not Kubernetes, so the Kubernetes provider does
	// not apply to it; it only gets the parent.
	password, err := random.NewRandomPassword(ctx, name+"-grafana-admin", &random.RandomPasswordArgs{
		Length:  pulumi.Int(32),
		Special: pulumi.Bool(false), // alphanumeric: safe to paste into the login form and shells
	}, pulumi.Parent(component))
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("monitoring %q: creating Grafana admin password: %w", name, err)
	}
	// RandomPassword.Result is a secret in a real engine, but under mocks (or
	// if the provider schema ever changes) it may not be: mark it explicitly.
	secretPassword := pulumi.ToSecret(password.Result).(pulumi.StringOutput)

	adminSecret, err := corev1.NewSecret(ctx, name+"-grafana-admin", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(GrafanaAdminSecretName),
			Namespace: ns.Metadata.Name(),
			Labels:    commonLabels(),
		},
		Type: pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			GrafanaAdminUserKey:     pulumi.String(cfg.adminUser),
			GrafanaAdminPasswordKey: secretPassword,
		},
	}, k8sOpts()...)
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("monitoring %q: creating Grafana admin Secret: %w", name, err)
	}
	return adminSecret, secretPassword, nil
}

// newAppObjects creates the app's dashboard ConfigMap and PrometheusRule. Both
// wait for the release: it installs the sidecar that loads dashboards, and the
// CRDs and admission webhook that PrometheusRules need.
func newAppObjects(ctx *pulumi.Context, name string, ns *corev1.Namespace, cfg *resolved,
	release *helmv3.Release, k8sOpts k8sOptions,
) error {
	assets, err := renderAssets(assetParams{AppNamespace: cfg.appNamespace, AppName: cfg.appName})
	if err != nil {
		return fmt.Errorf("monitoring %q: rendering dashboard and rules: %w", name, err)
	}

	if _, err := corev1.NewConfigMap(ctx, name+"-dashboard", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(cfg.appName + "-dashboard"),
			Namespace: ns.Metadata.Name(),
			Labels:    withLabels(commonLabels(), pulumi.StringMap{DashboardLabel: pulumi.String(DashboardLabelValue)}),
		},
		Data: pulumi.StringMap{
			cfg.appName + ".json": pulumi.String(assets.dashboardJSON),
		},
	}, k8sOpts(pulumi.DependsOn([]pulumi.Resource{release}))...); err != nil {
		return fmt.Errorf("monitoring %q: creating dashboard ConfigMap: %w", name, err)
	}

	if _, err := apiextensions.NewCustomResource(ctx, name+"-alerts", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("PrometheusRule"),
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(cfg.appName + "-alerts"),
			Namespace: ns.Metadata.Name(),
			Labels:    commonLabels(),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": assets.ruleSpec},
	}, k8sOpts(pulumi.DependsOn([]pulumi.Resource{release}))...); err != nil {
		return fmt.Errorf("monitoring %q: creating PrometheusRule: %w", name, err)
	}

	return nil
}

// readGrafanaURL reads back the Ingress that the chart created for Grafana and
// derives Grafana's URL from the ALB hostname in its status. The Ingress ID
// comes from the release's status, so during the first preview (release not
// installed yet) it is unknown and the read is skipped instead of failing.
func readGrafanaURL(ctx *pulumi.Context, name string, cfg *resolved, release *helmv3.Release,
	k8sOpts k8sOptions,
) (pulumi.StringOutput, error) {
	id := pulumi.All(release.Status.Namespace(), release.Status.Name()).ApplyT(
		func(v []interface{}) (pulumi.ID, error) {
			ns, rel := v[0].(*string), v[1].(*string)
			if ns == nil || *ns == "" || rel == nil || *rel == "" {
				return "", errors.New("helm release status has no namespace/name")
			}
			return pulumi.ID(*ns + "/" + grafanaFullname(*rel)), nil
		}).(pulumi.IDOutput)

	ingress, err := networkingv1.GetIngress(ctx, name+"-grafana-ingress", id, nil,
		k8sOpts(pulumi.DependsOn([]pulumi.Resource{release}))...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("monitoring %q: reading Grafana Ingress: %w", name, err)
	}
	scheme := "http"
	if cfg.certificateArn != "" {
		scheme = "https"
	}
	path := ""
	if cfg.albGroupName != "" {
		path = GrafanaSubPath
	}
	return ingress.Status.LoadBalancer().Ingress().Index(pulumi.Int(0)).Hostname().ApplyT(
		func(host *string) string {
			if host == nil || *host == "" {
				return "" // the ALB is still being provisioned; the next refresh fills it in
			}
			return scheme + "://" + *host + path
		}).(pulumi.StringOutput), nil
}

// resolved is MonitoringArgs after validation and defaulting.
type resolved struct {
	provider         *kubernetes.Provider
	namespace        string
	storageClass     pulumi.StringInput // nil: use the cluster default
	storageDependsOn []pulumi.Resource
	ingressEnabled   bool
	ingressClass     pulumi.StringInput
	albGroupName     string
	certificateArn   string
	retention        string
	promStorage      string
	grafanaStorage   string
	nodeExporter     bool
	appNamespace     string
	appName          string
	adminUser        string
	timeout          int
}

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	albGroupRe   = regexp.MustCompile(`^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$`)
	promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)
	quantityRe   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$`)
	acmCertArnRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$`)
	adminUserRe  = regexp.MustCompile(`^[A-Za-z0-9._@-]+$`)
)

// Length limits of a DNS-1123 label and of an ALB IngressGroup name.
const (
	maxDNSLabel   = 63
	maxAlbGroupLn = 63
)

// resolveArgs validates args and fills in defaults. Every error names the
// offending field.
func resolveArgs(a *MonitoringArgs) (*resolved, error) {
	if a == nil {
		return nil, errors.New("args must not be nil")
	}
	var errs []error
	bad := func(format string, v ...interface{}) { errs = append(errs, fmt.Errorf(format, v...)) }

	if a.Provider == nil {
		bad("Provider is required: pass the cluster's *kubernetes.Provider explicitly")
	}
	checkLabel := func(field, v string) {
		switch {
		case v == "":
			bad("%s is required", field)
		case len(v) > maxDNSLabel || !dns1123Label.MatchString(v):
			bad("%s %q is not a valid DNS-1123 label (lower-case alphanumerics and '-', at most 63 characters)", field, v)
		}
	}
	checkLabel("Namespace", a.Namespace)
	checkLabel("AppNamespace", a.AppNamespace)
	checkLabel("AppName", a.AppName)

	r := &resolved{
		provider:         a.Provider,
		namespace:        a.Namespace,
		storageClass:     a.StorageClassName,
		storageDependsOn: a.StorageDependsOn,
		ingressClass:     a.IngressClassName,
		albGroupName:     a.AlbGroupName,
		certificateArn:   a.CertificateArn,
		retention:        orDefault(a.PrometheusRetention, DefaultPrometheusRetention),
		promStorage:      orDefault(a.PrometheusStorageSize, DefaultPrometheusStorageSize),
		grafanaStorage:   orDefault(a.GrafanaStorageSize, DefaultGrafanaStorageSize),
		nodeExporter:     a.NodeExporter,
		appNamespace:     a.AppNamespace,
		appName:          a.AppName,
		adminUser:        orDefault(a.GrafanaAdminUser, DefaultGrafanaAdminUser),
		timeout:          a.Timeout,
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.timeout < 0 {
		bad("Timeout must be positive seconds (or 0 for the default %d), got %d", DefaultTimeout, a.Timeout)
	}
	if s, ok := a.StorageClassName.(pulumi.String); ok && s == "" {
		r.storageClass = nil
	}
	r.ingressEnabled = a.IngressClassName != nil
	if s, ok := a.IngressClassName.(pulumi.String); ok && s == "" {
		r.ingressEnabled = false
	}
	for i, d := range a.StorageDependsOn {
		if d == nil {
			bad("StorageDependsOn[%d] is nil", i)
		}
	}
	if !promDuration.MatchString(r.retention) {
		bad("PrometheusRetention %q is not a Prometheus duration such as \"3d\" or \"15d\"", r.retention)
	}
	if !quantityRe.MatchString(r.promStorage) {
		bad("PrometheusStorageSize %q is not a storage quantity such as \"20Gi\"", r.promStorage)
	}
	if !quantityRe.MatchString(r.grafanaStorage) {
		bad("GrafanaStorageSize %q is not a storage quantity such as \"5Gi\"", r.grafanaStorage)
	}
	if r.albGroupName != "" && (len(r.albGroupName) > maxAlbGroupLn || !albGroupRe.MatchString(r.albGroupName)) {
		bad("AlbGroupName %q is invalid: lower-case alphanumerics, '-' and '.', at most 63 characters", r.albGroupName)
	}
	if r.certificateArn != "" && !acmCertArnRe.MatchString(r.certificateArn) {
		bad("CertificateArn %q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", r.certificateArn)
	}
	if !r.ingressEnabled && (r.albGroupName != "" || r.certificateArn != "") {
		bad("AlbGroupName/CertificateArn are set but IngressClassName is empty: Grafana's Ingress is disabled")
	}
	if !adminUserRe.MatchString(r.adminUser) {
		bad("GrafanaAdminUser %q may only contain letters, digits and . _ @ -", r.adminUser)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// commonLabels marks every object this component creates.
func commonLabels() pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
		"app.kubernetes.io/part-of":    pulumi.String("monitoring"),
	}
}

func withLabels(base, extra pulumi.StringMap) pulumi.StringMap {
	for k, v := range extra {
		base[k] = v
	}
	return base
}
