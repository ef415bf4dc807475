// Package validate holds the input rules of the program, one definition per rule. config.go
// applies them to what a user types; the app chart's values.schema.json repeats the patterns
// that Helm must check too, and a test keeps those copies equal to the ones here.
//
// Each pattern is exported as a string (for JSON Schema and error messages) and used through a
// function, so no caller compiles its own variant.
package validate

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Patterns, as Go regexp (RE2) source. They are also valid ECMA-262 patterns, so the chart's JSON
// Schema can carry them unchanged.
const (
	// ACMCertificateARNPattern matches an ACM certificate ARN; group 2 is its region.
	ACMCertificateARNPattern = `^arn:aws(-cn|-us-gov)?:acm:([a-z]{2}(-gov)?-[a-z]+-[0-9]):[0-9]{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
	// IAMPrincipalARNPattern matches an IAM role or user ARN, with an optional path. Assumed-role
	// (STS session) ARNs do not match: EKS access entries refuse them.
	IAMPrincipalARNPattern = `^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/([\w+=,.@-]+/)*[\w+=,.@-]+$`
	// IAMPolicyARNPattern matches an AWS-managed or customer-managed IAM policy ARN.
	IAMPolicyARNPattern = `^arn:aws(-cn|-us-gov)?:iam::(aws|[0-9]{12}):policy/([\w+=,.@-]+/)*[\w+=,.@-]+$`
	// DNSLabelPattern is a Kubernetes DNS-1123 label (namespace and IngressClass names).
	DNSLabelPattern = `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`
	// RetentionPattern is a Prometheus retention duration.
	RetentionPattern = `^[1-9][0-9]*(h|d|w|y)$`
	// VolumeSizePattern is a whole number of Mi, Gi or Ti.
	VolumeSizePattern = `^[1-9][0-9]*(Mi|Gi|Ti)$`
	// RegionPattern is an AWS region name.
	RegionPattern = `^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`
	// HostnamePattern is a fully qualified DNS host name (no wildcard, no trailing dot): at least
	// two labels of letters, digits and hyphens, lower case.
	HostnamePattern = `^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`
	// HostedZoneIDPattern is a Route 53 hosted zone ID.
	HostedZoneIDPattern = `^Z[A-Z0-9]{4,31}$`
)

var (
	acmCertRe      = regexp.MustCompile(ACMCertificateARNPattern)
	iamPrincipalRe = regexp.MustCompile(IAMPrincipalARNPattern)
	iamPolicyRe    = regexp.MustCompile(IAMPolicyARNPattern)
	dnsLabelRe     = regexp.MustCompile(DNSLabelPattern)
	retentionRe    = regexp.MustCompile(RetentionPattern)
	volumeSizeRe   = regexp.MustCompile(VolumeSizePattern)
	regionRe       = regexp.MustCompile(RegionPattern)
	hostnameRe     = regexp.MustCompile(HostnamePattern)
	hostedZoneIDRe = regexp.MustCompile(HostedZoneIDPattern)
)

// ACMCertificateARN reports whether s is an ACM certificate ARN, and its region.
func ACMCertificateARN(s string) (region string, ok bool) {
	m := acmCertRe.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[2], true
}

// IAMPrincipalARN reports whether s is an IAM role or user ARN.
func IAMPrincipalARN(s string) bool { return iamPrincipalRe.MatchString(s) }

// IAMPolicyARN reports whether s is an IAM policy ARN.
func IAMPolicyARN(s string) bool { return iamPolicyRe.MatchString(s) }

// DNSLabel reports whether s is a DNS-1123 label.
func DNSLabel(s string) bool { return dnsLabelRe.MatchString(s) }

// Retention reports whether s is a Prometheus retention such as 7d.
func Retention(s string) bool { return retentionRe.MatchString(s) }

// VolumeSize reports whether s is a volume size such as 20Gi.
func VolumeSize(s string) bool { return volumeSizeRe.MatchString(s) }

// Region reports whether s is an AWS region name.
func Region(s string) bool { return regionRe.MatchString(s) }

// Hostname reports whether s is a fully qualified host name without a wildcard, at most 253
// characters.
func Hostname(s string) bool { return len(s) <= 253 && hostnameRe.MatchString(s) }

// HostedZoneID reports whether s looks like a Route 53 hosted zone ID (Z...).
func HostedZoneID(s string) bool { return hostedZoneIDRe.MatchString(s) }

// InZone reports whether host is the zone apex or a name below it.
func InZone(host, zone string) bool {
	zone = strings.TrimSuffix(strings.ToLower(zone), ".")
	host = strings.ToLower(host)
	return host == zone || strings.HasSuffix(host, "."+zone)
}

// MiB parses a memory quantity in Mi or Gi into MiB.
func MiB(s string) (int, bool) {
	var n int
	var unit string
	if _, err := fmt.Sscanf(s, "%d%s", &n, &unit); err != nil || n <= 0 {
		return 0, false
	}
	switch unit {
	case "Mi":
		return n, true
	case "Gi":
		return n * 1024, true
	}
	return 0, false
}

// AWS tag rules (https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html):
// at most 50 tags per resource, keys of 1 to 128 and values of 0 to 256 Unicode characters from
// letters, digits, white space and _ . : / = + - @, and no key starting with "aws:".
const (
	MaxTagsPerResource = 50
	MaxTagKeyLength    = 128
	MaxTagValueLength  = 256
)

// TagKey explains why k is not an AWS tag key, or returns "".
func TagKey(k string) string {
	switch {
	case k == "" || utf8.RuneCountInString(k) > MaxTagKeyLength:
		return fmt.Sprintf("is not 1 to %d characters", MaxTagKeyLength)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return "starts with aws:, which AWS reserves"
	case !tagChars(k):
		return "has a character outside letters, digits, spaces and _ . : / = + - @"
	}
	return ""
}

// TagValue explains why v is not an AWS tag value, or returns "".
func TagValue(v string) string {
	switch {
	case utf8.RuneCountInString(v) > MaxTagValueLength:
		return fmt.Sprintf("is longer than %d characters", MaxTagValueLength)
	case !tagChars(v):
		return "has a character outside letters, digits, spaces and _ . : / = + - @"
	}
	return ""
}

func tagChars(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return true
}

// documentationRanges are the IPv4 blocks RFC 5737 reserves for examples. No real client has
// such an address, so an allow-list holding one lets nobody in.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
}

// IPv4Network parses s as an IPv4 network CIDR in canonical form (no host bits).
func IPv4Network(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return netip.Prefix{}, false
	}
	return p, true
}

// DocumentationRange reports whether p overlaps an RFC 5737 documentation block.
func DocumentationRange(p netip.Prefix) bool {
	for _, d := range documentationRanges {
		if d.Overlaps(p) {
			return true
		}
	}
	return false
}

// AWS resource IDs of an existing network.
const (
	// VPCIDPattern, SubnetIDPattern and SecurityGroupIDPattern match EC2 IDs: the prefix and 8
	// or 17 hexadecimal digits.
	VPCIDPattern           = `^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`
	SubnetIDPattern        = `^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`
	SecurityGroupIDPattern = `^sg-([0-9a-f]{8}|[0-9a-f]{17})$`
)

var (
	vpcIDRe    = regexp.MustCompile(VPCIDPattern)
	subnetIDRe = regexp.MustCompile(SubnetIDPattern)
	sgIDRe     = regexp.MustCompile(SecurityGroupIDPattern)
)

// VPCID, SubnetID and SecurityGroupID report whether s is an ID of that kind.
func VPCID(s string) bool           { return vpcIDRe.MatchString(s) }
func SubnetID(s string) bool        { return subnetIDRe.MatchString(s) }
func SecurityGroupID(s string) bool { return sgIDRe.MatchString(s) }

// Placeholders: the values that documentation and example files use in place of real ones.
// They pass every format check, so a stack file that still holds one previews fine and fails
// only partway through a real deployment (an access entry for a role in an account that is not
// yours, a zone that does not exist), after the control plane has been paid for.
var (
	// placeholderAccounts are the account IDs AWS's documentation uses in examples.
	placeholderAccounts = []string{"123456789012", "111122223333", "444455556666"}
	// placeholderDomains are reserved for examples by RFC 2606 and RFC 6761.
	placeholderDomains = []string{"example.com", "example.net", "example.org"}
	placeholderTLDs    = []string{"example", "test", "invalid", "localhost"}
	// placeholderIDDigits start the digits of the example EC2 IDs in AWS's documentation
	// (vpc-0123456789abcdef0, sg-1234567890abcdef0); all zeros is a placeholder too.
	placeholderIDDigits = []string{"0123456789abcdef", "1234567890abcdef", "00000000"}
)

// Placeholder reports whether s is, or holds, an example value: a documentation account ID in an
// ARN, a reserved example domain or TLD in a host name, an RFC 5737 range in a CIDR, or an
// example EC2 ID. It explains why, or returns "".
func Placeholder(s string) string {
	v := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if strings.HasPrefix(v, "arn:") {
		parts := strings.SplitN(v, ":", 6)
		if len(parts) == 6 {
			for _, a := range placeholderAccounts {
				if parts[4] == a {
					return "names the documentation account " + a
				}
			}
		}
		return ""
	}
	if p, err := netip.ParsePrefix(v); err == nil && p.Addr().Is4() {
		for _, d := range documentationRanges {
			if d.Bits() <= p.Bits() && d.Contains(p.Addr()) {
				return "is an RFC 5737 documentation range"
			}
		}
		return ""
	}
	if prefix, digits, ok := strings.Cut(v, "-"); ok && (prefix == "vpc" || prefix == "subnet" || prefix == "sg") {
		for _, d := range placeholderIDDigits {
			if strings.HasPrefix(digits, d) {
				return "is an example ID"
			}
		}
		return ""
	}
	host := v
	if u, ok := strings.CutPrefix(v, "https://"); ok {
		host, _, _ = strings.Cut(u, "/")
	}
	for _, d := range placeholderDomains {
		if InZone(host, d) {
			return "is in the example domain " + d
		}
	}
	if i := strings.LastIndex(host, "."); i >= 0 && slices.Contains(placeholderTLDs, host[i+1:]) {
		return "is in a reserved top-level domain"
	}
	return ""
}
