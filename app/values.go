package app

import "strings"

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
	// IngressEnabled renders an ALB Ingress; the component then fills ingress.className.
	IngressEnabled bool
	// ServiceType is ClusterIP (chart default), or NodePort/LoadBalancer for local stacks.
	ServiceType string
	// AlbGroupName puts the Ingress in an ALB IngressGroup; "" gives it its own ALB.
	AlbGroupName string
	// CertificateArn is an ACM certificate: HTTPS on 443 with HTTP redirected to it. "" → HTTP only.
	CertificateArn string
	// Autoscaling configures a CPU HorizontalPodAutoscaler.
	Autoscaling ChartAutoscaling
	// ServiceMonitor renders a prometheus-operator ServiceMonitor for /metrics.
	ServiceMonitor bool
	// ServiceAccountName names the pods' ServiceAccount, which the chart creates. "" → ReleaseName.
	ServiceAccountName string
	// Resources are the container's requests and limits.
	Resources ChartResources
}

// ChartAutoscaling configures the chart's HorizontalPodAutoscaler. When Enabled, the HPA owns the
// replica count (ChartSettings.Replicas is ignored); zero fields keep the chart defaults
// (2..10 pods at 70% CPU).
type ChartAutoscaling struct {
	Enabled     bool
	MinReplicas int
	MaxReplicas int
	// TargetCPU is the average CPU utilisation to aim for, in percent of the CPU request.
	TargetCPU int
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
//     (secret values never go into Helm values: Helm keeps those in its release history);
//   - ingress.className: the cluster's IngressClass, when IngressEnabled.
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

	ingress := map[string]any{
		"enabled":        s.IngressEnabled,
		"className":      "",
		"groupName":      s.AlbGroupName,
		"certificateArn": s.CertificateArn,
	}

	autoscaling := map[string]any{"enabled": s.Autoscaling.Enabled}
	putInt(autoscaling, "minReplicas", s.Autoscaling.MinReplicas)
	putInt(autoscaling, "maxReplicas", s.Autoscaling.MaxReplicas)
	putInt(autoscaling, "targetCPUUtilizationPercentage", s.Autoscaling.TargetCPU)

	requests, limits := map[string]any{}, map[string]any{}
	putString(requests, "cpu", s.Resources.RequestsCPU)
	putString(requests, "memory", s.Resources.RequestsMemory)
	putString(limits, "cpu", s.Resources.LimitsCPU)
	putString(limits, "memory", s.Resources.LimitsMemory)

	service := map[string]any{}
	putString(service, "type", s.ServiceType)

	values := map[string]any{
		"image":          map[string]any{"repository": "", "digest": "", "tag": ""},
		"secrets":        map[string]any{"existingSecret": ""},
		"config":         config,
		"ingress":        ingress,
		"autoscaling":    autoscaling,
		"serviceMonitor": map[string]any{"enabled": s.ServiceMonitor},
		"serviceAccount": map[string]any{"create": true, "name": s.ServiceAccountName},
		"resources":      map[string]any{"requests": requests, "limits": limits},
		"service":        service,
	}
	putString(values, "fullnameOverride", s.ReleaseName)
	putString(values, "environment", s.Environment)
	putInt(values, "replicaCount", s.Replicas)
	return values
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
