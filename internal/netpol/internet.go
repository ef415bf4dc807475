package netpol

import "net/netip"

// nonPublicIPv4 are the IPv4 ranges that are not the internet: "this network", RFC 1918 private
// networks (the VPC, the cluster's service range), RFC 6598 shared space, loopback, RFC 3927
// link-local (the instance metadata service, the EKS Pod Identity agent), multicast and reserved
// (https://www.iana.org/assignments/iana-ipv4-special-registry/).
var nonPublicIPv4 = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
}

// PublicIPv4 is the IPv4 internet as CIDRs: 0.0.0.0/0 without nonPublicIPv4, computed as the
// largest prefixes that avoid every excluded range. A policy says "the internet" with these
// instead of 0.0.0.0/0 with an except list, because the EKS network policy agent is reported
// not to honour ipBlock.except (https://github.com/aws/aws-network-policy-agent/issues/92): with
// them, a rule for the internet admits neither the VPC nor the Service range nor 169.254.0.0/16.
func PublicIPv4() []string {
	var excluded []netip.Prefix
	for _, s := range nonPublicIPv4 {
		excluded = append(excluded, netip.MustParsePrefix(s))
	}
	var out []string
	var walk func(p netip.Prefix)
	walk = func(p netip.Prefix) {
		for _, x := range excluded {
			if x.Bits() <= p.Bits() && x.Contains(p.Addr()) {
				return // p lies inside an excluded range
			}
		}
		overlaps := false
		for _, x := range excluded {
			if p.Overlaps(x) {
				overlaps = true
				break
			}
		}
		if !overlaps {
			out = append(out, p.String())
			return
		}
		// Split p into its two halves.
		lo := netip.PrefixFrom(p.Addr(), p.Bits()+1)
		hiAddr := p.Addr().As4()
		bit := p.Bits()
		hiAddr[bit/8] |= 0x80 >> (bit % 8)
		walk(lo)
		walk(netip.PrefixFrom(netip.AddrFrom4(hiAddr), p.Bits()+1))
	}
	walk(netip.MustParsePrefix("0.0.0.0/0"))
	return out
}
