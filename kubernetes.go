// The Kubernetes half: the app, then monitoring, into whichever cluster the target names (the
// EKS cluster of the AWS half, an existing cluster, or the integration test's API server).

package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/monitoring"
)

// kubeTarget is what the Kubernetes half needs from wherever the cluster came from.
type kubeTarget struct {
	Provider *kubernetes.Provider
	// StorageClassName is "" to use the cluster's default StorageClass.
	StorageClassName string
	// Classes must exist before any workload and be deleted after them.
	Classes []pulumi.Resource
	// LoadBalancers are what the ALBs of the Ingresses need until Auto Mode has deleted them on
	// destroy: the certificate, the public subnets and the internet gateway. The namespaces
	// holding Ingresses depend on them and on Classes.
	LoadBalancers []pulumi.Resource
	// PublicRecords is ExternalDNS's chart, which deletes an internet-facing ALB's records once
	// its Ingress is gone: the namespaces whose Ingresses it publishes (the app's, a public
	// Grafana's) depend on it too. An internal Grafana has no record, so monitoring's namespace
	// does not wait for ExternalDNS (nor, on a cold `up`, does kube-prometheus-stack).
	PublicRecords []pulumi.Resource
	// ClusterName is the EKS cluster, for Pod Identity; nil elsewhere.
	ClusterName pulumi.StringInput
	// Image is what the app runs; AppVersion the version it reports ("" for the chart's).
	Image      app.ImageRef
	AppVersion pulumi.StringInput
	// IngressClass is the app's IngressClass, "" for no Ingress; ALBSourceCIDRs are the networks
	// its ALB sends from.
	IngressClass   string
	ALBSourceCIDRs []string
	// GrafanaClass is Grafana's IngressClass, "" for none; GrafanaSourceCIDRs its ALB's networks.
	GrafanaClass       string
	GrafanaSourceCIDRs []string
	// NodeCIDRs hold the nodes.
	NodeCIDRs []string
	// APIServer is where pods reach the Kubernetes API server, and where it calls webhooks from.
	APIServer netpol.APIServer
	// SkipAwait deploys without waiting for pods (API servers without nodes).
	SkipAwait bool
	// SecretSource, when set, makes the app's Secret (External Secrets); otherwise the app
	// component writes one from config or generated values.
	SecretSource app.SecretSource
	// PrometheusClients are the namespaces whose pods may query Prometheus (KEDA's).
	PrometheusClients []string
	// AppPlacement puts the app's pods on the cluster's app NodePool, PlatformPlacement
	// monitoring's on the platform NodePool, and EveryNode (tolerations only) monitoring's
	// DaemonSets on every pool's nodes; all zero in existing mode, where the cluster's own
	// nodes take the charts' defaults.
	AppPlacement      eks.Placement
	PlatformPlacement eks.Placement
	EveryNode         eks.Placement
	// ChartPath overrides the app chart's directory (default ./app/chart, relative to the
	// project): the integration test deploys an edited copy.
	ChartPath string
}

// apiServer is where the pods of an EKS stack reach the Kubernetes API server: the `kubernetes`
// Service's address, the first of serviceCidr, and the control plane's network interfaces in
// the VPC. Every component that calls the API server, or that the API server calls, gets it.
func (c *Config) apiServer() netpol.APIServer {
	// readServiceCIDR has accepted ServiceCidr: it has a first address.
	addr, _ := netpol.ServiceAddress(c.Cluster.ServiceCidr)
	return netpol.APIServer{ServiceAddress: addr, CIDRs: []string{c.Network.VpcCidr}}
}

