package monitoring

import (
	"fmt"

	"github.com/example/flask-eks/internal/charts"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newAppObjects creates what watches the app: a PodMonitor in the app's namespace (the metrics
// are on the pods' admin port, which no Service exposes), the dashboard ConfigMap and the
// PrometheusRule. All wait for the release, which installs the CRDs, the operator's admission
// webhook and Grafana's dashboard sidecar; the app itself never waits for monitoring. The
// PodMonitor also depends on the app's namespace, so that it is deleted before it.
func newAppObjects(ctx *pulumi.Context, name string, ns *corev1.Namespace, args *MonitoringArgs, release *charts.Release,
	k8s func(...pulumi.ResourceOption) []pulumi.ResourceOption,
) error {
	assets, err := renderAssets(appAssetParams(args))
	if err != nil {
		return fmt.Errorf("rendering dashboard and rules: %w", err)
	}
	afterRelease := pulumi.DependsOn([]pulumi.Resource{release})

	monitorDeps := []pulumi.Resource{release}
	if args.App.Namespace != nil {
		monitorDeps = append(monitorDeps, args.App.Namespace)
	}
	if _, err := apiextensions.NewCustomResource(ctx, name+"-app-podmonitor", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("PodMonitor"),
		Metadata: &metav1.ObjectMetaArgs{
			// Its job label is "<namespace>/<name>", which the dashboard and rules select on.
			Name:      pulumi.String(args.App.Name),
			Namespace: pulumi.String(args.App.NamespaceName),
			Labels:    commonLabels(),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": podMonitorSpec(args.App)},
	}, k8s(pulumi.DependsOn(monitorDeps))...); err != nil {
		return fmt.Errorf("creating the app's PodMonitor: %w", err)
	}

	if _, err := corev1.NewConfigMap(ctx, name+"-dashboard", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(args.App.Name + "-dashboard"),
			Namespace: ns.Metadata.Name(),
			Labels:    withLabel(commonLabels(), DashboardLabel, DashboardLabelValue),
		},
		Data: pulumi.StringMap{args.App.Name + ".json": pulumi.String(assets.dashboardJSON)},
	}, k8s(afterRelease)...); err != nil {
		return fmt.Errorf("creating dashboard ConfigMap: %w", err)
	}

	if _, err := apiextensions.NewCustomResource(ctx, name+"-alerts", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("PrometheusRule"),
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(args.App.Name + "-alerts"),
			Namespace: ns.Metadata.Name(),
			Labels:    commonLabels(),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": assets.ruleSpec},
	}, k8s(afterRelease)...); err != nil {
		return fmt.Errorf("creating PrometheusRule: %w", err)
	}
	return nil
}

// appAssetParams fills the dashboard and rule templates for args.App.
func appAssetParams(args *MonitoringArgs) assetParams {
	label := args.App.PodLabels[appNameLabel]
	if label == "" {
		label = args.App.Name
	}
	return assetParams{AppNamespace: args.App.NamespaceName, AppName: args.App.Name, AppLabel: label, Logs: args.Logs.Enabled}
}

// podMonitorSpec scrapes /metrics on the admin port of the app's pods, in their namespace only.
func podMonitorSpec(app AppTarget) map[string]any {
	labels := map[string]any{}
	for k, v := range app.PodLabels {
		labels[k] = v
	}
	return map[string]any{
		"selector":          map[string]any{"matchLabels": labels},
		"namespaceSelector": map[string]any{"matchNames": []any{app.NamespaceName}},
		"podMetricsEndpoints": []any{map[string]any{
			"port": appAdminPortName, "path": "/metrics", "interval": "30s",
		}},
	}
}

func withLabel(m pulumi.StringMap, k, v string) pulumi.StringMap {
	m[k] = pulumi.String(v)
	return m
}
