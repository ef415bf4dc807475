// Command flask-eks is a Pulumi program that stands up a Flask app on AWS with one
// `pulumi up`: a VPC, an EKS Auto Mode cluster, an ECR repository and image, the app as a Helm
// release behind an internet-facing ALB on its own domain, kube-prometheus-stack and Loki
// watching it, and the platform add-ons (DNS and TLS with ExternalDNS, External Secrets with
// Reloader, KEDA, metrics-server).
//
// The program reads like the architecture:
//
//	config ─▶ AWS half (aws.go): provider, network ─▶ cluster; image and certificate beside them
//	       ─▶ platform add-ons (addons.go): External Secrets, metrics-server, ExternalDNS
//	       ─▶ Kubernetes half (kubernetes.go): the app, then monitoring
//	       ─▶ KEDA scaling the app (addons.go)
//	       ─▶ stack outputs (outputs.go)
//
// With clusterMode "existing" it skips the AWS half and the add-ons and deploys the same app and
// monitoring into an existing cluster (kind, minikube) selected by a kubeconfig context.
package main

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Names shared by the components.
const (
	releaseName      = "flask-app"
	chartPath        = "./app/chart"
	appSourceDir     = "app-src"
	imagePlatform    = "linux/amd64"
	storageClassName = "gp3"
	// The ALB IngressClasses: the app's internet-facing one, and Grafana's, internal or public.
	publicALBClass   = "alb"
	internalALBClass = "alb-internal"
	grafanaALBClass  = "alb-grafana"
)

func main() {
	pulumi.Run(newProgram(time.Now, false))
}

// newProgram is the whole Pulumi program. today dates the Kubernetes version checks: the
// running program passes time.Now, tests a fixed day. plan marks runs that only plan, like
// `pulumi preview`: the mock runs of the tests and of `make graph`, which take the committed
// stack files' example values as they are.
func newProgram(today func() time.Time, plan bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		out, err := deploy(ctx, today(), !plan && !ctx.DryRun())
		if err != nil {
			return err
		}
		return out.export(ctx)
	}
}

// deploy declares every resource of the stack and returns its outputs. It reads and validates
// all config first, so bad config fails before a single resource is declared; a deployment
// (not a preview) also refuses the example values of the committed stack files.
func deploy(ctx *pulumi.Context, today time.Time, deploying bool) (outputs, error) {
	cfg, err := readConfig(ctx.Project(), ctx.Stack(), contextConfig{ctx}, today)
	if err != nil {
		return nil, err
	}
	if deploying {
		if err := refusePlaceholders(cfg); err != nil {
			return nil, err
		}
	}
	for _, w := range cfg.Warnings {
		if err := ctx.Log.Warn(w, nil); err != nil {
			return nil, err
		}
	}

	if cfg.ClusterMode == modeExisting {
		target, err := existingCluster(ctx, cfg)
		if err != nil {
			return nil, err
		}
		w, err := deployKubernetes(ctx, cfg, target)
		if err != nil {
			return nil, err
		}
		return workloadOutputs(cfg, w, pulumi.String(cfg.App.Image)), nil
	}

	cloud, err := deployAWS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	platform, err := deployPlatformAddons(ctx, cfg, cloud)
	if err != nil {
		return nil, err
	}
	// The components' AWS children (Pod Identity roles) take the tagged provider from here.
	w, err := deployKubernetes(ctx, cfg, eksTarget(cfg, cloud, platform), cloud.withProvider())
	if err != nil {
		return nil, err
	}
	scaler, err := scaleApp(ctx, cfg, cloud, w)
	if err != nil {
		return nil, err
	}

	out := awsOutputs(cfg, cloud)
	out.add(platform.outputs())
	out.add(workloadOutputs(cfg, w, cloud.Image.Ref))
	if scaler != nil {
		out["appHpaName"] = scaler.HPAName
	}
	return out, nil
}
