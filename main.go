// Command flask-eks is a Pulumi program that stands up a Flask app on AWS with one
// `pulumi up`: a VPC, an EKS Auto Mode cluster, an ECR repository and image, the app as a Helm
// release behind an internet-facing ALB on its own domain, kube-prometheus-stack watching it, and
// the platform add-ons (DNS and TLS, metrics-server).
//
// It reads like the architecture: network → cluster; image (in parallel) → app → monitoring; the
// add-ons beside them. With clusterMode "existing" it skips the AWS half and deploys the same app
// and monitoring components into an existing cluster (kind, minikube) selected by a kubeconfig
// context.
package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/addons/dns"
	"github.com/example/flask-eks/addons/externalsecrets"
	"github.com/example/flask-eks/addons/keda"
	"github.com/example/flask-eks/addons/metricsserver"
	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/validate"
	"github.com/example/flask-eks/monitoring"
	"github.com/example/flask-eks/vpc"
)

// Names shared by the components.
const (
	releaseName         = "flask-app"
	chartPath           = "./app/chart"
	appSourceDir        = "app-src"
	imagePlatform       = "linux/amd64"
	storageClassName    = "gp3"
	monitoringNamespace = "monitoring"
	// The ALB IngressClasses: the app's internet-facing one, and Grafana's, internal or public.
	publicALBClass   = "alb"
	internalALBClass = "alb-internal"
	grafanaALBClass  = "alb-grafana"
)

func main() {
	pulumi.Run(program)
}

// program is the whole Pulumi program. It reads and validates all config first, so bad
// config fails before a single resource is declared.
func program(ctx *pulumi.Context) error {
	cfg, err := readConfig(ctx.Project(), ctx.Stack(), contextConfig{ctx}, time.Now())
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		if err := ctx.Log.Warn(w, nil); err != nil {
			return err
		}
	}
	if cfg.ClusterMode == modeExisting {
		return deployToExistingCluster(ctx, cfg)
	}
	return deployToEKS(ctx, cfg)
}

