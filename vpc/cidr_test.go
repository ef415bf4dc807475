package vpc

import (
	"net"
	"slices"
	"strings"
	"testing"
)

func TestSubnetCIDRsFor16(t *testing.T) {
	public, private, err := SubnetCIDRs("10.0.0.0/16", 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.0.192.0/22", "10.0.196.0/22", "10.0.200.0/22"}; !slices.Equal(public, want) {
		t.Errorf("public = %v, want %v", public, want)
	}
	if want := []string{"10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"}; !slices.Equal(private, want) {
		t.Errorf("private = %v, want %v", private, want)
	}
}

// TestSubnetCIDRsNeverOverlap checks the scheme for every accepted prefix and AZ count: all
// subnets lie inside the VPC, none overlap, and their sizes follow the scheme.
func TestSubnetCIDRsNeverOverlap(t *testing.T) {
	for _, vpcCIDR := range []string{"10.0.0.0/16", "172.16.0.0/17", "192.168.0.0/18", "10.1.0.0/19", "100.64.0.0/20", "10.255.248.0/21"} {
		_, vpcNet, _ := net.ParseCIDR(vpcCIDR)
		vpcOnes, _ := vpcNet.Mask.Size()
		for _, azs := range []int{2, 3} {
			public, private, err := SubnetCIDRs(vpcCIDR, azs)
			if err != nil {
				t.Fatalf("%s/%d AZs: %v", vpcCIDR, azs, err)
			}
			if len(public) != azs || len(private) != azs {
				t.Fatalf("%s: %d public, %d private for %d AZs", vpcCIDR, len(public), len(private), azs)
			}
			all := append(append([]string{}, public...), private...)
			var nets []*net.IPNet
			for i, c := range all {
				_, n, err := net.ParseCIDR(c)
				if err != nil || n.String() != c {
					t.Fatalf("%s: %q is not a network CIDR", vpcCIDR, c)
				}
				ones, _ := n.Mask.Size()
				wantOnes := vpcOnes + privateNewBits
				if i < azs {
					wantOnes = vpcOnes + publicNewBits
				}
				if ones != wantOnes {
					t.Errorf("%s: %s has prefix /%d, want /%d", vpcCIDR, c, ones, wantOnes)
				}
				if !vpcNet.Contains(n.IP) || !vpcNet.Contains(lastIP(n)) {
					t.Errorf("%s: %s is outside the VPC", vpcCIDR, c)
				}
				for _, m := range nets {
					if m.Contains(n.IP) || n.Contains(m.IP) {
						t.Errorf("%s: %s overlaps %s", vpcCIDR, c, m)
					}
				}
				nets = append(nets, n)
			}
		}
	}
}

// TestSubnetCIDRsStableAcrossAZCounts: adding the third AZ must not renumber the first two.
func TestSubnetCIDRsStableAcrossAZCounts(t *testing.T) {
	pub2, priv2, _ := SubnetCIDRs("10.0.0.0/16", 2)
	pub3, priv3, _ := SubnetCIDRs("10.0.0.0/16", 3)
	if !slices.Equal(pub2, pub3[:2]) || !slices.Equal(priv2, priv3[:2]) {
		t.Errorf("2-AZ subnets %v %v are not a prefix of 3-AZ subnets %v %v", pub2, priv2, pub3, priv3)
	}
}

func TestValidateCIDR(t *testing.T) {
	cases := map[string]string{
		"10.0.0.0/16":     "",
		"172.31.0.0/16":   "",
		"192.168.0.0/21":  "",
		"100.64.0.0/16":   "",
		"10.0.0.0/15":     "prefix /15",
		"10.0.0.0/22":     "prefix /22",
		"10.0.0.5/16":     "host bits",
		"8.8.0.0/16":      "private range",
		"172.32.0.0/16":   "private range",
		"fd00::/48":       "not an IPv4 CIDR",
		"10.0.0.0":        "not an IPv4 CIDR",
		"not-a-cidr/16":   "not an IPv4 CIDR",
		"192.168.0.0/300": "not an IPv4 CIDR",
	}
	for cidr, want := range cases {
		err := ValidateCIDR(cidr)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", cidr, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one containing %q", cidr, err, want)
		case err != nil && !strings.Contains(err.Error(), "accepted:"):
			t.Errorf("%s: error %q does not say what is accepted", cidr, err)
		}
	}
}

func lastIP(n *net.IPNet) net.IP {
	ip := make(net.IP, len(n.IP.To4()))
	for i, b := range n.IP.To4() {
		ip[i] = b | ^n.Mask[i]
	}
	return ip
}
