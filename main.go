// Command flask-eks is a Pulumi program that stands up a Flask app on AWS with one
// `pulumi up`: a VPC, an EKS Auto Mode cluster, an ECR repository and image, the app as a
// Helm release behind an internet-facing ALB, and kube-prometheus-stack watching it.
//
// With clusterMode "existing" it skips the AWS half and deploys the same app and monitoring
// components into an existing cluster (kind, minikube) selected by a kubeconfig context.
package main

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/monitoring"
	"github.com/example/flask-eks/vpc"
)

// Names shared by the components.
const (
	releaseName         = "flask-app"
	chartPath           = "./app/chart"
	appSourceDir        = "app-src"
	imagePlatform       = "linux/amd64"
	ingressClassName    = "alb"
	storageClassName    = "gp3"
	monitoringNamespace = "monitoring"
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

// deployToEKS builds the AWS half (network, cluster, registry) and then the Kubernetes half.
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

	network, err := vpc.NewNetwork(ctx, "network", &vpc.NetworkArgs{
		CidrBlock:  cfg.Network.VpcCidr,
		AzCount:    cfg.Network.AzCount,
		NatMode:    cfg.Network.NatMode,
		Region:     cfg.Region,
		NamePrefix: cfg.namePrefix(),
	}, withAWS)
	if err != nil {
		return err
	}

	cluster, err := eks.NewCluster(ctx, "cluster", &eks.ClusterArgs{
		Name:                 cfg.namePrefix(),
		Version:              cfg.Cluster.KubernetesVersion,
		VpcID:                network.VpcID,
		PrivateSubnetIDs:     network.PrivateSubnetIDs,
		EgressReady:          network.PrivateEgress,
		EndpointPublicAccess: cfg.Cluster.EndpointPublicAccess,
		PublicAccessCidrs:    cfg.Cluster.PublicAccessCidrs,
		LogTypes:             cfg.Cluster.LogTypes,
		AdminPrincipalArns:   cfg.Cluster.AdminPrincipalArns,
		ViewerPrincipalArns:  cfg.Cluster.ViewerPrincipalArns,
		StorageClassName:     storageClassName,
		IngressClassName:     ingressClassName,
	}, withAWS)
	if err != nil {
		return err
	}

	w, err := deployKubernetes(ctx, cfg, kubeTarget{
		Provider:         cluster.Provider,
		IngressClassName: cluster.IngressClassName,
		StorageClassName: cluster.StorageClassName,
		Classes:          []pulumi.Resource{cluster.Classes.StorageClass, cluster.Classes.IngressClass},
		ClusterName:      cluster.ClusterName,
		Build: &app.BuildArgs{
			RepositoryName: cfg.namePrefix() + "/" + releaseName,
			Context:        appSourceDir,
			Platform:       imagePlatform,
			KeepImages:     cfg.Registry.KeepImages,
			ForceDelete:    cfg.Registry.ForceDelete,
		},
		ServiceMonitor: cfg.Monitoring.Enabled,
	}, withAWS)
	if err != nil {
		return err
	}

	ctx.Export("vpcId", network.VpcID)
	ctx.Export("publicSubnetIds", network.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", network.PrivateSubnetIDs)
	ctx.Export("availabilityZones", network.AvailabilityZones)
	ctx.Export("clusterName", cluster.ClusterName)
	ctx.Export("kubeconfig", cluster.Kubeconfig)
	ctx.Export("oidcProviderArn", cluster.OidcProviderArn)
	ctx.Export("oidcIssuer", cluster.OidcIssuer)
	ctx.Export("repositoryUrl", w.App.RepositoryURL)
	w.export(ctx)
	return nil
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
	t := kubeTarget{Provider: provider, ServiceMonitor: cfg.Monitoring.Enabled}
	if cfg.App.IngressClassName != "" {
		t.IngressClassName = pulumi.String(cfg.App.IngressClassName)
	}
	w, err := deployKubernetes(ctx, cfg, t)
	if err != nil {
		return err
	}
	w.export(ctx)
	return nil
}

// kubeTarget is what the Kubernetes half needs from wherever the cluster came from.
type kubeTarget struct {
	Provider *kubernetes.Provider
	// IngressClassName is nil when the app and Grafana get no Ingress.
	IngressClassName pulumi.StringInput
	// StorageClassName is nil to use the cluster's default StorageClass.
	StorageClassName pulumi.StringInput
	// Classes must exist before any workload and be deleted after them.
	Classes []pulumi.Resource
	// ClusterName is the EKS cluster, for Pod Identity; nil elsewhere.
	ClusterName pulumi.StringInput
	// Build builds the image into ECR; nil deploys cfg.App.Image.
	Build *app.BuildArgs
	// ServiceMonitor renders the app's ServiceMonitor; the cluster must have its CRD.
	ServiceMonitor bool
	// SkipAwait deploys without waiting for pods (API servers without nodes).
	SkipAwait bool
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
// against a real API server all call it.
func deployKubernetes(ctx *pulumi.Context, cfg *Config, t kubeTarget, opts ...pulumi.ResourceOption) (*workloads, error) {
	secretKey, dbPassword, err := appSecrets(ctx, cfg)
	if err != nil {
		return nil, err
	}
	w := &workloads{}
	releaseDeps := append([]pulumi.Resource{}, t.Classes...)

	if cfg.Monitoring.Enabled {
		w.Monitoring, err = monitoring.NewMonitoring(ctx, "monitoring", &monitoring.MonitoringArgs{
			Provider:              t.Provider,
			Namespace:             monitoringNamespace,
			StorageClassName:      t.StorageClassName,
			StorageDependsOn:      t.Classes,
			IngressClassName:      t.IngressClassName,
			AlbGroupName:          cfg.App.AlbGroupName,
			CertificateArn:        cfg.App.CertificateArn,
			PrometheusRetention:   cfg.Monitoring.PrometheusRetention,
			PrometheusStorageSize: cfg.Monitoring.PrometheusStorageSize,
			GrafanaStorageSize:    cfg.Monitoring.GrafanaStorageSize,
			NodeExporter:          cfg.Monitoring.NodeExporter,
			AppNamespace:          cfg.App.Namespace,
			AppName:               releaseName,
		}, opts...)
		if err != nil {
			return nil, err
		}
		// The app's ServiceMonitor is in its release; its CRD comes with this release.
		releaseDeps = append(releaseDeps, w.Monitoring.Release)
	}

	if t.ChartPath == "" {
		t.ChartPath = chartPath
	}
	args := &app.AppArgs{
		Provider:         t.Provider,
		Namespace:        cfg.App.Namespace,
		ChartPath:        t.ChartPath,
		Settings:         chartSettings(cfg, t),
		IngressClassName: t.IngressClassName,
		SecretKey:        secretKey,
		DBPassword:       dbPassword,
		ReleaseDependsOn: releaseDeps,
		SkipAwait:        t.SkipAwait,
		Build:            t.Build,
	}
	if t.Build == nil {
		args.Image = cfg.App.Image
	}
	if len(cfg.App.PodIdentityPolicyArns) > 0 && t.ClusterName != nil {
		args.PodIdentity = &app.PodIdentityArgs{ClusterName: t.ClusterName, PolicyArns: cfg.App.PodIdentityPolicyArns}
	}
	w.App, err = app.NewApp(ctx, "app", args, opts...)
	if err != nil {
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
		IngressEnabled:  t.IngressClassName != nil,
		ServiceType:     cfg.App.ServiceType,
		AlbGroupName:    cfg.App.AlbGroupName,
		CertificateArn:  cfg.App.CertificateArn,
		ServiceMonitor:  t.ServiceMonitor,
	}
	// Memory request and limit alike: the pod gets what config.go sized the workers for, and
	// is never the first to be evicted when its node runs short of memory.
	mem := fmt.Sprintf("%dMi", cfg.App.MemoryMiB)
	s.Resources.RequestsMemory, s.Resources.LimitsMemory = mem, mem
	s.Autoscaling.Enabled = cfg.App.MaxReplicas > cfg.App.Replicas
	s.Autoscaling.MinReplicas = cfg.App.Replicas
	s.Autoscaling.MaxReplicas = cfg.App.MaxReplicas
	s.Autoscaling.TargetCPU = 70
	return s
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

// export writes the Kubernetes half's stack outputs.
func (w *workloads) export(ctx *pulumi.Context) {
	ctx.Export("appUrl", w.App.AppURL)
	ctx.Export("configUrl", w.App.ConfigURL)
	ctx.Export("albHostname", w.App.Hostname)
	ctx.Export("imageRef", w.App.ImageRef)
	ctx.Export("imageDigest", w.App.ImageDigest)
	if w.Monitoring != nil {
		ctx.Export("grafanaUrl", w.Monitoring.GrafanaURL)
		ctx.Export("grafanaAdminUser", w.Monitoring.GrafanaAdminUser)
		ctx.Export("grafanaAdminPassword", w.Monitoring.GrafanaAdminPassword)
	}
}
