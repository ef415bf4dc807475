// Package addon is what the platform add-ons (addons/*) share: a namespace of their own with the
// baseline network policies, and the Helm chart pinned to a published release.
package addon

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/kube"
)

// Chart is a Helm chart at a published release.
type Chart struct {
	Name, Repo, Version string
	// SkipCRDs leaves out the chart's crds/ directory (CRDs the program does not use).
	SkipCRDs bool
}

// Namespace declares an add-on's namespace under the restricted Pod Security Standard, with
// kube.Namespace's default deny, and one egress policy for all its pods (Egress).
func Namespace(ctx *pulumi.Context, name, namespace string, egress Egress, opts ...pulumi.ResourceOption) (*corev1.Namespace, error) {
	ns, err := kube.Namespace(ctx, name, namespace, "restricted", opts...)
	if err != nil {
		return nil, err
	}
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-egress", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("egress"), Namespace: ns.Metadata.Name()},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress:      egress.rules(),
		},
	}, opts...); err != nil {
		return nil, fmt.Errorf("creating the egress NetworkPolicy of %s: %w", namespace, err)
	}
	return ns, nil
}

// Egress says where an add-on's pods may connect besides DNS.
type Egress struct {
	// APICIDRs hold the Kubernetes API server (the VPC, where EKS puts its network interfaces).
	APICIDRs []string
	// Internet allows InternetHTTPSEgress (AWS APIs).
	Internet bool
	// PodIdentity allows PodIdentityAgentEgress.
	PodIdentity bool
}

func (e Egress) rules() networkingv1.NetworkPolicyEgressRuleArray {
	rules := networkingv1.NetworkPolicyEgressRuleArray{DNSEgress()}
	if len(e.APICIDRs) > 0 {
		rules = append(rules, &networkingv1.NetworkPolicyEgressRuleArgs{To: Peers(e.APICIDRs, nil), Ports: TCP(443)})
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
// considerations"), and the instance metadata service, which no pod here may reach.
const (
	podIdentityAgentCIDR = "169.254.170.23/32"
	podIdentityAgentPort = 80
	instanceMetadataCIDR = "169.254.169.254/32"
)

// DNSEgress allows DNS, wherever the resolver is (EKS Auto Mode answers on the node itself).
func DNSEgress() *networkingv1.NetworkPolicyEgressRuleArgs {
	return &networkingv1.NetworkPolicyEgressRuleArgs{Ports: networkingv1.NetworkPolicyPortArray{
		&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("UDP")},
		&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(53), Protocol: pulumi.String("TCP")},
	}}
}

// InternetHTTPSEgress allows HTTPS anywhere but the instance metadata service: AWS APIs (or their
// VPC endpoints) and webhooks.
func InternetHTTPSEgress() *networkingv1.NetworkPolicyEgressRuleArgs {
	return &networkingv1.NetworkPolicyEgressRuleArgs{To: Peers([]string{"0.0.0.0/0"}, []string{instanceMetadataCIDR}), Ports: TCP(443)}
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

// Peers are ipBlock peers for cidrs, each without except.
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

// Install deploys c into ns as a Pulumi Chart v4: rendered client-side and applied as ordinary
// resources, which Pulumi then diffs object by object. Only for charts without Helm hooks (Chart
// v4 does not run them); the add-ons' charts have none at their pinned releases.
func Install(ctx *pulumi.Context, name string, c Chart, ns *corev1.Namespace, values pulumi.Map, provider *kubernetes.Provider,
	opts ...pulumi.ResourceOption,
) (*helmv4.Chart, error) {
	chart, err := helmv4.NewChart(ctx, name, &helmv4.ChartArgs{
		Chart:          pulumi.String(c.Name),
		Version:        pulumi.String(c.Version),
		RepositoryOpts: &helmv4.RepositoryOptsArgs{Repo: pulumi.String(c.Repo)},
		Name:           pulumi.String(c.Name),
		Namespace:      ns.Metadata.Name().Elem(),
		Values:         values,
		SkipCrds:       pulumi.Bool(c.SkipCRDs),
	}, append(opts, pulumi.Provider(provider))...)
	if err != nil {
		return nil, fmt.Errorf("installing chart %s %s: %w", c.Name, c.Version, err)
	}
	return chart, nil
}
