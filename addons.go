// The platform add-ons, all wired here: External Secrets (the app's Secret from Secrets
// Manager), metrics-server, ExternalDNS, and KEDA scaling the app. The add-on packages know
// neither the app nor monitoring; this file tells each what it needs of them.

package main

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/addons/dns"
	"github.com/example/flask-eks/addons/externalsecrets"
	"github.com/example/flask-eks/addons/keda"
	"github.com/example/flask-eks/addons/metricsserver"
	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/monitoring"
)

// platformAddons are the add-ons declared before the app: they need nothing of it.
type platformAddons struct {
	// Secrets keeps the app's secrets in AWS Secrets Manager; nil unless externalSecrets.
	Secrets *externalsecrets.ExternalSecrets
	// ExternalDNS writes the records of the ALBs' names; nil without a hosted zone.
	ExternalDNS *dns.ExternalDNS
}

// deployPlatformAddons declares External Secrets (when on), metrics-server, and ExternalDNS
// (with a hosted zone), all on the platform NodePool. Each waits for the cluster's classes, like
// every workload.
func deployPlatformAddons(ctx *pulumi.Context, cfg *Config, cloud *awsHalf) (*platformAddons, error) {
	cluster := cloud.Cluster
	classes := cluster.Classes.Resources()
	platform := eks.PlatformPlacement()
	api := cfg.apiServer()
	p := &platformAddons{}
	var err error
	if cfg.App.ExternalSecrets {
		// The operators are installed once the app's namespace exists (the app component hands
		// it to SyncInto): they are scoped to it.
		if p.Secrets, err = externalsecrets.New(ctx, "external-secrets", &externalsecrets.Args{
			Provider:        cluster.Provider,
			ClusterName:     cluster.ClusterName,
			Region:          cfg.Region,
			NamePrefix:      cfg.namePrefix(),
			RefreshInterval: cfg.App.SecretsRefreshInterval,
			APIServer:       api,
			// The viewers are the drift roles, whose refresh reads the secret's first version.
			Principals: externalsecrets.Principals{
				Deployer:   cfg.Cluster.DeployPrincipalArn,
				BreakGlass: cfg.App.SecretsBreakGlassPrincipalArn,
				Refreshers: cfg.Cluster.ViewerPrincipalArns,
			},
			Protect:   cfg.prod(),
			DependsOn: classes,
			Placement: platform,
		}, cloud.withProvider()); err != nil {
			return nil, err
		}
	}
	if _, err := metricsserver.New(ctx, "metrics-server", &metricsserver.Args{
		Provider: cluster.Provider, DependsOn: classes, Placement: platform,
	}); err != nil {
		return nil, err
	}
	if cloud.Zone != nil {
		if p.ExternalDNS, err = dns.NewExternalDNS(ctx, "external-dns", &dns.ExternalDNSArgs{
			Provider:    cluster.Provider,
			ClusterName: cluster.ClusterName,
			Region:      cfg.Region,
			Zone:        cloud.Zone,
			OwnerID:     cfg.namePrefix(),
			// Only the internet-facing ALBs get records: an internal ALB's name in a public
			// zone would publish the VPC's addresses and where the dashboards are.
			IngressClasses: publicClasses(cfg),
			Hosts:          publicHosts(cfg),
			APIServer:      api,
			DependsOn:      classes,
			Placement:      platform,
		}, cloud.withProvider()); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// publicClasses are the IngressClasses of the internet-facing ALBs: the app's, and Grafana's
// when it is public.
func publicClasses(cfg *Config) []string {
	if cfg.Ingress.GrafanaExposure == grafanaPublic {
		return []string{publicALBClass, grafanaALBClass}
	}
	return []string{publicALBClass}
}

// publicHosts are the host names of the Ingresses of publicClasses: the app's domain, and
// Grafana's when Grafana is public.
func publicHosts(cfg *Config) []string {
	hosts := []string{cfg.Ingress.Domain}
	if cfg.Ingress.GrafanaExposure == grafanaPublic && cfg.Ingress.GrafanaDomain != "" {
		hosts = append(hosts, cfg.Ingress.GrafanaDomain)
	}
	return hosts
}

// secretSource is where the app's Secret comes from: External Secrets, or nil for a Secret
// the app component writes itself.
func (p *platformAddons) secretSource() app.SecretSource {
	if p.Secrets == nil {
		return nil
	}
	return p.Secrets
}

// outputs are the add-ons' stack outputs.
func (p *platformAddons) outputs() outputs {
	if p.Secrets == nil {
		return nil
	}
	return outputs{"appSecretArn": p.Secrets.SecretArn, "appSecretName": p.Secrets.SecretName}
}

// prometheusClients are the namespaces whose pods query Prometheus: KEDA's, when it scales
// the app. Monitoring's policy admits them.
func prometheusClients(cfg *Config) []string {
	if cfg.App.KEDA {
		return []string{keda.Namespace}
	}
	return nil
}

// kedaPrometheus describes monitoring's Prometheus to KEDA.
func kedaPrometheus() keda.Prometheus {
	return keda.Prometheus{
		URL:       monitoring.PrometheusURL(monitoring.Namespace),
		Namespace: monitoring.Namespace,
		PodLabels: monitoring.PrometheusPodLabels(),
		Port:      monitoring.PrometheusPort,
	}
}

// scaleApp installs KEDA, watching the app's namespace, and the app's ScaledObject: KEDA scales
// the app's Deployment on its request rate and owns its HPA. It returns nil without keda.
func scaleApp(ctx *pulumi.Context, cfg *Config, cloud *awsHalf, w *workloads) (*keda.ScaledObject, error) {
	if !cfg.App.KEDA {
		return nil, nil
	}
	replicas := 1
	if cfg.prod() {
		replicas = 2
	}
	k, err := keda.New(ctx, "keda", &keda.Args{
		Provider:           cloud.Cluster.Provider,
		APIServer:          cfg.apiServer(),
		Prometheus:         kedaPrometheus(),
		WatchNamespace:     w.App.Namespace,
		WatchNamespaceName: cfg.App.Namespace,
		Replicas:           replicas,
		DependsOn:          cloud.Cluster.Classes.Resources(),
		Placement:          eks.PlatformPlacement(),
	})
	if err != nil {
		return nil, err
	}
	return newScaledObject(ctx, cfg, cloud.Cluster.Provider, k, w)
}

// newScaledObject declares the app's ScaledObject for an installed KEDA.
func newScaledObject(ctx *pulumi.Context, cfg *Config, provider *kubernetes.Provider, k *keda.KEDA, w *workloads) (*keda.ScaledObject, error) {
	return keda.NewScaledObject(ctx, "app-scaler", &keda.ScaledObjectArgs{
		Provider:      provider,
		KEDA:          k,
		Namespace:     w.App.Namespace,
		NamespaceName: cfg.App.Namespace,
		Deployment:    releaseName,
		Release:       w.App.Release,
		Scaling:       appScaling(cfg),
	})
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

// kedaChartAutoscaling is what the app chart must be told when KEDA scales the app: no HPA of
// its own and no spec.replicas (autoscaling.external; two HPAs on one Deployment fight over its
// replica count), and the same bounds, from which the chart decides whether a
// PodDisruptionBudget makes sense.
func kedaChartAutoscaling(s keda.Scaling) app.ChartAutoscaling {
	return app.ChartAutoscaling{External: true, MinReplicas: s.MinReplicas, MaxReplicas: s.MaxReplicas}
}