// deployToEKS builds the AWS half (network, cluster, image, certificate) and then the Kubernetes
// half.
func deployToEKS(ctx *pulumi.Context, cfg *Config) error {
	// One explicit AWS provider carries the region and the default tags, so every AWS
	// resource, including those pulumi-eks creates inside its component, is tagged alike.
	awsProvider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region:      pulumi.String(cfg.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(cfg.Tags)},
	})
	if err != nil {
		return fmt.Errorf("creating AWS provider: %w", err)
	}
	withAWS := pulumi.Providers(awsProvider)
	prod := cfg.prod()
	// The VPC holds the nodes and the EKS API server's network interfaces.
	vpcCIDRs := []string{cfg.Network.VpcCidr}

	network, err := vpc.NewNetwork(ctx, "network", &vpc.NetworkArgs{
		CidrBlock:  cfg.Network.VpcCidr,
		AzCount:    cfg.Network.AzCount,
		NatMode:    cfg.Network.NatMode,
		Region:     cfg.Region,
		NamePrefix: cfg.namePrefix(),
	}, withAWS, pulumi.Protect(prod))
	if err != nil {
		return err
	}
	publicSubnets, _, err := vpc.SubnetCIDRs(cfg.Network.VpcCidr, cfg.Network.AzCount)
	if err != nil {
		return err
	}

	// The image builds while the network and cluster come up: it needs neither.
	image, err := app.NewImage(ctx, "image", &app.ImageArgs{
		RepositoryName: cfg.namePrefix() + "/" + releaseName,
		Context:        appSourceDir,
		Platform:       imagePlatform,
		KeepImages:     cfg.Registry.KeepImages,
		ForceDelete:    cfg.Registry.ForceDelete,
		Protect:        prod,
		PreviousParent: "app",
	}, withAWS)
	if err != nil {
		return err
	}

	// DNS and TLS: a certificate for the stack's host names, validated in its zone.
	var zone *dns.Zone
	certificateArn := pulumi.StringInput(nil)
	if cfg.Ingress.CertificateArn != "" {
		certificateArn = pulumi.String(cfg.Ingress.CertificateArn)
	}
	if cfg.Ingress.HostedZone != "" {
		if zone, err = dns.LookupZone(ctx, cfg.Ingress.HostedZone, validate.HostedZoneID(cfg.Ingress.HostedZone), pulumi.Provider(awsProvider)); err != nil {
			return err
		}
		if cfg.Ingress.CertificateArn == "" {
			cert, err := dns.NewCertificate(ctx, "certificate", &dns.CertificateArgs{Domains: cfg.Ingress.hosts(), Zone: zone}, withAWS)
			if err != nil {
				return err
			}
			certificateArn = cert.Arn
		}
	}

	cluster, err := eks.NewCluster(ctx, "cluster", &eks.ClusterArgs{
		Name:                 cfg.namePrefix(),
		Version:              cfg.Cluster.KubernetesVersion,
		Region:               cfg.Region,
		VpcID:                network.VpcID,
		PrivateSubnetIDs:     network.PrivateSubnetIDs,
		EgressReady:          network.PrivateEgress,
		EndpointPublicAccess: cfg.Cluster.EndpointPublicAccess,
		PublicAccessCidrs:    cfg.Cluster.PublicAccessCidrs,
		LogTypes:             cfg.Cluster.LogTypes,
		AdminPrincipalArns:   cfg.Cluster.AdminPrincipalArns,
		ViewerPrincipalArns:  cfg.Cluster.ViewerPrincipalArns,
		StorageClassName:     storageClassName,
		ALBs:                 albClasses(cfg, certificateArn),
		AccessLogDays:        cfg.Ingress.AccessLogDays,
		Protect:              prod,
	}, withAWS)
	if err != nil {
		return err
	}

	classes := cluster.Classes.Resources()
	var secrets *externalsecrets.ExternalSecrets
	if cfg.App.ExternalSecrets {
		// The app's secrets live in AWS Secrets Manager; External Secrets syncs them into the app's
		// namespace (which the app component creates, and then hands to Source).
		if secrets, err = externalsecrets.New(ctx, "external-secrets", &externalsecrets.Args{
			Provider:        cluster.Provider,
			ClusterName:     cluster.ClusterName,
			Region:          cfg.Region,
			NamePrefix:      cfg.namePrefix(),
			RefreshInterval: cfg.App.SecretsRefreshInterval,
			APICIDRs:        vpcCIDRs,
			Protect:         prod,
			DependsOn:       classes,
		}, withAWS); err != nil {
			return err
		}
	}
	target := kubeTarget{
		Provider:         cluster.Provider,
		StorageClassName: storageClassName,
		Classes:          classes,
		ClusterName:      cluster.ClusterName,
		Image: app.ImageRef{
			Repository: image.RepositoryURL,
			Digest:     image.Digest,
		},
		AppVersion:     image.Tag,
		IngressClass:   publicALBClass,
		ALBSourceCIDRs: publicSubnets,
		NodeCIDRs:      vpcCIDRs,
		GrafanaClass:   grafanaClass(cfg),
	}
	if secrets != nil {
		target.SecretSource = secrets.Source()
	}
	// An internal ALB sits in the private subnets; Grafana's is internal unless public.
	target.GrafanaSourceCIDRs = publicSubnets
	if cfg.Ingress.GrafanaExposure == grafanaInternal {
		target.GrafanaSourceCIDRs = vpcCIDRs
	}
	// The components' AWS children (Pod Identity roles) take the tagged provider from here.
	w, err := deployKubernetes(ctx, cfg, target, withAWS)
	if err != nil {
		return err
	}

	if cfg.App.KEDA {
		replicas := 1
		if prod {
			replicas = 2
		}
		k, err := keda.New(ctx, "keda", &keda.Args{
			Provider:            cluster.Provider,
			APICIDRs:            vpcCIDRs,
			PrometheusNamespace: monitoringNamespace,
			WatchNamespace:      w.App.Namespace,
			WatchNamespaceName:  cfg.App.Namespace,
			Replicas:            replicas,
			DependsOn:           classes,
		})
		if err != nil {
			return err
		}
		if err := scaleApp(ctx, cfg, cluster.Provider, k, w); err != nil {
			return err
		}
	}

	if _, err := metricsserver.New(ctx, "metrics-server", &metricsserver.Args{
		Provider: cluster.Provider, DependsOn: classes,
	}); err != nil {
		return err
	}
	if zone != nil {
		if _, err := dns.NewExternalDNS(ctx, "external-dns", &dns.ExternalDNSArgs{
			Provider:    cluster.Provider,
			ClusterName: cluster.ClusterName,
			Region:      cfg.Region,
			Zone:        zone,
			OwnerID:     cfg.namePrefix(),
			APICIDRs:    vpcCIDRs,
			DependsOn:   classes,
		}, withAWS); err != nil {
			return err
		}
	}

	ctx.Export("vpcId", network.VpcID)
	ctx.Export("publicSubnetIds", network.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", network.PrivateSubnetIDs)
	ctx.Export("availabilityZones", network.AvailabilityZones)
	ctx.Export("clusterName", cluster.ClusterName)
	ctx.Export("kubeconfig", cluster.Kubeconfig)
	ctx.Export("oidcProviderArn", cluster.OidcProviderArn)
	ctx.Export("oidcIssuer", cluster.OidcIssuer)
	ctx.Export("albAccessLogsBucket", cluster.AccessLogsBucket)
	if secrets != nil {
		ctx.Export("appSecretArn", secrets.SecretArn)
		ctx.Export("appSecretName", secrets.SecretName)
	}
	ctx.Export("repositoryUrl", image.RepositoryURL)
	ctx.Export("imageDigest", image.Digest)
	w.export(ctx, cfg, image.Ref)
	return nil
}