// eksTarget is the Kubernetes half's target on the stack's EKS cluster.
func eksTarget(cfg *Config, cloud *awsHalf, platform *platformAddons) kubeTarget {
	vpcCIDRs := []string{cfg.Network.VpcCidr}
	t := kubeTarget{
		Provider:         cloud.Cluster.Provider,
		StorageClassName: storageClassName,
		// Workloads wait for the NodePools too, and go before them on destroy.
		Classes:        append(cloud.Cluster.Classes.Resources(), cloud.Cluster.Nodes.Resources()...),
		AppPlacement:   eks.AppPlacement(),
		LoadBalancers:  loadBalancerNeeds(cloud),
		PublicRecords:  publicRecordNeeds(platform),
		ClusterName:    cloud.Cluster.ClusterName,
		Image:          app.ImageRef{Repository: cloud.Image.RepositoryURL, Digest: cloud.Image.Digest},
		AppVersion:     cloud.Image.Tag,
		IngressClass:   publicALBClass,
		ALBSourceCIDRs: cloud.Network.PublicSubnetCIDRs,
		NodeCIDRs:      vpcCIDRs,
		APIServer:      cfg.apiServer(),
		GrafanaClass:   grafanaClass(cfg),
		// An internal ALB sits in the private subnets; Grafana's is internal unless public.
		GrafanaSourceCIDRs: cloud.Network.PublicSubnetCIDRs,
		SecretSource:       platform.secretSource(),
		PrometheusClients:  prometheusClients(cfg),

		// Monitoring runs on the platform pool, beside the other add-ons (addons.go).
		PlatformPlacement: eks.PlatformPlacement(),
		EveryNode:         eks.Placement{Tolerations: eks.EveryNodeTolerations()},
	}
	if cfg.Ingress.GrafanaExposure == grafanaInternal {
		t.GrafanaSourceCIDRs = vpcCIDRs
	}
	return t
}

// loadBalancerNeeds are what the stack's ALBs need until Auto Mode has deleted them. Custom
// resources, never a component of ours: a dependency on a component stands for the children it
// has registered when the dependent registers, which varies from run to run.
func loadBalancerNeeds(cloud *awsHalf) []pulumi.Resource {
	needs := append([]pulumi.Resource{}, cloud.Network.PublicReady...)
	if cloud.Certificate != nil {
		needs = append(needs, cloud.Certificate.Validation)
	}
	return needs
}

// publicRecordNeeds is ExternalDNS's chart (a resource, not its component), when the stack has
// a zone.
func publicRecordNeeds(platform *platformAddons) []pulumi.Resource {
	if platform.ExternalDNS == nil {
		return nil
	}
	return []pulumi.Resource{platform.ExternalDNS.Chart}
}

// existingCluster is the Kubernetes half's target in the cluster of a kubeconfig context, with
// a given image and the cluster's own ingress class (or none).
func existingCluster(ctx *pulumi.Context, cfg *Config) (kubeTarget, error) {
	provider, err := kubernetes.NewProvider(ctx, "existing-cluster", &kubernetes.ProviderArgs{
		// The context is named in stack config, so `pulumi up` never deploys to whatever
		// cluster the shell happens to point at.
		Context: pulumi.String(cfg.Cluster.KubeContext),
	})
	if err != nil {
		return kubeTarget{}, fmt.Errorf("creating Kubernetes provider for context %q: %w", cfg.Cluster.KubeContext, err)
	}
	return kubeTarget{
		Provider:     provider,
		Image:        app.ImageFromRef(cfg.App.Image),
		IngressClass: cfg.Ingress.ClassName,
		// Without a VPC, the node and API server networks are unknown: ports stay restricted.
		NodeCIDRs: []string{"0.0.0.0/0"},
		APIServer: netpol.APIServer{CIDRs: []string{"0.0.0.0/0"}},
	}, nil
}

// workloads are the deployed Kubernetes half.
type workloads struct {
	App        *app.App
	Monitoring *monitoring.Monitoring // nil when monitoring is off
}

