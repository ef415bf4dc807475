package dns

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

var zone = &Zone{ID: "Z0123456789ABCDEFGHIJ", Name: "example.com", Arn: "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"}

func TestCertificate(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	var arn *pulumitest.Value
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		c, err := NewCertificate(ctx, "certificate", &CertificateArgs{Domains: []string{"app.example.com", "grafana.example.com"}, Zone: zone})
		if err != nil {
			return err
		}
		arn = pulumitest.Capture(c.Arn)
		// A consumer of the ARN, as the ALB's IngressClassParams is: what it waits for is what
		// the program wired the ARN from.
		_, err = kubernetes.NewProvider(ctx, "consumer", &kubernetes.ProviderArgs{Namespace: c.Arn})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// One validation record per host, in the zone, named as ACM asks.
	records := m.ByType("aws:route53/record:Record")
	if len(records) != 2 {
		t.Fatalf("%d validation records, want 2", len(records))
	}
	names := []string{}
	for _, r := range records {
		if r.Inputs["zoneId"] != zone.ID {
			t.Errorf("record %s in zone %v", r.Name, r.Inputs["zoneId"])
		}
		names = append(names, r.Inputs["name"].(string))
	}
	slices.Sort(names)
	if !strings.HasSuffix(names[0], ".app.example.com.") || !strings.HasSuffix(names[1], ".grafana.example.com.") {
		t.Errorf("record names %v, want one for each host", names)
	}
	// The ARN others see comes from the validation, so a listener that uses it waits until ACM
	// has issued the certificate (a listener with a pending certificate fails to create).
	validation := m.Only(t, "aws:acm/certificateValidation:CertificateValidation")
	if deps := m.One(t, "pulumi:providers:kubernetes", "consumer").PropertyDependencies["namespace"]; !slices.Contains(deps, validation.URN) {
		t.Errorf("a consumer of the certificate's ARN waits for %v, not for the validation %s", deps, validation.URN)
	}
	if cert := m.Only(t, "aws:acm/certificate:Certificate"); validation.Inputs["certificateArn"] != cert.ID || arn.String(t) == "" {
		t.Errorf("the validation is of %v, want the certificate %s", validation.Inputs["certificateArn"], cert.ID)
	}
}

func TestCertificateOutsideTheZone(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		_, err := NewCertificate(ctx, "certificate", &CertificateArgs{Domains: []string{"app.example.org"}, Zone: zone})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "not in zone example.com") || len(m.Graph()) != 0 {
		t.Errorf("error %v, %d resources; want a refusal before anything is declared", err, len(m.Graph()))
	}
}

func TestExternalDNS(t *testing.T) {
	m := externalDNSRun(t)
	var policy struct {
		Statement []struct {
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(m.Only(t, "aws:iam/rolePolicy:RolePolicy").Inputs["policy"].(string)), &policy); err != nil {
		t.Fatal(err)
	}
	for _, st := range policy.Statement {
		if slices.Contains(st.Action, "route53:ChangeResourceRecordSets") && !slices.Equal(st.Resource, []string{zone.Arn}) {
			t.Errorf("ChangeResourceRecordSets on %v, want only %s", st.Resource, zone.Arn)
		}
		if slices.Equal(st.Resource, []string{"*"}) && !slices.Equal(st.Action, []string{"route53:ListHostedZones"}) {
			t.Errorf("actions on every resource: %v, want only ListHostedZones", st.Action)
		}
	}
	assoc := m.Only(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation").Inputs
	if assoc["namespace"] != ExternalDNSNamespace || assoc["serviceAccount"] != ExternalDNSServiceAccount {
		t.Errorf("association %v", assoc)
	}
	values := m.Only(t, "kubernetes:helm.sh/v4:Chart").Inputs["values"].(map[string]any)
	if values["serviceAccount"].(map[string]any)["name"] != ExternalDNSServiceAccount || values["txtOwnerId"] != "flask-eks-test" {
		t.Errorf("values %v: the ServiceAccount must be the one the association names, the owner the stack", values)
	}
}

// TestExternalDNSNotAwaited: the namespaces that hold Ingresses wait for ExternalDNS's chart (so
// that it outlives them on destroy); an awaited chart would hold every release behind them back
// by its whole install on a cold `up`.
func TestExternalDNSNotAwaited(t *testing.T) {
	m := externalDNSRun(t)
	if got := m.Only(t, "kubernetes:helm.sh/v4:Chart").Inputs["skipAwait"]; got != true {
		t.Errorf("the chart's skipAwait is %v, want true", got)
	}
}