// albClasses are the IngressClasses of the ALBs: the app's, internet-facing, and Grafana's,
// internal (its own ALB, reachable from inside the VPC) or public (its own ALB, limited to the
// allowed networks). The certificate, when there is one, goes on every class whose Ingresses
// have a host name.
func albClasses(cfg *Config, cert pulumi.StringInput) []eks.ALBClass {
	prefix := cfg.namePrefix()
	classes := []eks.ALBClass{{Name: publicALBClass, Scheme: "internet-facing", GroupName: prefix, CertificateArn: cert, Default: true}}
	grafanaCert := cert
	if cfg.Ingress.GrafanaDomain == "" {
		grafanaCert = nil
	}
	switch cfg.Ingress.GrafanaExposure {
	case grafanaInternal:
		classes = append(classes, eks.ALBClass{Name: internalALBClass, Scheme: "internal", GroupName: prefix + "-internal", CertificateArn: grafanaCert})
	case grafanaPublic:
		classes = append(classes, eks.ALBClass{Name: grafanaALBClass, Scheme: "internet-facing", GroupName: prefix + "-grafana",
			CertificateArn: grafanaCert, InboundCIDRs: cfg.Ingress.GrafanaInboundCidrs})
	}
	return classes
}

// grafanaClass is the IngressClass of Grafana's Ingress, "" for none.
func grafanaClass(cfg *Config) string {
	switch cfg.Ingress.GrafanaExposure {
	case grafanaInternal:
		return internalALBClass
	case grafanaPublic:
		return grafanaALBClass
	}
	return ""
}

// hosts are the host names the certificate covers: the app's, then Grafana's.
func (i IngressConfig) hosts() []string {
	out := []string{i.Domain}
	if i.GrafanaDomain != "" {
		out = append(out, i.GrafanaDomain)
	}
	return out
}