// deployKubernetes declares the app and, when enabled, monitoring. It is the only code path
// for the Kubernetes half: EKS stacks, existing-cluster stacks and the integration test
// against a real API server all call it. The app never waits for monitoring; monitoring's
// objects for the app wait for both.
func deployKubernetes(ctx *pulumi.Context, cfg *Config, t kubeTarget, opts ...pulumi.ResourceOption) (*workloads, error) {
	secrets := app.Secrets{Source: t.SecretSource}
	if t.SecretSource == nil {
		secretKey, dbPassword, err := appSecrets(ctx, cfg)
		if err != nil {
			return nil, err
		}
		secrets = app.Secrets{SecretKey: secretKey, DBPassword: dbPassword}
	}
	if t.ChartPath == "" {
		t.ChartPath = chartPath
	}
	args := &app.AppArgs{
		Provider:           t.Provider,
		Namespace:          cfg.App.Namespace,
		ChartPath:          t.ChartPath,
		Settings:           chartSettings(cfg, t),
		Image:              t.Image,
		Secrets:            secrets,
		ReleaseDependsOn:   t.Classes,
		NamespaceDependsOn: slices.Concat(t.Classes, t.LoadBalancers, t.PublicRecords),
		SkipAwait:          t.SkipAwait,
		AppVersion:         t.AppVersion,
	}
	if t.IngressClass != "" {
		args.IngressClassName = pulumi.String(t.IngressClass)
	}
	if len(cfg.App.PodIdentityPolicyArns) > 0 && t.ClusterName != nil {
		args.PodIdentity = &app.PodIdentityArgs{ClusterName: t.ClusterName, PolicyArns: cfg.App.PodIdentityPolicyArns}
	}
	w := &workloads{}
	var err error
	if w.App, err = app.NewApp(ctx, "app", args, opts...); err != nil {
		return nil, err
	}
	if !cfg.Monitoring.Enabled {
		return w, nil
	}
	margs, err := monitoringArgs(cfg, t, w.App)
	if err != nil {
		return nil, err
	}
	if w.Monitoring, err = monitoring.NewMonitoring(ctx, "monitoring", margs, opts...); err != nil {
		return nil, err
	}
	return w, nil
}

// monitoringArgs maps the stack config onto the monitoring component, watching the app.
func monitoringArgs(cfg *Config, t kubeTarget, a *app.App) (*monitoring.MonitoringArgs, error) {
	margs := &monitoring.MonitoringArgs{
		Provider:           t.Provider,
		Namespace:          monitoring.Namespace,
		StorageClassName:   t.StorageClassName,
		ReleaseDependsOn:   t.Classes,
		NamespaceDependsOn: slices.Concat(t.Classes, t.LoadBalancers, grafanaRecords(cfg, t)),
		Prometheus:         monitoring.PrometheusSettings{Retention: cfg.Monitoring.PrometheusRetention, StorageSize: cfg.Monitoring.PrometheusStorageSize},
		Grafana: monitoring.GrafanaSettings{
			StorageSize:      cfg.Monitoring.GrafanaStorageSize,
			Exposure:         cfg.Ingress.GrafanaExposure,
			IngressClassName: t.GrafanaClass,
			Host:             cfg.Ingress.GrafanaDomain,
			HTTPS:            cfg.Ingress.GrafanaDomain != "" && cfg.Ingress.TLS(),
			ALBSourceCIDRs:   t.GrafanaSourceCIDRs,
		},
		NodeExporter:      cfg.Monitoring.NodeExporter,
		Placement:         t.PlatformPlacement,
		EveryNode:         t.EveryNode,
		PrometheusClients: t.PrometheusClients,
		NodeCIDRs:         t.NodeCIDRs,
		APIServer:         t.APIServer,
		App: monitoring.AppTarget{
			Namespace: a.Namespace, NamespaceName: cfg.App.Namespace, Name: releaseName,
			PodLabels: app.SelectorLabels(releaseName),
		},
	}
	if t.GrafanaClass == "" {
		margs.Grafana.Exposure = monitoring.GrafanaNone
	}
	if cfg.Monitoring.Logs {
		if t.ClusterName == nil {
			return nil, fmt.Errorf("logs need the EKS cluster (Pod Identity for Loki's bucket)")
		}
		prod := cfg.prod()
		margs.Logs = monitoring.LogsSettings{
			Enabled:       true,
			ClusterName:   t.ClusterName,
			Region:        cfg.Region,
			NamePrefix:    cfg.namePrefix(),
			RetentionDays: cfg.Monitoring.LogRetentionDays,
			StorageSize:   cfg.Monitoring.LokiStorageSize,
			// prod keeps its logs through a destroy; other stacks delete them with the bucket.
			Protect:      prod,
			ForceDestroy: !prod,
		}
	}
	if cfg.Monitoring.AlertWebhookURL.IsSet() {
		url := cfg.Monitoring.AlertWebhookURL.Reveal()
		margs.Alerting = monitoring.AlertingSettings{
			WebhookURL: pulumi.ToSecret(pulumi.String(url)).(pulumi.StringOutput),
			Slack:      isSlackWebhook(url),
		}
	}
	return margs, nil
}

