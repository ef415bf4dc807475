package keda

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The app's request counter (app-src/app/metrics.py: app_http_requests{method,route,status},
// exposed as app_http_requests_total) and the window its rate is taken over: four scrapes of the
// PodMonitor's 30 s interval (monitoring/appobjects.go), so that one missed scrape does not
// empty the rate.
const (
	RequestsMetric = "app_http_requests_total"
	RateWindow     = "2m"
)

// Timing of the ScaledObject and the HPA KEDA makes from it; see ScaledObjectSpec.
const (
	pollingIntervalSeconds = 30  // = the scrape interval: polling faster sees the same samples
	cooldownPeriodSeconds  = 300 // KEDA's default; it only governs 1 -> 0, which MinReplicas >= 1 rules out
	fallbackFailures       = 3   // consecutive failed queries before the fallback applies
	scaleUpPeriodSeconds   = 30  // scale-up policies' period
	scaleDownWindowSeconds = 300 // the HPA's default scale-down stabilisation, stated
	scaleDownPeriodSeconds = 60  // scale-down policies' period
	scaleUpPercent         = 100 // at most double ...
	scaleUpPods            = 4   // ... or add 4 pods, whichever is more, per 30 s
	scaleDownPercent       = 25  // at most a quarter (rounded down, at least one pod from 2 up) per 60 s
	defaultHPANamePrefix   = "keda-hpa-"
)

// Scaling is how the app scales: plain values, known at preview, from the stack config.
type Scaling struct {
	// MinReplicas and MaxReplicas bound the pod count. MinReplicas is at least 1: with 0 the
	// first request after an idle spell would find no pod, and nothing queues it.
	MinReplicas, MaxReplicas int
	// TargetRequestsPerSecond is the request rate one pod should serve. KEDA passes it to the HPA
	// as an AverageValue target, so the HPA runs ceil(total rate / target) pods. Keep it well
	// under what a pod can serve: the counter counts handled requests, so a saturated fleet
	// reports its capacity, which must still exceed target x pods for the HPA to add more.
	TargetRequestsPerSecond float64
	// FallbackReplicas is the floor while the request rate cannot be read (Prometheus down or the
	// app's series gone): the app keeps its current count if that is higher, else scales to
	// this. 0 means MinReplicas, which freezes the count as it was.
	FallbackReplicas int
}

// Validate checks the bounds; the stack config's validation can call it.
func (s Scaling) Validate() error {
	switch {
	case s.MinReplicas < 1:
		return fmt.Errorf("minimum replicas must be at least 1, got %d", s.MinReplicas)
	case s.MaxReplicas < s.MinReplicas:
		return fmt.Errorf("maximum replicas (%d) must not be below the minimum (%d)", s.MaxReplicas, s.MinReplicas)
	case !(s.TargetRequestsPerSecond > 0):
		return fmt.Errorf("the target request rate per pod must be positive, got %v", s.TargetRequestsPerSecond)
	case s.FallbackReplicas != 0 && (s.FallbackReplicas < s.MinReplicas || s.FallbackReplicas > s.MaxReplicas):
		return fmt.Errorf("fallback replicas (%d) must lie between the minimum (%d) and the maximum (%d)",
			s.FallbackReplicas, s.MinReplicas, s.MaxReplicas)
	}
	return nil
}

func (s Scaling) fallbackReplicas() int {
	if s.FallbackReplicas == 0 {
		return s.MinReplicas
	}
	return s.FallbackReplicas
}

// ScaledObjectArgs configures NewScaledObject.
type ScaledObjectArgs struct {
	// Provider is the Kubernetes provider of the target cluster.
	Provider *kubernetes.Provider
	// KEDA must be installed first: its CRDs, its admission webhook, and the Prometheus the
	// operator may reach.
	KEDA *KEDA
	// Namespace is the app's namespace (the object, so that the ScaledObject is deleted before
	// it); NamespaceName is its name, known at preview.
	Namespace     *corev1.Namespace
	NamespaceName string
	// Deployment is the app's Deployment: the chart names it after the release (fullnameOverride),
	// and monitoring names the app's PodMonitor the same, so its series carry
	// job="<namespace>/<Deployment>".
	Deployment string
	// Release is the app's Helm release, which creates the Deployment.
	Release pulumi.Resource
	// Scaling bounds and targets the scaling.
	Scaling Scaling
	// HPAName overrides the name of the HPA KEDA creates; "" keeps KEDA's keda-hpa-<name>.
	HPAName string
}

