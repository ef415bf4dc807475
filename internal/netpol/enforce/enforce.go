// Package enforce decides the flows of the connectivity contract (internal/netpol/contract) the
// way an EKS Auto Mode node enforces NetworkPolicies: AWS's own network policy controller
// (github.com/aws/amazon-network-policy-controller-k8s, pkg/resolvers) resolves every policy of
// a stack's export (testdata/netpol/<stack>.json) into the addresses and ports the node agent
// programs, and Cluster applies the agent's rules to them.
//
// It is a module of its own: the controller builds against k8s.io v0.32 and controller-runtime
// v0.20, and its pkg/k8s does not compile against the client-go v0.37 of the root module
// (configmap_store.go: ConfigMapStore lacks cache.Store's Bookmark method).
package enforce

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	policyinfo "github.com/aws/amazon-network-policy-controller-k8s/api/v1alpha1"
	"github.com/aws/amazon-network-policy-controller-k8s/pkg/resolvers"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"
)

// Export is a stack's export, as the root module's TestNetpolExport writes it.
type Export struct {
	Stack           string             `json:"stack"`
	ServiceCIDR     string             `json:"serviceCidr"`
	VPCCIDR         string             `json:"vpcCidr"`
	PublicSubnets   []string           `json:"publicSubnets"`
	PrivateSubnets  []string           `json:"privateSubnets"`
	Addresses       map[string]string  `json:"addresses"`
	Namespaces      []corev1.Namespace `json:"namespaces"`
	NetworkPolicies []struct {
		Origin string                     `json:"origin"`
		Policy networkingv1.NetworkPolicy `json:"policy"`
	} `json:"networkPolicies"`
	Pods        []corev1.Pod     `json:"pods"`
	Services    []corev1.Service `json:"services"`
	NotRendered []struct {
		Chart           string `json:"chart"`
		Version         string `json:"version"`
		Namespace       string `json:"namespace"`
		NetworkPolicies string `json:"networkPolicies"`
	} `json:"notRendered"`
}

