package dns

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/iampolicy"
	"github.com/example/flask-eks/internal/modules"
)

// The test deployments publish the app and a public Grafana.
var (
	testClasses = []string{"alb", "alb-grafana"}
	testHosts   = []string{"app.example.com", "grafana.example.com"}
)

// change is one ChangeResourceRecordSets call on the zone, with the condition keys Route 53
// puts in its request context: the batch's record names, normalized (lower case, no trailing
// dot), and their types
// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html).
func change(names, types []string) iampolicy.Request {
	return iampolicy.Request{Action: "route53:ChangeResourceRecordSets", Resource: zone.Arn, Context: map[string][]string{
		"route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
		"route53:ChangeResourceRecordSetsRecordTypes":           types,
		"route53:ChangeResourceRecordSetsActions":               {"UPSERT"},
	}}
}

// TestExternalDNSChangesOnlyItsNames evaluates ExternalDNS's role policy, as the program sends
// it, against the change batches ExternalDNS v0.21.0 makes for an Ingress behind an ALB (an
// alias A record, its AAAA counterpart, and their TXT registry records named
// cname-<host> and aaaa-<host>) and against the changes a compromised ExternalDNS could try.
func TestExternalDNSChangesOnlyItsNames(t *testing.T) {
	m := externalDNSRun(t)
	policy, err := iampolicy.Parse([]byte(m.Only(t, "aws:iam/rolePolicy:RolePolicy").Inputs["policy"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	sub := iampolicy.Subject{ARN: "arn:aws:iam::123456789012:role/external-dns", Identity: []*iampolicy.Policy{policy}}
	for _, c := range []struct {
		what         string
		names, types []string
		want         bool
	}{
		{"the app's records", []string{"app.example.com", "app.example.com", "cname-app.example.com", "aaaa-app.example.com"}, []string{"A", "AAAA", "TXT", "TXT"}, true},
		{"Grafana's records", []string{"grafana.example.com", "cname-grafana.example.com"}, []string{"A", "TXT"}, true},
		{"another name of the zone", []string{"www.example.com"}, []string{"A"}, false},
		{"the zone's apex", []string{"example.com"}, []string{"A"}, false},
		{"a name below the app's", []string{"x.app.example.com"}, []string{"A"}, false},
		{"a batch with one other name", []string{"app.example.com", "www.example.com"}, []string{"A"}, false},
		{"another type on the app's name", []string{"app.example.com"}, []string{"NS"}, false},
		{"a CNAME on the app's name", []string{"app.example.com"}, []string{"CNAME"}, false},
		{"a validation record", []string{"_0f3c2a9e.app.example.com"}, []string{"CNAME"}, false},
	} {
		if got := iampolicy.Allowed(sub, nil, false, change(c.names, c.types)); got != c.want {
			t.Errorf("%s %v (%v): allowed %v, want %v", c.what, c.names, c.types, got, c.want)
		}
	}
	other := change([]string{"app.example.com"}, []string{"A"})
	other.Resource = "arn:aws:route53:::hostedzone/ZOTHER"
	if iampolicy.Allowed(sub, nil, false, other) {
		t.Error("ExternalDNS may change records in another zone")
	}
}

// TestRecordNames: the names are those of ExternalDNS v0.21.0's TXT registry with no prefix or
// suffix (registry/mapper/mapper.go at v0.21.0: "<type>-" before the first label), and the
// chart gets no txtPrefix or txtSuffix that would rename them.
func TestRecordNames(t *testing.T) {
	want := []string{"a-app.example.com", "aaaa-app.example.com", "app.example.com", "cname-app.example.com"}
	if got := RecordNames([]string{"App.Example.com."}); !slices.Equal(got, want) {
		t.Errorf("RecordNames %v, want %v", got, want)
	}
	values := externalDNSValues(t)
	for _, k := range []string{"txtPrefix", "txtSuffix"} {
		if _, ok := values[k]; ok {
			t.Errorf("values set %s: the registry's names would no longer be RecordNames'", k)
		}
	}
	for k := range values["extraArgs"].(map[string]any) {
		if strings.HasPrefix(k, "txt-") {
			t.Errorf("extraArgs set --%s: the registry's names would no longer be RecordNames'", k)
		}
	}
}

// TestExternalDNSWatchesOnlyPublicClasses renders the chart at the pinned release with the
// program's values: the container gets one --ingress-class per class handed in, so an
// Ingress of another class (Grafana's internal ALB) gets no record.
func TestExternalDNSWatchesOnlyPublicClasses(t *testing.T) {
	dir := modules.ChartDir(t, modules.ExternalDNSModule, "charts/external-dns", ExternalDNSChart.Name, ExternalDNSChart.Version)
	manifests, err := chartrender.Render(dir, externalDNSValues(t), "external-dns", ExternalDNSNamespace, "")
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	deployments := 0
	for _, mf := range manifests {
		if mf.Kind != "Deployment" {
			continue
		}
		obj, err := chartrender.DecodeStrict(mf)
		if err != nil {
			t.Fatal(err)
		}
		d := obj.(*appsv1.Deployment)
		deployments++
		for _, arg := range d.Spec.Template.Spec.Containers[0].Args {
			if c, ok := strings.CutPrefix(arg, "--ingress-class="); ok {
				classes = append(classes, c)
			}
		}
	}
	if deployments != 1 {
		t.Fatalf("%d Deployments, want 1", deployments)
	}
	if !slices.Equal(classes, testClasses) {
		t.Errorf("--ingress-class %v, want %v", classes, testClasses)
	}
}