// ScaledObject is the app's KEDA ScaledObject.
type ScaledObject struct {
	pulumi.ResourceState

	// Object is the keda.sh/v1alpha1 ScaledObject.
	Object *apiextensions.CustomResource
	// Query is the PromQL the trigger runs.
	Query string

	Name pulumi.StringOutput `pulumi:"name"`
	// HPAName is the HorizontalPodAutoscaler KEDA creates and owns for the Deployment:
	// `kubectl get hpa <HPAName>` shows the live target and replica count.
	HPAName pulumi.StringOutput `pulumi:"hpaName"`
}

// NewScaledObject declares a ScaledObject, named after the Deployment, in the app's namespace,
// that scales the Deployment between Scaling's bounds on the app's request rate: KEDA's
// Prometheus scaler runs RequestRateQuery against the Prometheus of args.KEDA, and KEDA creates
// and owns an HPA (HPAName) with the rate as an external AverageValue metric.
//
// It waits for the KEDA chart (CRDs, webhook, operator) and for the app's release (the
// Deployment). The app chart must then render no HPA of its own (main.go tells it so):
// two HPAs on one Deployment fight over its replica count.
func NewScaledObject(ctx *pulumi.Context, name string, args *ScaledObjectArgs, opts ...pulumi.ResourceOption) (*ScaledObject, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("scaled object %q: %w", name, err)
	}
	s := &ScaledObject{Query: RequestRateQuery(args.NamespaceName, args.Deployment)}
	if err := ctx.RegisterComponentResource("flask-eks:keda:ScaledObject", name, s, opts...); err != nil {
		return nil, fmt.Errorf("registering scaled object %q: %w", name, err)
	}
	obj, err := apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("keda.sh/v1alpha1"),
		Kind:       pulumi.String("ScaledObject"),
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(args.Deployment),
			Namespace: args.Namespace.Metadata.Name(),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": ScaledObjectSpec(args, args.KEDA.PrometheusURL)},
	}, pulumi.Parent(s), pulumi.Provider(args.Provider),
		pulumi.DependsOn(args.dependencies()))
	if err != nil {
		return nil, fmt.Errorf("scaled object %q: creating the ScaledObject: %w", name, err)
	}
	s.Object = obj
	s.Name = obj.Metadata.Name().Elem()
	hpa := args.HPAName
	if hpa == "" {
		// KEDA's default: controllers/keda/hpa.go getDefaultHpaName at v2.20.2.
		hpa = defaultHPANamePrefix + args.Deployment
	}
	// Derived from the object's name output, so that it resolves once the ScaledObject exists.
	s.HPAName = s.Name.ApplyT(func(string) string { return hpa }).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"name": s.Name, "hpaName": s.HPAName}); err != nil {
		return nil, fmt.Errorf("scaled object %q: registering outputs: %w", name, err)
	}
	return s, nil
}

func (a *ScaledObjectArgs) validate() error {
	switch {
	case a == nil || a.Provider == nil:
		return fmt.Errorf("an explicit Kubernetes provider is required")
	case a.KEDA == nil:
		return fmt.Errorf("KEDA is required: the ScaledObject's CRD and webhook come with it")
	case a.Namespace == nil || a.NamespaceName == "" || a.Deployment == "" || a.Release == nil:
		return fmt.Errorf("the app's namespace (object and name), Deployment and release are required")
	}
	return a.Scaling.Validate()
}

// dependencies are what the ScaledObject waits for: KEDA's chart (when this program installs
// it), the app's release and its namespace.
func (a *ScaledObjectArgs) dependencies() []pulumi.Resource {
	deps := []pulumi.Resource{a.Release, a.Namespace}
	if a.KEDA.Chart != nil {
		deps = append(deps, a.KEDA.Chart)
	}
	return deps
}