// deployToExistingCluster deploys the Kubernetes half into the cluster of a kubeconfig
// context, with a given image and the cluster's own ingress class (or none).
func deployToExistingCluster(ctx *pulumi.Context, cfg *Config) error {
	provider, err := kubernetes.NewProvider(ctx, "existing-cluster", &kubernetes.ProviderArgs{
		// The context is named in stack config, so `pulumi up` never deploys to whatever
		// cluster the shell happens to point at.
		Context: pulumi.String(cfg.Cluster.KubeContext),
	})
	if err != nil {
		return fmt.Errorf("creating Kubernetes provider for context %q: %w", cfg.Cluster.KubeContext, err)
	}
	t := kubeTarget{
		Provider:     provider,
		Image:        app.ImageFromRef(cfg.App.Image),
		IngressClass: cfg.Ingress.ClassName,
		// Without a VPC, the node and API server networks are unknown: ports stay restricted.
		NodeCIDRs: []string{"0.0.0.0/0"},
	}
	w, err := deployKubernetes(ctx, cfg, t)
	if err != nil {
		return err
	}
	w.export(ctx, cfg, pulumi.String(cfg.App.Image))
	return nil
}

// kubeTarget is what the Kubernetes half needs from wherever the cluster came from.
type kubeTarget struct {
	Provider *kubernetes.Provider
	// StorageClassName is "" to use the cluster's default StorageClass.
	StorageClassName string
	// Classes must exist before any workload and be deleted after them.
	Classes []pulumi.Resource
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
	// NodeCIDRs hold the nodes and the API server's network interfaces.
	NodeCIDRs []string
	// SkipAwait deploys without waiting for pods (API servers without nodes).
	SkipAwait bool
	// SecretSource, when set, makes the app's Secret (External Secrets); otherwise the app
	// component writes one from config or generated values.
	SecretSource app.SecretSource
	// ChartPath overrides the app chart's directory (default ./app/chart, relative to the
	// project): the integration test deploys an edited copy.
	ChartPath string
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
		Provider:         t.Provider,
		Namespace:        cfg.App.Namespace,
		ChartPath:        t.ChartPath,
		Settings:         chartSettings(cfg, t),
		Image:            t.Image,
		Secrets:          secrets,
		ReleaseDependsOn: t.Classes,
		SkipAwait:        t.SkipAwait,
		AppVersion:       t.AppVersion,
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
	margs := &monitoring.MonitoringArgs{
		Provider:         t.Provider,
		Namespace:        monitoringNamespace,
		StorageClassName: t.StorageClassName,
		ReleaseDependsOn: t.Classes,
		Prometheus:       monitoring.PrometheusSettings{Retention: cfg.Monitoring.PrometheusRetention, StorageSize: cfg.Monitoring.PrometheusStorageSize},
		Grafana: monitoring.GrafanaSettings{
			StorageSize:      cfg.Monitoring.GrafanaStorageSize,
			Exposure:         cfg.Ingress.GrafanaExposure,
			IngressClassName: t.GrafanaClass,
			Host:             cfg.Ingress.GrafanaDomain,
			HTTPS:            cfg.Ingress.GrafanaDomain != "" && cfg.Ingress.TLS(),
			ALBSourceCIDRs:   t.GrafanaSourceCIDRs,
		},
		NodeExporter: cfg.Monitoring.NodeExporter,
		// KEDA's operator queries Prometheus for the app's request rate.
		PrometheusClients: kedaClients(cfg),
		NodeCIDRs:         t.NodeCIDRs,
		App: monitoring.AppTarget{
			Namespace: w.App.Namespace, NamespaceName: cfg.App.Namespace, Name: releaseName,
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
	if w.Monitoring, err = monitoring.NewMonitoring(ctx, "monitoring", margs, opts...); err != nil {
		return nil, err
	}
	return w, nil
}

// chartSettings maps the stack config onto the app chart's settings.
func chartSettings(cfg *Config, t kubeTarget) app.ChartSettings {
	s := app.ChartSettings{
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
	}
	switch {
	case cfg.App.KEDA:
		// KEDA's ScaledObject owns the HPA; the chart renders none and leaves spec.replicas alone.
		s.Autoscaling = appScaling(cfg).ChartAutoscaling()
	case cfg.App.MaxReplicas > cfg.App.Replicas:
		s.Autoscaling = app.ChartAutoscaling{Enabled: true, MinReplicas: cfg.App.Replicas, MaxReplicas: cfg.App.MaxReplicas}
	}
	// Memory request and limit alike: the pod gets what config.go sized the workers for, and
	// is never the first to be evicted when its node runs short of memory.
	mem := fmt.Sprintf("%dMi", cfg.App.MemoryMiB)
	s.Resources.RequestsMemory, s.Resources.LimitsMemory = mem, mem
	return s
}

// scaleApp declares the app's ScaledObject: KEDA scales the app's Deployment on its request
// rate, and owns its HPA (exported as appHpaName).
func scaleApp(ctx *pulumi.Context, cfg *Config, provider *kubernetes.Provider, k *keda.KEDA, w *workloads) error {
	so, err := keda.NewScaledObject(ctx, "app-scaler", &keda.ScaledObjectArgs{
		Provider:      provider,
		KEDA:          k,
		Namespace:     w.App.Namespace,
		NamespaceName: cfg.App.Namespace,
		Deployment:    releaseName,
		Release:       w.App.Release,
		Scaling:       appScaling(cfg),
	})
	if err != nil {
		return err
	}
	ctx.Export("appHpaName", so.HPAName)
	return nil
}

// kedaClients are the namespaces whose pods query Prometheus: KEDA's, when it scales the app.
func kedaClients(cfg *Config) []string {
	if cfg.App.KEDA {
		return []string{keda.Namespace}
	}
	return nil
}

// appScaling is how KEDA scales the app: between appReplicas and appMaxReplicas, for
// kedaTargetRequestsPerSecond per pod.
func appScaling(cfg *Config) keda.Scaling {
	return keda.Scaling{
		MinReplicas:             cfg.App.Replicas,
		MaxReplicas:             cfg.App.MaxReplicas,
		TargetRequestsPerSecond: float64(cfg.App.KEDATargetRPS),
	}
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

// export writes the Kubernetes half's stack outputs. Without a domain the stack serves HTTP on
// the ALB's generated name: the mode output says so. imageRef is the image the app runs.
func (w *workloads) export(ctx *pulumi.Context, cfg *Config, imageRef pulumi.StringInput) {
	ctx.Export("imageRef", imageRef)
	ctx.Export("appUrl", w.App.AppURL)
	ctx.Export("configUrl", w.App.ConfigURL)
	ctx.Export("albHostname", w.App.Hostname)
	mode := "https on " + cfg.Ingress.Domain
	switch {
	case cfg.ClusterMode == modeExisting:
		mode = "local: an existing cluster, reached with kubectl port-forward or its own ingress"
	case cfg.Ingress.Domain == "":
		mode = "trial: plain HTTP on the load balancer's generated name; set domain and hostedZone for HTTPS on your own host name"
	}
	ctx.Export("mode", pulumi.String(mode))
	if w.Monitoring != nil {
		if cfg.Monitoring.Logs {
			ctx.Export("logsBucket", w.Monitoring.LogsBucket)
		}
		ctx.Export("grafanaUrl", w.Monitoring.GrafanaURL)
		ctx.Export("grafanaAdminUser", w.Monitoring.GrafanaAdminUser)
		ctx.Export("grafanaAdminPassword", w.Monitoring.GrafanaAdminPassword)
	}
}
