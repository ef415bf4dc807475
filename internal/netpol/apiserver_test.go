package netpol

import (
	"net/netip"
	"slices"
	"testing"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestServiceAddress(t *testing.T) {
	for cidr, want := range map[string]string{"172.20.0.0/16": "172.20.0.1", "10.100.0.0/16": "10.100.0.1", "192.168.4.0/24": "192.168.4.1"} {
		if got, err := ServiceAddress(cidr); err != nil || got != want {
			t.Errorf("ServiceAddress(%s) = %q, %v; want %s", cidr, got, err, want)
		}
	}
	for _, bad := range []string{"", "172.20.0.1/16", "fd00::/108", "172.20.0.0"} {
		if got, err := ServiceAddress(bad); err == nil {
			t.Errorf("ServiceAddress(%q) = %q, want an error", bad, got)
		}
	}
}

// TestAPIServerEgress: the one API rule admits the Service's address and the CIDRs, on 443 only.
func TestAPIServerEgress(t *testing.T) {
	rule := APIServer{ServiceAddress: "172.20.0.1", CIDRs: []string{"10.30.0.0/16"}}.Egress()
	var cidrs []string
	for _, p := range rule.To.(networkingv1.NetworkPolicyPeerArray) {
		cidrs = append(cidrs, string(p.(*networkingv1.NetworkPolicyPeerArgs).IpBlock.(*networkingv1.IPBlockArgs).Cidr.(pulumi.String)))
	}
	if !slices.Equal(cidrs, []string{"172.20.0.1/32", "10.30.0.0/16"}) {
		t.Errorf("the API rule admits %v, want the Service address and the VPC", cidrs)
	}
	ports := rule.Ports.(networkingv1.NetworkPolicyPortArray)
	if len(ports) != 1 || ports[0].(*networkingv1.NetworkPolicyPortArgs).Port.(pulumi.Int) != 443 {
		t.Errorf("the API rule's ports are %v, want 443 only", ports)
	}
	if err := (APIServer{ServiceAddress: "172.20.0.1"}).Validate(); err == nil {
		t.Error("an API server without CIDRs validates")
	}
}

// TestPublicIPv4 checks the internet's CIDRs against the ranges they must leave out and a few
// addresses they must hold.
func TestPublicIPv4(t *testing.T) {
	var prefixes []netip.Prefix
	for _, s := range PublicIPv4() {
		prefixes = append(prefixes, netip.MustParsePrefix(s))
	}
	contains := func(a string) bool {
		return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(netip.MustParseAddr(a)) })
	}
	for _, out := range []string{"10.30.0.10", "172.20.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "169.254.170.23", "100.64.0.1", "127.0.0.1", "0.1.2.3", "224.0.0.1", "255.255.255.255"} {
		if contains(out) {
			t.Errorf("PublicIPv4 holds %s", out)
		}
	}
	for _, in := range []string{"1.1.1.1", "52.95.110.1", "172.15.255.255", "172.32.0.0", "169.253.0.1", "169.255.0.1", "192.169.0.1", "203.0.113.10", "223.255.255.255"} {
		if !contains(in) {
			t.Errorf("PublicIPv4 lacks %s", in)
		}
	}
	for i, p := range prefixes {
		for _, q := range prefixes[i+1:] {
			if p.Overlaps(q) {
				t.Errorf("%s overlaps %s", p, q)
			}
		}
	}
}
