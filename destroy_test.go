package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/pulumitest"
)

// TestDestroyOrder walks each EKS stack's destroy order: Pulumi deletes a resource before
// everything it depends on, so "X goes after Y on destroy" is "Y depends on X".
//
//   - A namespace that holds an Ingress must go before what its ALB needs while Auto Mode
//     deletes the ALB (Helm's uninstall returns while the Ingress still carries Auto Mode's
//     finalizer; deleting the namespace waits for it): the IngressClasses and their params, the
//     certificate, ExternalDNS (which deletes the ALB's records), the public subnets and the
//     internet gateway, and the cluster. Otherwise they go in parallel: the Ingress is orphaned
//     (kubernetes-sigs/aws-load-balancer-controller#4341), the ALB stays, the certificate's
//     delete fails as in use and the subnets' with DependencyViolation.
//   - Every NetworkPolicy, and every release or chart that renders some, must go before the
//     amazon-vpc-cni ConfigMap that switches their enforcement on.
func TestDestroyOrder(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			rec, err := runProgram(t, stack, stackConfig(t, stack))
			if err != nil {
				t.Fatal(err)
			}
			g := rec.Graph()
			goesBefore := func(what string, first, then pulumitest.Node) {
				t.Helper()
				if !pulumitest.DependsOn(g, first.URN, then.URN) {
					t.Errorf("destroy: %s: %s %s does not go before %s %s", what, first.Type, first.Name, then.Type, then.Name)
				}
			}

			appNS, monNS := rec.One(t, "kubernetes:core/v1:Namespace", "app"), rec.One(t, "kubernetes:core/v1:Namespace", "monitoring-ns")
			holders := []pulumitest.Node{appNS}
			// published: the namespaces whose Ingress ExternalDNS publishes (an internet-facing
			// ALB's). Only they wait for ExternalDNS: on a cold `up` the edge comes first.
			published := map[string]bool{appNS.URN: true}
			mon := rec.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
			grafana := mon.Inputs["values"].(map[string]any)["grafana"].(map[string]any)
			if ing, _ := grafana["ingress"].(map[string]any); ing["enabled"] == true {
				holders = append(holders, monNS)
				class, _ := ing["ingressClassName"].(string)
				published[monNS.URN] = class == grafanaALBClass
			}
			var needs []pulumitest.Node
			for _, typ := range []string{
				"kubernetes:networking.k8s.io/v1:IngressClass",
				"kubernetes:eks.amazonaws.com/v1:IngressClassParams",
				"aws:acm/certificate:Certificate",
				"aws:acm/certificateValidation:CertificateValidation",
				"aws:ec2/internetGateway:InternetGateway",
				"eks:index:Cluster",
			} {
				needs = append(needs, rec.ByType(typ)...)
			}
			for _, n := range rec.ByType("aws:ec2/subnet:Subnet") {
				if n.Inputs["tags"].(map[string]any)["tier"] == "public" {
					needs = append(needs, n)
				}
			}
			for _, n := range rec.ByType("kubernetes:helm.sh/v4:Chart") {
				if n.Name == "external-dns" {
					needs = append(needs, n)
				}
			}
			wantKinds := map[string]bool{"IngressClass": true, "IngressClassParams": true, "Certificate": true, "Cluster": true, "external-dns": true}
			if stack == "dev" { // prod brings its network; its subnets are not this stack's to delete
				wantKinds["Subnet"], wantKinds["InternetGateway"] = true, true
			}
			for _, n := range needs {
				delete(wantKinds, n.Type[strings.LastIndex(n.Type, ":")+1:])
				delete(wantKinds, n.Name)
			}
			if len(wantKinds) > 0 {
				t.Fatalf("the graph lacks %v; the walk checks nothing of them", wantKinds)
			}
			for _, ns := range holders {
				for _, need := range needs {
					if need.Name == "external-dns" && !published[ns.URN] {
						if pulumitest.DependsOn(g, ns.URN, need.URN) {
							t.Errorf("namespace %s waits for ExternalDNS, which publishes none of its Ingresses", ns.Name)
						}
						continue
					}
					goesBefore("a namespace with an Ingress before what its ALB needs", ns, need)
				}
			}

			switchCM := rec.One(t, "kubernetes:core/v1:ConfigMap", "cluster-network-policy")
			policies := 0
			for _, n := range g {
				switch {
				case n.Type == "kubernetes:networking.k8s.io/v1:NetworkPolicy":
					policies++
					goesBefore("every NetworkPolicy before the enforcement switch", n, switchCM)
				case slices.Contains([]string{"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"}, n.Type):
					goesBefore("every release (its charts render NetworkPolicies) before the enforcement switch", n, switchCM)
				}
			}
			if policies < 5 {
				t.Errorf("only %d NetworkPolicies walked", policies)
			}
		})
	}
}
