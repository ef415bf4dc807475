package monitoring

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/kube"
)

// Ports the monitoring stack listens on or reaches.
const (
	grafanaPort       = 3000  // Grafana's container port ("grafana")
	prometheusPort    = 9090  // Prometheus's web port
	kubeletPort       = 10250 // kubelets (cAdvisor, the kubelet's metrics); the operator's webhook
	nodeExporterPort  = 9100  // node-exporter, on the node's network
	apiServerPort     = 443   // the EKS API server's network interfaces in the VPC
	appAdminPortName  = "admin"
	externalHTTPSPort = 443
)

// newNetworkPolicies closes the monitoring namespace and opens what each part needs:
//   - inside the namespace, everything (Prometheus scrapes Alertmanager, Grafana, the operator
//     and kube-state-metrics; Grafana queries Prometheus; Alertmanager instances gossip);
//   - from the VPC, the operator's admission webhook (the API server calls it);
//   - from the ALB's networks, Grafana's port;
//   - from the PrometheusClients namespaces, Prometheus's port (KEDA);
//   - out: DNS; the API server, kubelets and node-exporter in the VPC; the app's admin port;
//     Alertmanager to HTTPS anywhere but the instance metadata service (its webhook).
//
// Kubelet probes come from the node, which the EKS network policy agent always admits.
func newNetworkPolicies(ctx *pulumi.Context, name string, ns *corev1.Namespace, args *MonitoringArgs, opts []pulumi.ResourceOption) error {
	if _, err := kube.DefaultDeny(ctx, name+"-default-deny", ns, opts...); err != nil {
		return err
	}
	sameNamespace := networkingv1.NetworkPolicyPeerArray{
		&networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{}},
	}
	vpc := cidrPeers(args.NodeCIDRs, nil)
	ingress := networkingv1.NetworkPolicyIngressRuleArray{
		&networkingv1.NetworkPolicyIngressRuleArgs{From: sameNamespace},
		&networkingv1.NetworkPolicyIngressRuleArgs{From: vpc, Ports: tcp(kubeletPort)},
	}
	egress := networkingv1.NetworkPolicyEgressRuleArray{
		&networkingv1.NetworkPolicyEgressRuleArgs{To: sameNamespace},
		// DNS, wherever the resolver is (EKS Auto Mode answers on the node itself).
		&networkingv1.NetworkPolicyEgressRuleArgs{Ports: networkingv1.NetworkPolicyPortArray{
			&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("UDP")},
			&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("TCP")},
		}},
		&networkingv1.NetworkPolicyEgressRuleArgs{To: vpc, Ports: tcp(apiServerPort, kubeletPort, nodeExporterPort)},
		&networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: namespaceSelector(args.App.NamespaceName),
				PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(args.App.PodLabels)},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{&networkingv1.NetworkPolicyPortArgs{Port: pulumi.String(appAdminPortName), Protocol: pulumi.String("TCP")}},
		},
	}
	if err := policy(ctx, name+"-stack", ns, "stack", &metav1.LabelSelectorArgs{}, ingress, egress, opts); err != nil {
		return err
	}

	// Alertmanager sends to its webhook on the internet.
	alertmanager := &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("alertmanager")}}
	if err := policy(ctx, name+"-alertmanager-egress", ns, "alertmanager-egress", alertmanager, nil,
		networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{
			To:    cidrPeers([]string{"0.0.0.0/0"}, []string{"169.254.169.254/32"}),
			Ports: tcp(externalHTTPSPort),
		}}, opts); err != nil {
		return err
	}

	if args.Grafana.Exposure != GrafanaNone {
		grafana := &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("grafana")}}
		if err := policy(ctx, name+"-grafana-ingress", ns, "grafana-from-alb", grafana,
			networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
				From: cidrPeers(args.Grafana.ALBSourceCIDRs, nil), Ports: tcp(grafanaPort),
			}}, nil, opts); err != nil {
			return err
		}
	}

	if len(args.PrometheusClients) > 0 {
		prometheus := &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("prometheus")}}
		var from networkingv1.NetworkPolicyPeerArray
		for _, client := range args.PrometheusClients {
			from = append(from, &networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: namespaceSelector(client)})
		}
		if err := policy(ctx, name+"-prometheus-clients", ns, "prometheus-clients", prometheus,
			networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: tcp(prometheusPort)}},
			nil, opts); err != nil {
			return err
		}
	}
	return nil
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

func tcp(ports ...int) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	for _, p := range ports {
		out = append(out, &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(p), Protocol: pulumi.String("TCP")})
	}
	return out
}

func cidrPeers(cidrs, except []string) networkingv1.NetworkPolicyPeerArray {
	var out networkingv1.NetworkPolicyPeerArray
	for _, c := range cidrs {
		block := &networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}
		if len(except) > 0 {
			block.Except = pulumi.ToStringArray(except)
		}
		out = append(out, &networkingv1.NetworkPolicyPeerArgs{IpBlock: block})
	}
	return out
}

func namespaceSelector(ns string) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)}}
}
