package monitoring

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/netpol"
)

// Ports the monitoring stack listens on or reaches.
const (
	grafanaPort      = 3000  // Grafana's container port ("grafana")
	kubeletPort      = 10250 // kubelets (cAdvisor, the kubelet's metrics); the operator's webhook
	nodeExporterPort = 9100  // node-exporter, on the node's network
	appAdminPortName = "admin"
)

// newNetworkPolicies closes the monitoring namespace and opens what each part needs:
//   - inside the namespace, everything (Prometheus scrapes Alertmanager, Grafana, the operator
//     and kube-state-metrics; Grafana queries Prometheus; Alertmanager instances gossip);
//   - from the API server's network interfaces (the VPC), the operator's admission webhook;
//   - from the ALB's networks, Grafana's port;
//   - from the PrometheusClients namespaces, Prometheus's port (KEDA);
//   - out: DNS; the API server (netpol.APIServer's one rule: its Service's address and the
//     VPC), which every pod of the stack calls, the kube-prometheus-stack hook Jobs (admission
//     certificate, CRD upgrade) among them; kubelets and node-exporter in the VPC; the app's
//     admin port; Alertmanager to HTTPS on the internet (its webhook).
//
// Kubelet probes come from the node, which the EKS network policy agent always admits.
func newNetworkPolicies(ctx *pulumi.Context, name string, ns *corev1.Namespace, args *MonitoringArgs, opts []pulumi.ResourceOption) error {
	if _, err := netpol.DefaultDeny(ctx, name+"-default-deny", ns, opts...); err != nil {
		return err
	}
	sameNamespace := networkingv1.NetworkPolicyPeerArray{
		&networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{}},
	}
	ingress := networkingv1.NetworkPolicyIngressRuleArray{
		&networkingv1.NetworkPolicyIngressRuleArgs{From: sameNamespace},
		&networkingv1.NetworkPolicyIngressRuleArgs{From: args.APIServer.Callers(), Ports: netpol.TCP(kubeletPort)},
	}
	egress := networkingv1.NetworkPolicyEgressRuleArray{
		&networkingv1.NetworkPolicyEgressRuleArgs{To: sameNamespace},
		netpol.DNSEgress(),
		args.APIServer.Egress(),
		&networkingv1.NetworkPolicyEgressRuleArgs{To: netpol.Peers(args.NodeCIDRs, nil), Ports: netpol.TCP(kubeletPort, nodeExporterPort)},
		&networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: namespaceSelector(args.App.NamespaceName),
				PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(args.App.PodLabels)},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{&networkingv1.NetworkPolicyPortArgs{Port: pulumi.String(appAdminPortName), Protocol: pulumi.String("TCP")}},
		},
	}
	// Every pod; with logs on, every pod but Loki's and Alloy's, which have tighter policies of
	// their own (newLogsNetworkPolicies).
	stack := &metav1.LabelSelectorArgs{}
	if args.Logs.Enabled {
		stack.MatchExpressions = metav1.LabelSelectorRequirementArray{&metav1.LabelSelectorRequirementArgs{
			Key: pulumi.String(appNameLabel), Operator: pulumi.String("NotIn"),
			Values: pulumi.ToStringArray([]string{LokiChart.Name, AlloyChart.Name}),
		}}
	}
	if err := policy(ctx, name+"-stack", ns, "stack", stack, ingress, egress, opts); err != nil {
		return err
	}

	// Alertmanager sends to its webhook on the internet.
	alertmanager := byName("alertmanager")
	if err := policy(ctx, name+"-alertmanager-egress", ns, "alertmanager-egress", alertmanager, nil,
		networkingv1.NetworkPolicyEgressRuleArray{netpol.InternetHTTPSEgress()}, opts); err != nil {
		return err
	}

	if args.Grafana.Exposure != GrafanaNone {
		grafana := byName("grafana")
		if err := policy(ctx, name+"-grafana-ingress", ns, "grafana-from-alb", grafana,
			networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
				From: netpol.Peers(args.Grafana.ALBSourceCIDRs, nil), Ports: netpol.TCP(grafanaPort),
			}}, nil, opts); err != nil {
			return err
		}
	}

	if args.Logs.Enabled {
		if err := newLogsNetworkPolicies(ctx, name, ns, args, opts); err != nil {
			return err
		}
	}

	if len(args.PrometheusClients) > 0 {
		prometheus := byName("prometheus")
		var from networkingv1.NetworkPolicyPeerArray
		for _, client := range args.PrometheusClients {
			from = append(from, &networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: namespaceSelector(client)})
		}
		if err := policy(ctx, name+"-prometheus-clients", ns, "prometheus-clients", prometheus,
			networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: netpol.TCP(PrometheusPort)}},
			nil, opts); err != nil {
			return err
		}
	}
	return nil
}

