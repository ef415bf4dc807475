package main

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/example/flask-eks/addons/dns"
)

// TestInternalGrafanaNotPublished: ExternalDNS watches only the IngressClasses of
// internet-facing ALBs and may write only their hosts' names, so an internal Grafana's name
// never points at its internal ALB from the public zone (which would publish the VPC's
// addresses and where the dashboards are); a public Grafana gets its record.
func TestInternalGrafanaNotPublished(t *testing.T) {
	for _, c := range []struct {
		stack, exposure string
		published       bool
	}{{"dev", "", false}, {"prod", "", false}, {"dev", "public", true}} {
		t.Run(c.stack+"-"+c.exposure, func(t *testing.T) {
			cfg := stackConfig(t, c.stack)
			if c.exposure != "" {
				cfg["flask-eks:grafanaExposure"] = c.exposure
				cfg["flask-eks:grafanaInboundCidrs"] = `["198.51.100.0/24"]`
			}
			m, err := runProgram(t, c.stack, cfg)
			if err != nil {
				t.Fatal(err)
			}
			internal := map[string]bool{}
			for _, p := range m.ByType("kubernetes:eks.amazonaws.com/v1:IngressClassParams") {
				spec := p.Inputs["spec"].(map[string]any)
				internal[p.ID] = spec["scheme"] != "internet-facing"
			}
			chart := m.One(t, "kubernetes:helm.sh/v4:Chart", "external-dns")
			var watched []string
			for _, c := range chart.Inputs["values"].(map[string]any)["extraArgs"].(map[string]any)["ingress-class"].([]any) {
				watched = append(watched, c.(string))
			}
			if len(watched) == 0 {
				t.Fatal("ExternalDNS watches every IngressClass")
			}
			for _, class := range watched {
				if isInternal, known := internal[class]; !known || isInternal {
					t.Errorf("ExternalDNS watches IngressClass %q, which is not an internet-facing ALB's (internal: %v, known: %v)", class, isInternal, known)
				}
			}
			grafanaPublished := slices.Contains(watched, grafanaALBClass)
			var policy struct {
				Statement []struct {
					Condition map[string]map[string][]string
				}
			}
			for _, p := range m.ByType("aws:iam/rolePolicy:RolePolicy") {
				if p.Name == "external-dns" {
					if err := json.Unmarshal([]byte(p.Inputs["policy"].(string)), &policy); err != nil {
						t.Fatal(err)
					}
				}
			}
			var names []string
			for _, st := range policy.Statement {
				names = append(names, st.Condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]...)
			}
			grafana := cfg["flask-eks:grafanaDomain"]
			if !slices.Contains(names, cfg["flask-eks:domain"]) {
				t.Errorf("ExternalDNS may not write the app's name %s: %v", cfg["flask-eks:domain"], names)
			}
			if got := slices.Contains(names, grafana); got != c.published || grafanaPublished != c.published {
				t.Errorf("Grafana's name %s writable: %v, its class watched: %v; want %v (names %v)", grafana, got, grafanaPublished, c.published, names)
			}
			hosts := []string{cfg["flask-eks:domain"]}
			if c.published {
				hosts = append(hosts, grafana)
			}
			if want := dns.RecordNames(hosts); !slices.Equal(names, want) {
				t.Errorf("names %v, want %v", names, want)
			}
		})
	}
}