// ReadExport reads an export file.
func ReadExport(path string) (*Export, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e Export
	if err := yaml.UnmarshalStrict(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}

// resolved is one NetworkPolicy as the controller hands it to the node agent (a PolicyEndpoint).
type resolved struct {
	name     string
	isolates map[networkingv1.PolicyType]bool
	selected map[string]bool // pod IPs
	ingress  []policyinfo.EndpointInfo
	egress   []policyinfo.EndpointInfo
}

// Cluster is a stack's policies resolved by AWS's controller.
type Cluster struct {
	Export   *Export
	policies []resolved
}

// NewCluster seeds a controller-runtime fake client with the export's namespaces, pods, Services
// and policies, and resolves every policy with the controller's endpoints resolver.
func NewCluster(ctx context.Context, e *Export) (*Cluster, error) {
	var objs []client.Object
	for i := range e.Namespaces {
		objs = append(objs, &e.Namespaces[i])
	}
	for i := range e.Pods {
		objs = append(objs, &e.Pods[i])
	}
	for i := range e.Services {
		objs = append(objs, &e.Services[i])
	}
	var policies []*networkingv1.NetworkPolicy
	for i := range e.NetworkPolicies {
		np := e.NetworkPolicies[i].Policy.DeepCopy()
		defaultPolicyTypes(np)
		policies = append(policies, np)
		objs = append(objs, np)
	}
	c := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(objs...).Build()
	r := resolvers.NewEndpointsResolver(c, logr.Discard())
	cl := &Cluster{Export: e}
	for _, np := range policies {
		ingress, egress, pods, err := r.Resolve(ctx, np)
		if err != nil {
			return nil, fmt.Errorf("resolving %s/%s: %w", np.Namespace, np.Name, err)
		}
		rp := resolved{name: np.Namespace + "/" + np.Name, isolates: map[networkingv1.PolicyType]bool{}, selected: map[string]bool{},
			ingress: ingress, egress: egress}
		// The PolicyEndpoint's podIsolation is the policy's policyTypes
		// (pkg/policyendpoints/manager.go, PolicyMetadata.PolicyTypes).
		for _, pt := range np.Spec.PolicyTypes {
			rp.isolates[pt] = true
		}
		for _, p := range pods {
			rp.selected[string(p.PodIP)] = true
		}
		cl.policies = append(cl.policies, rp)
	}
	return cl, nil
}

// defaultPolicyTypes applies the API server's default: Ingress always, Egress when the policy has
// egress rules ("If this field is not specified, it will default based on the existence of
// ingress or egress rules",
// https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/).
func defaultPolicyTypes(np *networkingv1.NetworkPolicy) {
	if len(np.Spec.PolicyTypes) > 0 {
		return
	}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(np.Spec.Egress) > 0 {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
	}
}

// Packet is one connection attempt: from Src to Dst:Port/Protocol.
type Packet struct {
	Src, Dst netip.Addr
	Port     int32
	Protocol corev1.Protocol
}

func (p Packet) String() string {
	return fmt.Sprintf("%s -> %s:%d/%s", p.Src, p.Dst, p.Port, p.Protocol)
}

// Except says how ipBlock.except is treated. The node agent is reported not to honour it
// (https://github.com/aws/aws-network-policy-agent/issues/92, open): a flow is proven allowed
// only when it is allowed with the except honoured, and proven refused only when it is refused
// with the except ignored.
type Except bool

const (
	HonourExcept Except = true
	IgnoreExcept Except = false
)

// Egress decides p at the source pod's interface, where the agent sees it before a Service
// address is translated (the comment on getMatchingServiceClusterIPs in pkg/resolvers/endpoints.go;
// aws/aws-network-policy-agent#549). A pod that no policy isolates for egress may send anything:
// Auto Mode's default NodeClass has networkPolicy DefaultAllow
// (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html).
func (c *Cluster) Egress(p Packet, except Except) (bool, string) {
	return c.decide(networkingv1.PolicyTypeEgress, p.Src, p.Dst, p, except)
}

// Ingress decides p at the destination pod dst, on the source's address (after any Service
// translation, p.Dst is the pod). Traffic from the pod's own node is always admitted: the agent
// adds the node's address to every pod's allowed sources, for kubelet probes
// (https://github.com/aws/aws-network-policy-agent/pull/65).
func (c *Cluster) Ingress(p Packet, hostIP netip.Addr, except Except) (bool, string) {
	if p.Src == hostIP {
		return true, "from the pod's node, which the agent always admits"
	}
	return c.decide(networkingv1.PolicyTypeIngress, p.Dst, p.Src, p, except)
}

// decide applies the policies that select pod (by its address) and isolate it in direction dir
// to peer: allowed when none isolates it, or any of them has a rule for peer and the port.
func (c *Cluster) decide(dir networkingv1.PolicyType, pod, peer netip.Addr, p Packet, except Except) (bool, string) {
	var isolating []string
	for _, rp := range c.policies {
		if !rp.selected[pod.String()] || !rp.isolates[dir] {
			continue
		}
		isolating = append(isolating, rp.name)
		rules := rp.ingress
		if dir == networkingv1.PolicyTypeEgress {
			rules = rp.egress
		}
		for _, e := range rules {
			if matches(e, peer, p.Port, p.Protocol, except) {
				return true, fmt.Sprintf("%s admitted by %s (%s)", strings.ToLower(string(dir)), rp.name, e.CIDR)
			}
		}
	}
	if len(isolating) == 0 {
		return true, fmt.Sprintf("no policy isolates %s for %s", pod, strings.ToLower(string(dir)))
	}
	sort.Strings(isolating)
	return false, fmt.Sprintf("%s of %s isolated by %s, and no rule admits %s", strings.ToLower(string(dir)), pod,
		strings.Join(isolating, ", "), p)
}

// matches reports whether an endpoint of a PolicyEndpoint covers addr and the port.
func matches(e policyinfo.EndpointInfo, addr netip.Addr, port int32, proto corev1.Protocol, except Except) bool {
	if e.CIDR == "" || !prefix(string(e.CIDR)).Contains(addr) {
		return false
	}
	if except == HonourExcept {
		for _, x := range e.Except {
			if prefix(string(x)).Contains(addr) {
				return false
			}
		}
	}
	if len(e.Ports) == 0 {
		return true
	}
	for _, p := range e.Ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		end := *p.Port
		if p.EndPort != nil {
			end = *p.EndPort
		}
		if port >= *p.Port && port <= end {
			return true
		}
	}
	return false
}

// prefix parses a CIDR or a bare address (the resolver writes pod and Service addresses bare).
func prefix(s string) netip.Prefix {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}
		}
		return netip.PrefixFrom(a, a.BitLen())
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}