// chartSettings maps the stack config onto the app chart's settings.
func chartSettings(cfg *Config, t kubeTarget) app.ChartSettings {
	s := app.ChartSettings{
		Placement:       t.AppPlacement,
		Environment:     cfg.Environment,
		ReleaseName:     releaseName,
		Replicas:        cfg.App.Replicas,
		LogLevel:        cfg.App.LogLevel,
		APIBaseURL:      cfg.App.APIBaseURL,
		MaxConnections:  cfg.App.MaxConnections,
		GunicornWorkers: cfg.App.GunicornWorkers,
		GunicornThreads: cfg.App.GunicornThreads,
		RevealSecrets:   cfg.App.RevealSecrets,
		ServiceType:     cfg.Ingress.ServiceType,
		Ingress: app.ChartIngress{
			Enabled: t.IngressClass != "",
			Host:    cfg.Ingress.Domain,
			HTTPS:   cfg.Ingress.TLS(),
		},
		ALBSourceCIDRs: t.ALBSourceCIDRs,
		// HTTPS to the internet only: not the VPC, the Services (the API server among them) or
		// the instance metadata service.
		InternetCIDRs: netpol.PublicIPv4(),
	}
	switch {
	case cfg.App.KEDA:
		// KEDA's ScaledObject owns the HPA; the chart renders none and leaves spec.replicas alone.
		s.Autoscaling = kedaChartAutoscaling(appScaling(cfg))
	case cfg.App.MaxReplicas > cfg.App.Replicas:
		s.Autoscaling = app.ChartAutoscaling{Enabled: true, MinReplicas: cfg.App.Replicas, MaxReplicas: cfg.App.MaxReplicas}
	}
	// Memory request and limit alike: the pod gets what appmemory.go sized the workers for, and
	// is never the first to be evicted when its node runs short of memory.
	mem := fmt.Sprintf("%dMi", cfg.App.MemoryMiB)
	s.Resources.RequestsMemory, s.Resources.LimitsMemory = mem, mem
	return s
}

// isSlackWebhook reports whether url is a Slack incoming webhook, which takes Slack's message
// format rather than Alertmanager's generic webhook payload.
func isSlackWebhook(url string) bool {
	rest, ok := strings.CutPrefix(url, "https://hooks.slack.com/")
	return ok && rest != ""
}

// appSecrets returns SECRET_KEY and DB_PASSWORD as Pulumi secrets: from
// `pulumi config set --secret` when set, otherwise generated once by pulumi-random and kept
// in (encrypted) state. Generated ones are 32 characters, letters and digits only, so they
// survive any shell or URL they end up in.
func appSecrets(ctx *pulumi.Context, cfg *Config) (secretKey, dbPassword pulumi.StringOutput, err error) {
	get := func(name string, v secretValue) (pulumi.StringOutput, error) {
		if v.IsSet() {
			return pulumi.ToSecret(pulumi.String(v.Reveal())).(pulumi.StringOutput), nil
		}
		pw, err := random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
			Length:  pulumi.Int(32),
			Special: pulumi.Bool(false),
		})
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("generating %s: %w", name, err)
		}
		// result is a secret output of the random provider; say so here too, so that it
		// stays secret even where the provider's schema is not consulted (mocks).
		return pulumi.ToSecret(pw.Result).(pulumi.StringOutput), nil
	}
	if secretKey, err = get("app-secret-key", cfg.App.SecretKey); err != nil {
		return
	}
	dbPassword, err = get("app-db-password", cfg.App.DBPassword)
	return
}

// grafanaRecords is what monitoring's namespace waits for besides the load balancers' needs:
// ExternalDNS when it publishes Grafana's name (grafanaExposure public), nothing otherwise.
func grafanaRecords(cfg *Config, t kubeTarget) []pulumi.Resource {
	if cfg.Ingress.GrafanaExposure != grafanaPublic {
		return nil
	}
	return t.PublicRecords
}
