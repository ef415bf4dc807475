package vpc

import (
	"encoding/binary"
	"fmt"
	"net"
)

// The subnet scheme. A VPC of prefix /p is cut into four quarters of /(p+2):
//
//	quarter 0, 1, 2  private subnets, one per AZ. They are large because EKS Auto Mode gives
//	                 every pod a VPC address (prefix delegation reserves /28 blocks per node).
//	quarter 3        public subnets of /(p+6), one per AZ, from the start of the quarter. They
//	                 only hold NAT gateways and ALB nodes. The rest of the quarter (10 of 16
//	                 /(p+6) blocks) stays free for later tiers (VPC endpoints, pod subnets).
//
// For 10.0.0.0/16: private 10.0.0.0/18, 10.0.64.0/18, 10.0.128.0/18; public 10.0.192.0/22,
// 10.0.196.0/22, 10.0.200.0/22. The scheme does not depend on the AZ count, so going from two
// AZs to three adds subnets without renumbering existing ones.
const (
	privateNewBits = 2 // private subnets are /(p+2)
	publicNewBits  = 6 // public subnets are /(p+6)
	maxAZs         = 3
	// MinPrefix and MaxPrefix bound the VPC prefix: /16 is the largest VPC AWS allows, and at
	// /21 the public subnets are /27, the smallest an ALB accepts.
	MinPrefix = 16
	MaxPrefix = 21
)

// privateRanges are the address ranges a VPC may use here: RFC 1918 and the RFC 6598 shared
// range that AWS documents for EKS pod networking.
var privateRanges = mustCIDRs("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")

// ValidateCIDR checks that cidr is an IPv4 network in a private range whose prefix leaves room
// for the subnet scheme. Its error reads after the value, e.g. `"10.0.0.1/16" has host bits set`.
func ValidateCIDR(cidr string) error {
	accepted := fmt.Sprintf("accepted: an IPv4 network CIDR in a private range with a prefix from /%d to /%d, such as 10.0.0.0/16", MinPrefix, MaxPrefix)
	ip, n, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		return fmt.Errorf("is not an IPv4 CIDR; %s", accepted)
	}
	if !ip.Equal(n.IP) {
		return fmt.Errorf("has host bits set (the network is %s); %s", n, accepted)
	}
	ones, _ := n.Mask.Size()
	if ones < MinPrefix || ones > MaxPrefix {
		return fmt.Errorf("has prefix /%d, which leaves no room for 3 private /%d and 3 public /%d subnets; %s",
			ones, ones+privateNewBits, ones+publicNewBits, accepted)
	}
	inside := false
	for _, r := range privateRanges {
		rOnes, _ := r.Mask.Size()
		if r.Contains(n.IP) && ones >= rOnes {
			inside = true
		}
	}
	if !inside {
		return fmt.Errorf("is not in a private range (10/8, 172.16/12, 192.168/16, 100.64/10); %s", accepted)
	}
	return nil
}

// SubnetCIDRs returns the public and private subnet CIDRs for azCount AZs, in AZ order,
// following the scheme above.
func SubnetCIDRs(vpcCIDR string, azCount int) (public, private []string, err error) {
	if err := ValidateCIDR(vpcCIDR); err != nil {
		return nil, nil, fmt.Errorf("VPC CIDR %q %w", vpcCIDR, err)
	}
	if azCount < 1 || azCount > maxAZs {
		return nil, nil, fmt.Errorf("azCount %d: accepted 1 to %d", azCount, maxAZs)
	}
	_, n, _ := net.ParseCIDR(vpcCIDR)
	ones, _ := n.Mask.Size()
	base := binary.BigEndian.Uint32(n.IP.To4())
	quarter := uint32(1) << (32 - ones - privateNewBits)
	publicSize := uint32(1) << (32 - ones - publicNewBits)
	for i := range azCount {
		private = append(private, cidrString(base+uint32(i)*quarter, ones+privateNewBits))
		public = append(public, cidrString(base+3*quarter+uint32(i)*publicSize, ones+publicNewBits))
	}
	return public, private, nil
}

func cidrString(addr uint32, prefix int) string {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, addr)
	return fmt.Sprintf("%s/%d", ip, prefix)
}

func mustCIDRs(cidrs ...string) []*net.IPNet {
	out := make([]*net.IPNet, 0, len(cidrs))
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}