// newLogsNetworkPolicies opens what Loki and Alloy need, and nothing else:
//   - Loki: in, its HTTP port from Alloy (push) and Grafana (queries), and its HTTP, gRPC and
//     memberlist ports from itself (the single binary calls itself through its Service and
//     gossips with itself); out, DNS, itself, Alertmanager (the ruler's alerts), the EKS Pod
//     Identity agent on the node (169.254.170.23:80, its credentials) and HTTPS anywhere but the
//     instance metadata service (S3's regional endpoint; a NetworkPolicy cannot name S3's
//     address ranges).
//   - Alloy: out only, DNS, the API server (netpol.APIServer.Egress; it discovers pods and reads their
//     logs through it) and Loki's HTTP port. Nothing connects to Alloy.
//
// Prometheus scrapes neither (no ServiceMonitor: it would need the release's CRDs, and the
// release waits for Loki). Kubelet probes come from the node, which is always admitted.
func newLogsNetworkPolicies(ctx *pulumi.Context, name string, ns *corev1.Namespace, args *MonitoringArgs, opts []pulumi.ResourceOption) error {
	pods := func(app string) *metav1.LabelSelectorArgs {
		return &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
			appNameLabel: pulumi.String(app), "app.kubernetes.io/instance": pulumi.String(app),
		}}
	}
	peer := func(sel *metav1.LabelSelectorArgs) networkingv1.NetworkPolicyPeerArray {
		return networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{PodSelector: sel}}
	}
	loki, alloy := pods(LokiChart.Name), pods(AlloyChart.Name)
	lokiSelf := netpol.TCP(lokiHTTPPort, lokiGRPCPort, lokiMemberlistPort)
	if err := policy(ctx, name+"-loki", ns, "loki", loki,
		networkingv1.NetworkPolicyIngressRuleArray{
			&networkingv1.NetworkPolicyIngressRuleArgs{
				From:  append(peer(alloy), peer(byName("grafana"))...),
				Ports: netpol.TCP(lokiHTTPPort),
			},
			&networkingv1.NetworkPolicyIngressRuleArgs{From: peer(loki), Ports: lokiSelf},
		},
		networkingv1.NetworkPolicyEgressRuleArray{
			netpol.DNSEgress(),
			&networkingv1.NetworkPolicyEgressRuleArgs{To: peer(loki), Ports: lokiSelf},
			&networkingv1.NetworkPolicyEgressRuleArgs{To: peer(byName("alertmanager")), Ports: netpol.TCP(alertmanagerPort)},
			netpol.PodIdentityAgentEgress(),
			netpol.InternetHTTPSEgress(),
		}, opts); err != nil {
		return err
	}
	return policy(ctx, name+"-alloy", ns, "alloy", alloy, nil,
		networkingv1.NetworkPolicyEgressRuleArray{
			netpol.DNSEgress(),
			args.APIServer.Egress(),
			&networkingv1.NetworkPolicyEgressRuleArgs{To: peer(loki), Ports: netpol.TCP(lokiHTTPPort)},
		}, opts)
}

// policy declares one NetworkPolicy; nil rule lists leave that direction to other policies.
func policy(ctx *pulumi.Context, name string, ns *corev1.Namespace, objectName string, pods *metav1.LabelSelectorArgs,
	ingress networkingv1.NetworkPolicyIngressRuleArray, egress networkingv1.NetworkPolicyEgressRuleArray, opts []pulumi.ResourceOption,
) error {
	var types []string
	if ingress != nil {
		types = append(types, "Ingress")
	}
	if egress != nil {
		types = append(types, "Egress")
	}
	_, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: ns.Metadata.Name(), Labels: commonLabels()},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: pods,
			PolicyTypes: pulumi.ToStringArray(types),
			Ingress:     ingress,
			Egress:      egress,
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("creating NetworkPolicy %s: %w", objectName, err)
	}
	return nil
}

// byName selects the pods of one part of the stack by their app.kubernetes.io/name.
func byName(app string) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{appNameLabel: pulumi.String(app)}}
}

// PrometheusPodLabels select the Prometheus pods, for the egress policy of a client such as
// KEDA (which MonitoringArgs.PrometheusClients admits here).
func PrometheusPodLabels() map[string]string { return map[string]string{appNameLabel: "prometheus"} }

func namespaceSelector(ns string) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)}}
}
