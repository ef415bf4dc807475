package netpol

import (
	"fmt"
	"net/netip"
	"slices"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
)

// APIServerPort is the port the Kubernetes API server serves on: its `kubernetes` Service's
// port, and its endpoints' on EKS.
const APIServerPort = 443

// APIServer is where pods reach the Kubernetes API server and where it calls them from.
//
// In-cluster clients (client-go's rest.InClusterConfig, kubectl in a Job) connect to the
// `kubernetes` Service's address, KUBERNETES_SERVICE_HOST. The EKS network policy agent matches
// a pod's egress before that address is translated to an endpoint
// (github.com/aws/amazon-network-policy-controller-k8s, pkg/resolvers/endpoints.go, the comment
// on getMatchingServiceClusterIPs; aws/aws-network-policy-agent#549), and the Service has no
// selector a pod selector could match, so a rule for the VPC alone does not let them through:
// the Service's address must be admitted itself. Egress is that one rule, for every component
// that calls the API server.
type APIServer struct {
	// ServiceAddress is the `kubernetes` Service's ClusterIP, the first address of the
	// cluster's service range (ServiceAddress). "" when CIDRs already hold it (an existing
	// cluster, where they are 0.0.0.0/0).
	ServiceAddress string
	// CIDRs hold the control plane's network interfaces (the VPC on EKS): the API server's
	// endpoints, and the addresses it calls webhooks and aggregated APIs from.
	CIDRs []string
}

// Egress is the one rule that lets a pod reach the API server: its Service's address and its
// endpoints, on APIServerPort.
func (a APIServer) Egress() *networkingv1.NetworkPolicyEgressRuleArgs {
	cidrs := slices.Clone(a.CIDRs)
	if a.ServiceAddress != "" {
		cidrs = append([]string{a.ServiceAddress + "/32"}, cidrs...)
	}
	return &networkingv1.NetworkPolicyEgressRuleArgs{To: Peers(cidrs, nil), Ports: TCP(APIServerPort)}
}

// Callers are the peers the API server calls webhooks and aggregated APIs from.
func (a APIServer) Callers() networkingv1.NetworkPolicyPeerArray { return Peers(a.CIDRs, nil) }

// Validate reports a programming error: no CIDRs, or a Service address that is not an IPv4
// address.
func (a APIServer) Validate() error {
	if len(a.CIDRs) == 0 {
		return fmt.Errorf("the API server's CIDRs are required (its endpoints, and where it calls webhooks from)")
	}
	if a.ServiceAddress != "" {
		if addr, err := netip.ParseAddr(a.ServiceAddress); err != nil || !addr.Is4() {
			return fmt.Errorf("the API server's Service address %q is not an IPv4 address", a.ServiceAddress)
		}
	}
	return nil
}

// ServiceAddress is the `kubernetes` Service's address in a cluster whose service range is
// cidr: the range's first address, which the API server reserves for it
// (https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/).
func ServiceAddress(cidr string) (string, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return "", fmt.Errorf("service range %q is not an IPv4 network CIDR", cidr)
	}
	return p.Addr().Next().String(), nil
}
