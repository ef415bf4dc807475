package externalsecrets

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/netpol"
)

// OperatorChart is External Secrets Operator's chart at the published release helm-chart-2.9.0
// (https://github.com/external-secrets/external-secrets/releases/tag/helm-chart-2.9.0, commit
// cc5bfbc2234ace9cb0caff4ea89c435cf517b27b, app v2.9.0), from the chart repository its README
// names. It serves the API external-secrets.io/v1 (v1beta1 is not served unless
// crds.unsafeServeV1Beta1). No template carries a Helm hook, and there is no lookup or gen*
// call, so it is a Pulumi Chart v4 (addon.Install): Pulumi diffs and awaits each object, and
// the SecretStore can wait for the webhook's Deployment. The CRDs are templates, generated when
// the chart is packaged (templates/crds at the tag holds only a README), so the chart must come
// from the repository, not from git. The secretstores CRD is about 690 KB: server-side apply,
// pulumi-kubernetes v4's default, is needed (client-side apply's last-applied annotation would
// exceed 256 KB). No module the Go module proxy serves holds this chart; TestChartValuesExist
// checks the values against a list of its keys at the tag (chartvalues_test.go).
var OperatorChart = charts.Chart{Name: "external-secrets", Repo: "https://charts.external-secrets.io", Version: "2.9.0"}

// ReloaderChart is Stakater Reloader's chart at the published release chart-v2.2.16
// (https://github.com/stakater/Reloader/releases/tag/chart-v2.2.16, commit
// 655a2b3814baadb69d3d1e105242d6cc8875d7cb, image ghcr.io/stakater/reloader:v1.4.21), from
// https://stakater.github.io/stakater-charts (README at that tag). 2.2.16 is the first chart
// with scoped mode (reloader.namespaces: Roles in the listed namespaces, no ClusterRole). No
// hooks, no CRDs: a Pulumi Chart v4. TestChartValuesExist checks the values against the chart
// in modules.ReloaderModule.
var ReloaderChart = charts.Chart{Name: "reloader", Repo: "https://stakater.github.io/stakater-charts", Version: "2.2.16"}

// Pod labels of ESO's controller and webhook (templates/_helpers.tpl at helm-chart-2.9.0:
// external-secrets.selectorLabels and external-secrets-webhook.selectorLabels, with the
// release named after the chart as addon.Install does), and the webhook's port (values.yaml
// webhook.port).
var (
	controllerPods = map[string]string{"app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": "external-secrets"}
	webhookPods    = map[string]string{"app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": "external-secrets"}
)

// WebhookPort is the port ESO's webhook listens on (values.yaml webhook.port).
const WebhookPort = 10250

