package validate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestChartSchemaSharesThePatterns: the app chart's values.schema.json checks the certificate ARN
// and the host name with the same patterns as config.go (optional there: "" is allowed), so a
// value config accepts is one Helm accepts, and the rule has one definition.
func TestChartSchemaSharesThePatterns(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "app", "chart", "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			Ingress struct {
				Properties map[string]struct {
					Pattern string `json:"pattern"`
				} `json:"properties"`
			} `json:"ingress"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	optional := func(p string) string { return "^(" + p[1:len(p)-1] + ")?$" }
	for key, want := range map[string]string{"certificateArn": ACMCertificateARNPattern, "host": HostnamePattern} {
		if got := schema.Properties.Ingress.Properties[key].Pattern; got != optional(want) {
			t.Errorf("values.schema.json ingress.%s pattern\n got %s\nwant %s (validate's, optional)", key, got, optional(want))
		}
	}
}

func TestRules(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"app.example.com", true}, {"a.b", true}, {"example.com", true},
		{"*.example.com", false}, {"App.Example.com", false}, {"example.com.", false}, {"localhost", false}, {"-a.example.com", false},
	} {
		if Hostname(c.name) != c.ok {
			t.Errorf("Hostname(%q) = %v, want %v", c.name, !c.ok, c.ok)
		}
	}
	for _, c := range []struct {
		host, zone string
		in         bool
	}{{"app.example.com", "example.com", true}, {"example.com", "example.com.", true}, {"app.badexample.com", "example.com", false}, {"app.example.com", "dev.example.com", false}} {
		if InZone(c.host, c.zone) != c.in {
			t.Errorf("InZone(%q, %q) = %v", c.host, c.zone, !c.in)
		}
	}
	if r, ok := ACMCertificateARN("arn:aws:acm:us-east-1:123456789012:certificate/0f3c2a9e-6b1d-4c7e-9a52-3e8d7b41f6a0"); !ok || r != "us-east-1" {
		t.Errorf("ACMCertificateARN: region %q ok %v", r, ok)
	}
	if IAMPrincipalARN("arn:aws:sts::123456789012:assumed-role/admin/s") || !IAMPrincipalARN("arn:aws:iam::123456789012:role/team/admin") {
		t.Error("IAMPrincipalARN must refuse session ARNs and accept role paths")
	}
	for k, bad := range map[string]bool{"Team": false, "aws:x": true, "": true, "a#b": true, "cost center/2": false} {
		if (TagKey(k) != "") != bad {
			t.Errorf("TagKey(%q) = %q", k, TagKey(k))
		}
	}
	for s, want := range map[string]int{"256Mi": 256, "2Gi": 2048, "1Ti": 0, "x": 0} {
		if got, _ := MiB(s); got != want {
			t.Errorf("MiB(%q) = %d, want %d", s, got, want)
		}
	}
	if p, ok := IPv4Network("203.0.113.64/27"); !ok || !DocumentationRange(p) {
		t.Error("203.0.113.64/27 is a documentation range")
	}
	if _, ok := IPv4Network("10.0.0.1/16"); ok {
		t.Error("a CIDR with host bits is not a network")
	}
}

func TestPlaceholder(t *testing.T) {
	for v, want := range map[string]bool{
		"arn:aws:iam::123456789012:role/platform-admin":                                       true,
		"arn:aws:iam::111122223333:policy/x":                                                  true,
		"arn:aws:iam::210987654321:role/platform-admin":                                       false,
		"arn:aws:acm:eu-west-1:123456789012:certificate/0123abcd-0000-4000-8000-000000000000": true,
		"example.com":              true,
		"app.dev.example.com":      true,
		"grafana.example.org":      true,
		"app.myexample.com":        false,
		"app.acme.test":            true,
		"shop.acme.com":            false,
		"https://api.example.com":  true,
		"198.51.100.0/24":          true,
		"203.0.113.64/27":          true,
		"52.94.0.0/22":             false,
		"0.0.0.0/0":                false,
		"vpc-0123456789abcdef0":    true,
		"subnet-0123456789abcdef2": true,
		"sg-1234567890abcdef0":     true,
		"vpc-0a1b2c3d4e5f60718":    false,
		"subnet-00000000":          true,
		"Z0123456789ABCDEFGHIJ":    false,
	} {
		if got := Placeholder(v) != ""; got != want {
			t.Errorf("Placeholder(%q) = %q, want a placeholder: %v", v, Placeholder(v), want)
		}
	}
}

func TestEC2IDs(t *testing.T) {
	for _, c := range []struct {
		id   string
		ok   func(string) bool
		want bool
	}{
		{"vpc-0a1b2c3d4e5f60718", VPCID, true}, {"vpc-1a2b3c4d", VPCID, true}, {"vpc-0a1b2c3d4e5f6071", VPCID, false},
		{"subnet-0a1b2c3d4e5f60718", SubnetID, true}, {"subnet-XYZ", SubnetID, false}, {"vpc-0a1b2c3d4e5f60718", SubnetID, false},
		{"sg-0a1b2c3d4e5f60718", SecurityGroupID, true}, {"sg-", SecurityGroupID, false},
	} {
		if got := c.ok(c.id); got != c.want {
			t.Errorf("%s: %v, want %v", c.id, got, c.want)
		}
	}
}