// RequestRateQuery is the app's request rate in requests per second, summed over all its pods:
// one number, as KEDA's Prometheus scaler requires (it refuses a result of several series).
// The selectors are the dashboard's and the alert rules' (monitoring/dashboard.json, rules.yaml):
// the app's namespace and its PodMonitor's job, "<namespace>/<name>".
func RequestRateQuery(namespace, name string) string {
	return fmt.Sprintf(`sum(rate(%s{namespace=%q, job=%q}[%s]))`, RequestsMetric, namespace, namespace+"/"+name, RateWindow)
}

// ScaledObjectSpec is the ScaledObject's spec (keda.sh/v1alpha1, checked against KEDA's Go types
// at v2.20.2 by the tests):
//
//   - scaleTargetRef: the app's Deployment.
//   - minReplicaCount/maxReplicaCount: Scaling's bounds.
//   - triggers: one Prometheus trigger (pkg/scalers/prometheus_scaler.go at v2.20.2) running
//     RequestRateQuery against prometheusURL; metricType AverageValue with threshold = the
//     per-pod target, so the HPA runs ceil(rate / target) pods whatever the current count.
//     ignoreNullValues is false: an empty result means the app's series are gone (scraping
//     broken; the ALB's health checks alone keep them non-empty), and is an error rather than
//     "no traffic", which would scale a loaded app down to its minimum.
//   - fallback: after 3 consecutive failed queries (Prometheus unreachable, or the empty result
//     above), currentReplicasIfHigher with Scaling's fallback replicas: never scale down while
//     blind, and rise to the floor if below it. Until then the HPA gets no value and holds the
//     count.
//   - pollingInterval 30 s: the scrape interval. cooldownPeriod 300 s, KEDA's default, stated:
//     it only delays scaling to zero, which MinReplicas >= 1 rules out.
//   - advanced.horizontalPodAutoscalerConfig.behavior, against flapping:
//     scale up at once (no stabilisation window: the 2-minute rate already smooths bursts, and
//     the target does not depend on the pod count, so adding pods cannot feed back into the
//     metric), by at most 100% or 4 pods, whichever is more, per 30 s (time for Auto Mode to
//     bring nodes); scale down only to the highest recommendation of the last 300 s (a dip
//     must last five minutes), by at most 25% per 60 s (the HPA rounds 75% of the pods down:
//     10 -> 7, 3 -> 2), so the end of a burst sheds pods over minutes, not at once.
func ScaledObjectSpec(args *ScaledObjectArgs, prometheusURL string) map[string]any {
	s := args.Scaling
	hpaConfig := map[string]any{
		"behavior": map[string]any{
			"scaleUp": map[string]any{
				"stabilizationWindowSeconds": 0,
				"selectPolicy":               "Max",
				"policies": []any{
					map[string]any{"type": "Percent", "value": scaleUpPercent, "periodSeconds": scaleUpPeriodSeconds},
					map[string]any{"type": "Pods", "value": scaleUpPods, "periodSeconds": scaleUpPeriodSeconds},
				},
			},
			"scaleDown": map[string]any{
				"stabilizationWindowSeconds": scaleDownWindowSeconds,
				"policies": []any{
					map[string]any{"type": "Percent", "value": scaleDownPercent, "periodSeconds": scaleDownPeriodSeconds},
				},
			},
		},
	}
	if args.HPAName != "" {
		hpaConfig["name"] = args.HPAName
	}
	return map[string]any{
		"scaleTargetRef":  map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": args.Deployment},
		"pollingInterval": pollingIntervalSeconds,
		"cooldownPeriod":  cooldownPeriodSeconds,
		"minReplicaCount": s.MinReplicas,
		"maxReplicaCount": s.MaxReplicas,
		"fallback": map[string]any{
			"failureThreshold": fallbackFailures,
			"replicas":         s.fallbackReplicas(),
			"behavior":         "currentReplicasIfHigher",
		},
		"advanced": map[string]any{"horizontalPodAutoscalerConfig": hpaConfig},
		"triggers": []any{map[string]any{
			"type":       "prometheus",
			"metricType": "AverageValue",
			"metadata": map[string]any{
				"serverAddress":    prometheusURL,
				"query":            RequestRateQuery(args.NamespaceName, args.Deployment),
				"threshold":        strconv.FormatFloat(s.TargetRequestsPerSecond, 'f', -1, 64),
				"ignoreNullValues": "false",
			},
		}},
	}
}
