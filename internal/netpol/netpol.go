// Package netpol builds the program's Kubernetes NetworkPolicies: the default deny every
// namespace of the program starts with, a namespace-wide egress policy for an add-on's pods,
// single-purpose ingress and egress policies, and the rules several components share (DNS,
// HTTPS to AWS APIs, the EKS Pod Identity agent). On EKS Auto Mode they are enforced once the
// network policy controller is switched on (eks.Classes).
package netpol

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultDeny declares a NetworkPolicy that selects every pod of ns and admits nothing in or
// out; each workload's own policy then opens what it needs.
func DefaultDeny(ctx *pulumi.Context, name string, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (*networkingv1.NetworkPolicy, error) {
	np, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String("default-deny"),
			Namespace: ns.Metadata.Name(),
		},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the default-deny NetworkPolicy: %w", err)
	}
	return np, nil
}

// Egress says where all the pods of an add-on's namespace may connect besides DNS.
type Egress struct {
	// APIServer, when it has CIDRs, allows APIServer.Egress.
	APIServer APIServer
	// Internet allows InternetHTTPSEgress (AWS APIs).
	Internet bool
	// PodIdentity allows PodIdentityAgentEgress.
	PodIdentity bool
}

// NamespaceEgress declares the policy "egress" in ns that lets every pod there connect where e
// says, and to DNS.
func NamespaceEgress(ctx *pulumi.Context, name string, ns *corev1.Namespace, e Egress, opts ...pulumi.ResourceOption) error {
	if _, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("egress"), Namespace: ns.Metadata.Name()},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress:      e.rules(),
		},
	}, opts...); err != nil {
		return fmt.Errorf("creating the egress NetworkPolicy: %w", err)
	}
	return nil
}

func (e Egress) rules() networkingv1.NetworkPolicyEgressRuleArray {
	rules := networkingv1.NetworkPolicyEgressRuleArray{DNSEgress()}
	if len(e.APIServer.CIDRs) > 0 {
		rules = append(rules, e.APIServer.Egress())
	}
	if e.Internet {
		rules = append(rules, InternetHTTPSEgress())
	}
	if e.PodIdentity {
		rules = append(rules, PodIdentityAgentEgress())
	}
	return rules
}

// The EKS Pod Identity agent, on every node's link-local address
// (https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html, "EKS Pod Identity
// considerations").
const (
	podIdentityAgentCIDR = "169.254.170.23/32"
	podIdentityAgentPort = 80
)

// DNSEgress allows DNS, wherever the resolver is (EKS Auto Mode answers on the node itself).
func DNSEgress() *networkingv1.NetworkPolicyEgressRuleArgs {
	return &networkingv1.NetworkPolicyEgressRuleArgs{Ports: networkingv1.NetworkPolicyPortArray{
		&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("UDP")},
		&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("TCP")},
	}}
}

// InternetHTTPSEgress allows HTTPS to the internet (PublicIPv4): AWS APIs at their public
// endpoints (S3 through the VPC's gateway endpoint keeps its public addresses) and webhooks. It
// admits no private or link-local address: not the instance metadata service, the VPC, or the
// cluster's Services, among them the API server. An interface VPC endpoint, with addresses in
// the VPC, would need a rule of its own.
func InternetHTTPSEgress() *networkingv1.NetworkPolicyEgressRuleArgs {
	return &networkingv1.NetworkPolicyEgressRuleArgs{To: Peers(PublicIPv4(), nil), Ports: TCP(443)}
}

// PodIdentityAgentEgress allows the EKS Pod Identity agent on the pod's node, which hands out
// the pod's AWS credentials.
func PodIdentityAgentEgress() *networkingv1.NetworkPolicyEgressRuleArgs {
	return &networkingv1.NetworkPolicyEgressRuleArgs{To: Peers([]string{podIdentityAgentCIDR}, nil), Ports: TCP(podIdentityAgentPort)}
}

// TCP lists TCP ports for a NetworkPolicy rule.
func TCP(ports ...int) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	for _, p := range ports {
		out = append(out, &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(p), Protocol: pulumi.String("TCP")})
	}
	return out
}

// Peers are ipBlock peers for cidrs, each with except when it is given.
func Peers(cidrs, except []string) networkingv1.NetworkPolicyPeerArray {
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

// Ingress declares a NetworkPolicy admitting from to the ports of the pods matching pods.
func Ingress(ctx *pulumi.Context, name string, ns *corev1.Namespace, objectName string, pods map[string]string,
	from networkingv1.NetworkPolicyPeerArray, ports networkingv1.NetworkPolicyPortArray, opts ...pulumi.ResourceOption,
) error {
	return onePolicy(ctx, name, ns, objectName, pods, &networkingv1.NetworkPolicySpecArgs{
		PolicyTypes: pulumi.ToStringArray([]string{"Ingress"}),
		Ingress:     networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: ports}},
	}, opts)
}

// EgressTo declares a NetworkPolicy letting the pods matching pods connect to the ports of to.
func EgressTo(ctx *pulumi.Context, name string, ns *corev1.Namespace, objectName string, pods map[string]string,
	to networkingv1.NetworkPolicyPeerArray, ports networkingv1.NetworkPolicyPortArray, opts ...pulumi.ResourceOption,
) error {
	return onePolicy(ctx, name, ns, objectName, pods, &networkingv1.NetworkPolicySpecArgs{
		PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{&networkingv1.NetworkPolicyEgressRuleArgs{To: to, Ports: ports}},
	}, opts)
}

// onePolicy declares the NetworkPolicy objectName in ns for the pods matching pods.
func onePolicy(ctx *pulumi.Context, name string, ns *corev1.Namespace, objectName string, pods map[string]string,
	spec *networkingv1.NetworkPolicySpecArgs, opts []pulumi.ResourceOption,
) error {
	spec.PodSelector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(pods)}
	_, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: ns.Metadata.Name()},
		Spec:     spec,
	}, opts...)
	if err != nil {
		return fmt.Errorf("creating NetworkPolicy %s: %w", objectName, err)
	}
	return nil
}