// restricted is a container security context that meets the "restricted" Pod Security
// Standard, with a read-only root filesystem.
func restricted(extra pulumi.Map) pulumi.Map {
	m := pulumi.Map{
		"allowPrivilegeEscalation": pulumi.Bool(false),
		"capabilities":             pulumi.Map{"drop": pulumi.ToStringArray([]string{"ALL"})},
		"readOnlyRootFilesystem":   pulumi.Bool(true),
		"runAsNonRoot":             pulumi.Bool(true),
		"seccompProfile":           pulumi.Map{"type": pulumi.String("RuntimeDefault")},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func requests(cpu, memory, limit string) pulumi.Map {
	return pulumi.Map{
		"requests": pulumi.Map{"cpu": pulumi.String(cpu), "memory": pulumi.String(memory)},
		"limits":   pulumi.Map{"memory": pulumi.String(limit)},
	}
}

// OperatorValues scope ESO to appNS: the controller reconciles only that namespace
// (scopedNamespace → --namespace) with a Role there instead of ClusterRoles (scopedRBAC, which
// also turns the cluster-wide reconcilers off), and the cluster-wide kinds that it then ignores
// are not installed (crds.create*: false, each paired with process*: false as values.yaml
// requires). It may not mint ServiceAccount tokens (rbac.serviceAccountTokenCreate: false;
// Pod Identity needs none), and grants nothing through aggregated roles or servicebindings.
// Every key is checked in deploy/charts/external-secrets/values.yaml at helm-chart-2.9.0; the
// scoped install is docs/guides/security-best-practices.md §4 there. The chart's security
// contexts already meet "restricted"; they are set here anyway, so that a chart upgrade cannot
// loosen them silently (the chart renders a security context only when it has keys besides
// "enabled", and drops that key). Each of the three Deployments gets placement under its own
// nodeSelector and tolerations (deployment.yaml, webhook-deployment.yaml and
// cert-controller-deployment.yaml read them before global.*). Nothing here is secret.
func OperatorValues(appNS pulumi.StringInput, placement kube.Placement) pulumi.Map {
	component := func(cpu, memory, limit string) pulumi.Map {
		m := pulumi.Map{
			"podSecurityContext": pulumi.Map{
				"enabled":        pulumi.Bool(true),
				"runAsNonRoot":   pulumi.Bool(true),
				"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
			},
			"securityContext": restricted(pulumi.Map{"enabled": pulumi.Bool(true), "runAsUser": pulumi.Int(1000)}),
			"resources":       requests(cpu, memory, limit),
		}
		for k, v := range pulumi.ToMap(placement.Values()) {
			m[k] = v
		}
		return m
	}
	values := component("10m", "64Mi", "256Mi")
	values["installCRDs"] = pulumi.Bool(true)
	values["crds"] = pulumi.Map{
		"createClusterExternalSecret": pulumi.Bool(false),
		"createClusterSecretStore":    pulumi.Bool(false),
		"createClusterPushSecret":     pulumi.Bool(false),
		"createPushSecret":            pulumi.Bool(false),
	}
	values["scopedNamespace"] = appNS
	values["scopedRBAC"] = pulumi.Bool(true)
	values["processClusterExternalSecret"] = pulumi.Bool(false)
	values["processClusterStore"] = pulumi.Bool(false)
	values["processClusterPushSecret"] = pulumi.Bool(false)
	values["processPushSecret"] = pulumi.Bool(false)
	values["processClusterGenerator"] = pulumi.Bool(false)
	values["openshiftFinalizers"] = pulumi.Bool(false)
	values["rbac"] = pulumi.Map{
		"create":                    pulumi.Bool(true),
		"serviceAccountTokenCreate": pulumi.Bool(false),
		"servicebindings":           pulumi.Map{"create": pulumi.Bool(false)},
		"aggregateToView":           pulumi.Bool(false),
		"aggregateToEdit":           pulumi.Bool(false),
		"aggregateToAdmin":          pulumi.Bool(false),
	}
	values["serviceAccount"] = pulumi.Map{"create": pulumi.Bool(true), "name": pulumi.String(OperatorServiceAccount)}
	webhook := component("10m", "32Mi", "128Mi")
	webhook["port"] = pulumi.Int(WebhookPort)
	values["webhook"] = webhook
	values["certController"] = component("10m", "32Mi", "128Mi")
	return values
}

// ReloaderValues scope Reloader to appNS (and its own namespace, which the chart always adds
// for its metadata ConfigMap): watchGlobally: false with reloader.namespaces makes Roles and
// RoleBindings in those namespaces, no ClusterRole, and passes --namespaces. It watches Secrets
// only (ignoreConfigMaps: the app's ConfigMap is hashed into its pod template by the chart) and
// leaves Jobs and CronJobs alone. reloadStrategy annotations: a reload patches only the pod
// template's reloader.stakater.com/last-reloaded-from annotation, a field Pulumi's release
// does not own, so a later `pulumi up` neither fights nor undoes it (README at the tag calls it
// the GitOps-friendly strategy; "default" would be env-vars). Every key is checked in
// deployments/kubernetes/chart/reloader/values.yaml and templates/ at chart-v2.2.16;
// placement goes under reloader.deployment.nodeSelector and tolerations (values.yaml L91, L128).
func ReloaderValues(appNS pulumi.StringInput, placement kube.Placement) pulumi.Map {
	deployment := pulumi.Map{
		"replicas": pulumi.Int(1),
		"securityContext": pulumi.Map{
			"runAsNonRoot":   pulumi.Bool(true),
			"runAsUser":      pulumi.Int(65534),
			"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
		},
		// readOnlyRootFileSystem below adds readOnlyRootFilesystem and a /tmp emptyDir.
		"containerSecurityContext": pulumi.Map{
			"allowPrivilegeEscalation": pulumi.Bool(false),
			"capabilities":             pulumi.Map{"drop": pulumi.ToStringArray([]string{"ALL"})},
			"runAsNonRoot":             pulumi.Bool(true),
		},
		"resources": requests("10m", "64Mi", "256Mi"),
	}
	for k, v := range pulumi.ToMap(placement.Values()) {
		deployment[k] = v
	}
	return pulumi.Map{"reloader": pulumi.Map{
		"watchGlobally":          pulumi.Bool(false),
		"namespaces":             pulumi.Array{appNS},
		"reloadStrategy":         pulumi.String("annotations"),
		"ignoreConfigMaps":       pulumi.Bool(true),
		"ignoreJobs":             pulumi.Bool(true),
		"ignoreCronJobs":         pulumi.Bool(true),
		"readOnlyRootFileSystem": pulumi.Bool(true),
		"logFormat":              pulumi.String("json"),
		"enableHA":               pulumi.Bool(false),
		"rbac":                   pulumi.Map{"enabled": pulumi.Bool(true)},
		"serviceAccount":         pulumi.Map{"create": pulumi.Bool(true), "name": pulumi.String(ReloaderServiceAccount)},
		"deployment":             deployment,
	}}
}

// operatorPolicies open what ESO's pods need beyond the namespace's DNS and API egress: the
// controller reaches Secrets Manager (HTTPS to the internet, netpol.InternetHTTPSEgress) and the EKS Pod Identity agent on its node
// (169.254.170.23:80, https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html);
// the webhook admits the API server, which calls it from its network interfaces in the VPC.
func operatorPolicies(ctx *pulumi.Context, name string, ns *corev1.Namespace, api netpol.APIServer, opts []pulumi.ResourceOption) error {
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-controller-egress", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("controller-aws-egress"), Namespace: ns.Metadata.Name()},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(controllerPods)},
			PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				netpol.InternetHTTPSEgress(),
				netpol.PodIdentityAgentEgress(),
			},
		},
	}, opts...); err != nil {
		return fmt.Errorf("creating the controller's egress NetworkPolicy: %w", err)
	}
	return netpol.Ingress(ctx, name+"-webhook-ingress", ns, "webhook-from-api-server", webhookPods,
		api.Callers(), netpol.TCP(WebhookPort), opts...)
}
