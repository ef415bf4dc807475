package dns

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/modules"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/pulumitest"
)

// The external-dns chart at 1.21.1 comes from the module proxy (modules.ExternalDNSModule,
// v0.22.0), whose chart directory is 1.21.1 with changes made after the release: its
// values.yaml adds replicaCount and service.enabled to the tag external-dns-helm-chart-1.21.1's
// and drops policy's default, and nothing else (CHANGELOG.md's [UNRELEASED] at v0.22.0 lists
// them). The check takes the two keys out again, so it checks against exactly the release's
// keys.
var externalDNSAfterRelease = [][]string{{"replicaCount"}, {"service", "enabled"}}

// externalDNSWholeMaps are the maps the chart takes whole: below them any key goes. Only maps
// the program sets keys below that the chart does not declare are listed.
var externalDNSWholeMaps = []chartrender.WholeMap{
	{Path: "extraArgs", Why: "ExternalDNS command-line flags, each rendered as --<key>=<value> (templates/deployment.yaml)"},
	{Path: "resources", Why: "Kubernetes ResourceRequirements of the ExternalDNS container"},
	{Path: "nodeSelector", Why: "Kubernetes nodeSelector of the ExternalDNS pod (node label to value)"},
}

// externalDNSDefaults are the chart's values.yaml at 1.21.1, as Helm loads it.
func externalDNSDefaults(t *testing.T) map[string]any {
	t.Helper()
	ch, err := chartrender.Load(modules.ChartDir(t, modules.ExternalDNSModule, "charts/external-dns", ExternalDNSChart.Name, ExternalDNSChart.Version))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range externalDNSAfterRelease {
		m := ch.Values
		for _, k := range path[:len(path)-1] {
			m, _ = m[k].(map[string]any)
		}
		if _, ok := m[path[len(path)-1]]; !ok {
			t.Fatalf("%s has no %s to take out", modules.ExternalDNSModule, strings.Join(path, "."))
		}
		delete(m, path[len(path)-1])
	}
	return ch.Values
}

// externalDNSValues are the values the program passes the chart, as the engine recorded them.
func externalDNSValues(t *testing.T) map[string]any {
	t.Helper()
	return externalDNSRun(t).Only(t, "kubernetes:helm.sh/v4:Chart").Inputs["values"].(map[string]any)
}

// externalDNSRun declares ExternalDNS for the test zone, the app and a public Grafana.
func externalDNSRun(t *testing.T) *pulumitest.Mocks {
	t.Helper()
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = NewExternalDNS(ctx, "external-dns", &ExternalDNSArgs{
			Provider: p, ClusterName: pulumi.String("flask-eks-test"), Region: "eu-west-1", Zone: zone,
			OwnerID: "flask-eks-test", APIServer: netpol.APIServer{ServiceAddress: "172.20.0.1", CIDRs: []string{"10.20.0.0/16"}},
			Placement: kube.Placement{
				NodeSelector: map[string]string{"karpenter.sh/nodepool": "platform"},
				Tolerations:  []kube.Toleration{{Key: "CriticalAddonsOnly", Operator: "Exists", Effect: "NoSchedule"}},
			},
			IngressClasses: testClasses, Hosts: testHosts,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestChartValuesExist checks every key the program passes the external-dns chart against the
// keys it declares at the pinned release. Its values.schema.json lets unknown keys through
// (additionalProperties: true), so Helm would drop a misspelt one without a word.
func TestChartValuesExist(t *testing.T) {
	defaults, values := externalDNSDefaults(t), externalDNSValues(t)
	unknown, unneeded := chartrender.UndeclaredValues(values, defaults, externalDNSWholeMaps)
	if len(unknown) != 0 {
		t.Errorf("values the chart does not declare: %v", unknown)
	}
	for _, w := range unneeded {
		t.Errorf("%s is in externalDNSWholeMaps but the program sets nothing undeclared below it", w.Path)
	}

	// A misspelt key fails, and so does a key the chart gained only after the release.
	for _, c := range []struct {
		path []string
		typo string
	}{
		{[]string{"txtOwnerId"}, "txtOwnerID"},
		{[]string{"domainFilters"}, "domainFilter"},
		{[]string{"interval"}, "replicaCount"},
		{[]string{"tolerations"}, "toleration"},
		{[]string{"nodeSelector"}, "nodeSelectors"},
	} {
		typo, err := chartrender.WithKeyRenamed(values, c.path, c.typo)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(append(slices.Clone(c.path[:len(c.path)-1]), c.typo), ".")
		if got, _ := chartrender.UndeclaredValues(typo, defaults, externalDNSWholeMaps); !slices.Equal(got, []string{want}) {
			t.Errorf("with %s: undeclared %v, want only it", want, got)
		}
	}
}
