package app

import (
	"strings"

	"github.com/example/flask-eks/internal/kube"
)

// ChartSettings are the plain, preview-known settings the app component turns into values of the
// flask-app chart (app/chart). A zero value leaves the chart's default (values.yaml) in place.
type ChartSettings struct {
	// Environment is the stack's environment (dev, prod, local, ...). With "prod" the chart's
	// schema refuses RevealSecrets.
	Environment string
	// ReleaseName is the Helm release name; it is also the chart's fullnameOverride, so every
	// object (Deployment, Service, ServiceAccount, ...) is named exactly ReleaseName.
	ReleaseName string
	// Replicas is the pod count without autoscaling (chart default 1).
	Replicas int
	// LogLevel is DEBUG, INFO, WARNING or ERROR, in any case (chart default INFO).
	LogLevel string
	// APIBaseURL is the app's upstream API, an http(s) URL. The chart refuses to render without it.
	APIBaseURL string
	// MaxConnections, GunicornWorkers and GunicornThreads size the app (chart defaults 10, 2, 4).
	MaxConnections  int
	GunicornWorkers int
	GunicornThreads int
	// RevealSecrets makes /config show secrets unmasked: for local debugging, never prod.
	RevealSecrets bool
	// AppVersion is the version the app reports (APP_VERSION) and its app.kubernetes.io/version
	// label. Empty: the image tag, else the chart's appVersion.
	AppVersion string
	// ServiceType is ClusterIP (chart default), or NodePort/LoadBalancer for local stacks.
	ServiceType string
	// Ingress is the app's ALB Ingress; the component fills in its class.
	Ingress ChartIngress
	// Autoscaling configures who owns the replica count.
	Autoscaling ChartAutoscaling
	// Resources are the container's requests and limits.
	Resources ChartResources
	// ALBSourceCIDRs are the networks the ALB's nodes send from (its subnets). The chart's
	// NetworkPolicy admits only them to the public port; empty admits everyone.
	ALBSourceCIDRs []string
	// InternetCIDRs are the networks the app may reach on 443 (its upstream API, AWS APIs), with
	// the EKS Pod Identity agent on 80 beside them; nil keeps the chart's default egress.
	InternetCIDRs []string
	// ReloadOnChange asks Stakater Reloader to roll the pods when the Secret changes in place
	// (External Secrets keeps it in sync with AWS Secrets Manager).
	ReloadOnChange bool
	// Placement puts the pods on the cluster's app NodePool (values nodeSelector and
	// tolerations); the zero Placement leaves them to the scheduler.
	Placement kube.Placement
}

// ChartIngress is the app's Ingress.
type ChartIngress struct {
	// Enabled renders an ALB Ingress. Behind an ALB the app trusts one X-Forwarded-For hop.
	Enabled bool
	// Host is the rule's host name; "" matches the ALB's generated name.
	Host string
	// HTTPS listens on 443 with HTTP redirected; the certificate is on the IngressClass.
	HTTPS bool
}

// ChartAutoscaling configures the replica count's owner. Zero min/max keep the chart defaults.
type ChartAutoscaling struct {
	// Enabled renders the chart's CPU HorizontalPodAutoscaler.
	Enabled bool
	// External means another autoscaler (a KEDA ScaledObject) owns the HPA: the chart renders
	// none and leaves spec.replicas out.
	External    bool
	MinReplicas int
	MaxReplicas int
}

// ChartResources are Kubernetes quantities ("250m", "256Mi"). Empty ones keep the chart defaults:
// requests 100m CPU and 128Mi memory, a 256Mi memory limit and no CPU limit.
type ChartResources struct {
	RequestsCPU    string
	RequestsMemory string
	LimitsCPU      string
	LimitsMemory   string
}

// ChartValues returns the chart values for s, as plain Go values only: nested objects are
// map[string]any, and leaves are strings, ints and bools, so they convert directly to Pulumi
// inputs and pass the chart's JSON schema.
//
// Values only known at deployment are left as empty placeholders for the component to overwrite;
// the chart refuses to render while they are still empty:
//   - image.repository, image.digest ("sha256:…"), image.tag: the image (digest wins over tag);
//   - secrets.existingSecret: the Secret holding the app's secrets, which the component creates
//     or External Secrets syncs (secret values never go into Helm values: Helm keeps those in its
//     release history);
//   - ingress.className: the cluster's IngressClass, when the Ingress is enabled;
//   - chartDigest: the hash of the chart's files.
func ChartValues(s ChartSettings) map[string]any {
	config := map[string]any{
		"API_BASE_URL":   s.APIBaseURL,
		"REVEAL_SECRETS": s.RevealSecrets,
	}
	putString(config, "LOG_LEVEL", strings.ToUpper(s.LogLevel))
	putInt(config, "MAX_CONNECTIONS", s.MaxConnections)
	putInt(config, "GUNICORN_WORKERS", s.GunicornWorkers)
	putInt(config, "GUNICORN_THREADS", s.GunicornThreads)
	putString(config, "APP_VERSION", s.AppVersion)
	if s.Ingress.Enabled {
		// The ALB appends the client's address to X-Forwarded-For; the app logs it.
		config["TRUSTED_PROXY_HOPS"] = 1
	}

	ingress := map[string]any{
		"enabled":   s.Ingress.Enabled,
		"className": "",
		"host":      s.Ingress.Host,
		"https":     s.Ingress.HTTPS,
	}

	autoscaling := map[string]any{"enabled": s.Autoscaling.Enabled, "external": s.Autoscaling.External}
	putInt(autoscaling, "minReplicas", s.Autoscaling.MinReplicas)
	putInt(autoscaling, "maxReplicas", s.Autoscaling.MaxReplicas)

	requests, limits := map[string]any{}, map[string]any{}
	putString(requests, "cpu", s.Resources.RequestsCPU)
	putString(requests, "memory", s.Resources.RequestsMemory)
	putString(limits, "cpu", s.Resources.LimitsCPU)
	putString(limits, "memory", s.Resources.LimitsMemory)

	service := map[string]any{}
	putString(service, "type", s.ServiceType)

	httpFrom := []any{}
	for _, cidr := range s.ALBSourceCIDRs {
		httpFrom = append(httpFrom, map[string]any{"ipBlock": map[string]any{"cidr": cidr}})
	}

	networkPolicy := map[string]any{"enabled": true, "httpFrom": httpFrom}
	if len(s.InternetCIDRs) > 0 {
		var to []any
		for _, cidr := range s.InternetCIDRs {
			to = append(to, map[string]any{"ipBlock": map[string]any{"cidr": cidr}})
		}
		tcp := func(port int) []any { return []any{map[string]any{"port": port, "protocol": "TCP"}} }
		networkPolicy["egress"] = []any{
			map[string]any{"to": to, "ports": tcp(443)},
			map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": podIdentityAgentCIDR}}}, "ports": tcp(80)},
		}
	}

	values := map[string]any{
		"image":         map[string]any{"repository": "", "digest": "", "tag": ""},
		"secrets":       map[string]any{"existingSecret": "", "reloadOnChange": s.ReloadOnChange},
		"config":        config,
		"ingress":       ingress,
		"autoscaling":   autoscaling,
		"resources":     map[string]any{"requests": requests, "limits": limits},
		"service":       service,
		"networkPolicy": networkPolicy,
		// The component deploys the PodMonitor itself, once monitoring's CRDs exist.
		"podMonitor":  map[string]any{"enabled": false},
		"chartDigest": "",
	}
	for k, v := range s.Placement.Values() {
		values[k] = v
	}
	putString(values, "fullnameOverride", s.ReleaseName)
	putString(values, "environment", s.Environment)
	putInt(values, "replicaCount", s.Replicas)
	return values
}

// podIdentityAgentCIDR is the EKS Pod Identity agent on the pod's node
// (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html), which hands out
// the app's AWS credentials.
const podIdentityAgentCIDR = "169.254.170.23/32"

// SelectorLabels are the labels the chart's selectors match the app's pods by, for objects
// made outside the chart (a PodMonitor, a NetworkPolicy peer).
func SelectorLabels(releaseName string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     chartName,
		"app.kubernetes.io/instance": releaseName,
	}
}

// putString sets m[key] unless v is empty, so that the chart default applies.
func putString(m map[string]any, key, v string) {
	if v != "" {
		m[key] = v
	}
}

// putInt sets m[key] unless v is zero, so that the chart default applies.
func putInt(m map[string]any, key string, v int) {
	if v != 0 {
		m[key] = v
	}
}
