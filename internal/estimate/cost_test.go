package estimate

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// testPrices has round figures, so that the known answers below can be worked out by hand.
var testPrices = PriceTable{Region: "test-1", AsOf: "2026-01-01", Prices: map[string]Price{
	pEKSStandard: {0.1, "", "p", "c"}, pEKSExtended: {0.6, "", "p", "c"},
	pNATHour: {0.05, "", "p", "c"}, pNATGB: {0.05, "", "p", "c"}, pPublicIPv4: {0.005, "", "p", "c"}, pCrossAZGB: {0.01, "", "p", "c"},
	pALBHour: {0.02, "", "p", "c"}, pLCUHour: {0.01, "", "p", "c"}, pGP3: {0.1, "", "p", "c"}, pS3: {0.02, "", "p", "c"},
	pECR: {0.1, "", "p", "c"}, pLogsIngest: {0.5, "", "p", "c"}, pKMSKey: {1, "", "p", "c"}, pSecret: {0.4, "", "p", "c"},
	ec2Key("m6a.large"): {0.1, "", "p", "c"}, autoModeKey("m6a.large"): {0.01, "", "p", "c"},
}}

var testUsage = Usage{NATGBPerMonth: 100, ALBLCUs: 2, PodLogGBPerDay: 0, AccessLogGBPerDay: 1, ControlPlaneLogGBPerMonth: 3,
	ImageGB: 0.5, InstanceType: "m6a.large", SpotPriceRatio: 0.4}

// awsStack is a two-zone stack: a cluster with Auto Mode and two log types; one NAT gateway, or
// one per zone; the app (2 replicas of 500m/512Mi) behind one internet-facing ALB whose access
// logs go to a bucket kept 30 days; metrics-server (2 replicas, one per node); Prometheus
// (200m/1Gi, 50 GiB) and Grafana (100m/128Mi, 10 GiB); an ECR repository keeping 20 images; a
// KMS key and a secret.
func awsStack(natPerZone bool) []Node {
	k8s := urn("pulumi:providers:kubernetes", "cluster")
	sub := func(name, id, zone, role string) Node {
		n := node(typeSubnet, name, "", "", map[string]any{"availabilityZone": zone, "tags": map[string]any{role: "1"}})
		n.ID = id
		return n
	}
	nodes := []Node{
		sub("private-a", "subnet-a", "z-a", "kubernetes.io/role/internal-elb"),
		sub("private-b", "subnet-b", "z-b", "kubernetes.io/role/internal-elb"),
		sub("public-a", "subnet-pa", "z-a", "kubernetes.io/role/elb"),
		sub("public-b", "subnet-pb", "z-b", "kubernetes.io/role/elb"),
		node(typeEIP, "nat-a", "", "", nil),
		node(typeNatGateway, "a", "", "", map[string]any{"subnetId": "subnet-pa"}, urn(typeEIP, "nat-a")),
		node(typeCluster, "cluster", "", "", map[string]any{"version": "1.35", "autoMode": map[string]any{"enabled": true},
			"enabledClusterLogTypes": []any{"api", "audit"}}),
		node("pulumi:providers:kubernetes", "cluster", "", "", nil, urn(typeCluster, "cluster")),
		node(typeIngressParams, "alb-params", "", k8s, map[string]any{"metadata": map[string]any{"name": "alb"}, "spec": map[string]any{
			"group": map[string]any{"name": "g1"}, "scheme": "internet-facing",
			"loadBalancerAttributes": []any{map[string]any{"key": "access_logs.s3.bucket", "value": "logs-bucket"}}}}),
		node(typeIngressClass, "alb", "", k8s, map[string]any{"metadata": map[string]any{"name": "alb",
			"annotations": map[string]any{"ingressclass.kubernetes.io/is-default-class": "true"}},
			"spec": map[string]any{"parameters": map[string]any{"name": "alb"}}}),
		node(typeRelease, "app", "", k8s, map[string]any{"chart": "./app/chart", "values": map[string]any{
			"replicaCount": 2.0, "resources": map[string]any{"requests": map[string]any{"cpu": "500m", "memory": "512Mi"}},
			"ingress": map[string]any{"enabled": true, "className": "alb"}}}),
		node(typeChart, "metrics-server", "", k8s, map[string]any{"chart": "metrics-server", "values": map[string]any{
			"replicas": 2.0, "resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "200Mi"}},
			"affinity": map[string]any{"podAntiAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": []any{}}}}}),
		node(typeRelease, "monitoring", "", k8s, map[string]any{"chart": "kube-prometheus-stack", "values": map[string]any{
			"prometheus": map[string]any{"prometheusSpec": map[string]any{
				"resources":   map[string]any{"requests": map[string]any{"cpu": "200m", "memory": "1Gi"}},
				"storageSpec": map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{"resources": map[string]any{"requests": map[string]any{"storage": "50Gi"}}}}}}},
			"alertmanager": map[string]any{"enabled": false},
			"grafana": map[string]any{"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}},
				"persistence": map[string]any{"enabled": true, "size": "10Gi"}},
			"nodeExporter": map[string]any{"enabled": true}}}),
		node(typeBucket, "alb-logs", "", "", nil),
		node(typeBucketLifecycle, "alb-logs", "", "", map[string]any{"bucket": "logs-bucket",
			"rules": []any{map[string]any{"expiration": map[string]any{"days": 30.0}}}}, urn(typeBucket, "alb-logs")),
		node(typeECRRepository, "image", "", "", map[string]any{"name": "p/app"}),
		node(typeECRLifecycle, "image", "", "", map[string]any{"policy": `{"rules":[{"selection":{"countType":"imageCountMoreThan","countNumber":20}}]}`},
			urn(typeECRRepository, "image")),
		node(typeKMSKey, "key", "", "", nil),
		node(typeSecret, "secret", "", "", nil, urn(typeKMSKey, "key")),
	}
	if natPerZone {
		nodes = append(nodes,
			node(typeEIP, "nat-b", "", "", nil),
			node(typeNatGateway, "b", "", "", map[string]any{"subnetId": "subnet-pb"}, urn(typeEIP, "nat-b")))
	}
	return nodes
}

func linesOf(t *testing.T, nodes []Node, u Usage, extended bool) []Line {
	t.Helper()
	lines, err := money(newGraph(nodes), testPrices, u, extended)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func total(lines []Line) float64 {
	sum := 0.0
	for _, l := range lines {
		sum += l.USD
	}
	return math.Round(sum*100) / 100
}

// TestMoneyKnownAnswers prices the hand-built stack line by line; every figure is worked out in
// the comment beside it.
func TestMoneyKnownAnswers(t *testing.T) {
	lines := linesOf(t, awsStack(false), testUsage, false)
	want := []struct {
		item       string
		usd        float64
		assumption bool
	}{
		{"control plane, Kubernetes 1.35 in standard support", 73.00, false},  // 730 h × 0.1
		{"control-plane log ingestion", 3.00, true},                           // 2 types × 3 GB × 0.5
		{"EC2 m6a.large, NodePool general-purpose (on-demand)", 146.00, true}, // 2 nodes (zone spread) × 730 h × 0.1
		{"Auto Mode management fee", 14.60, true},                             // 1460 h × 0.01
		{"node volumes (gp3)", 16.00, true},                                   // 2 × 80 GiB × 0.1
		{"gateway hours", 36.50, false},                                       // 1 × 730 h × 0.05
		{"data processed", 5.00, true},                                        // 100 GB × 0.05
		{"public IPv4 addresses", 3.65, false},                                // 1 EIP × 730 h × 0.005
		{"cross-zone transfer to the gateway", 1.00, true},                    // 100 GB × 1/2 zones × 2 directions × 0.01
		{"load balancer hours", 14.60, false},                                 // 1 ALB × 730 h × 0.02
		{"capacity units", 14.60, true},                                       // 1 ALB × 2 LCU × 730 h × 0.01
		{"public IPv4 addresses", 7.30, false},                                // 1 internet-facing ALB × 2 zones × 730 h × 0.005
		{"persistent volumes (gp3)", 6.00, false},                             // (50 + 10) GiB × 0.1
		{"ALB access logs in alb-logs", 0.60, true},                           // 1 GB/day × 30 days × 0.02
		{"images in p/app", 1.00, true},                                       // 20 images × 0.5 GB × 0.1
		{"customer managed keys", 1.00, false},
		{"secrets", 0.40, false},
	}
	if len(lines) != len(want) {
		for _, l := range lines {
			t.Logf("%s / %s: %.2f (%s)", l.Group, l.Item, l.USD, l.Basis)
		}
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, w := range want {
		l := lines[i]
		if l.Item != w.item || math.Abs(l.USD-w.usd) > 0.005 || l.Assumption != w.assumption {
			t.Errorf("line %d: %s $%.4f assumption=%v (%s), want %s $%.2f assumption=%v", i, l.Item, l.USD, l.Assumption, l.Basis, w.item, w.usd, w.assumption)
		}
	}
	if got := total(lines); got != 344.25 {
		t.Errorf("total $%.2f, want $344.25", got)
	}
}

// TestExtendedSupportRate: a version out of standard support pays the extended rate.
func TestExtendedSupportRate(t *testing.T) {
	l := linesOf(t, awsStack(false), testUsage, true)[0]
	if l.USD != 438 || !strings.Contains(l.Item, "extended support") {
		t.Errorf("control plane line %q $%.2f, want extended support at $438.00 (730 h × 0.6)", l.Item, l.USD)
	}
}

// TestSpotNodePool: pods that select a NodePool allowing Spot get nodes of their own, priced at
// the Spot ratio; the others stay on the built-in general-purpose pool, on-demand.
func TestSpotNodePool(t *testing.T) {
	nodes := awsStack(false)
	for i := range nodes {
		if nodes[i].Type == typeRelease && nodes[i].Name == "app" {
			nodes[i].Inputs["values"].(map[string]any)["nodeSelector"] = map[string]any{"karpenter.sh/nodepool": "app"}
		}
	}
	nodes = append(nodes, node(typeNodePool, "app", "", "", map[string]any{"metadata": map[string]any{"name": "app"}, "spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"requirements": []any{map[string]any{"key": "karpenter.sh/capacity-type", "operator": "In", "values": []any{"spot", "on-demand"}}}}}}}))
	want := map[string]float64{
		"EC2 m6a.large, NodePool app (Spot)":                  58.40,  // 2 app pods spread over 2 zones: 2 nodes × 730 h × 0.1 × 0.4
		"EC2 m6a.large, NodePool general-purpose (on-demand)": 146.00, // metrics-server's 2 replicas apart: 2 nodes × 730 h × 0.1
		"Auto Mode management fee":                            29.20,  // 4 nodes × 730 h × 0.01
	}
	got := map[string]float64{}
	for _, l := range linesOf(t, nodes, testUsage, false) {
		got[l.Item] = l.USD
		if strings.HasSuffix(l.Item, "(Spot)") && !l.PriceUnverified {
			t.Errorf("%s: a Spot price is never a list price, want it marked unverified", l.Item)
		}
	}
	for item, usd := range want {
		if math.Abs(got[item]-usd) > 0.005 {
			t.Errorf("%s: $%.2f, want $%.2f (lines %v)", item, got[item], usd, got)
		}
	}
}

// TestNATModesDifferByNATLinesOnly: one NAT gateway per zone against a single one changes the
// NAT lines and nothing else, and the comparison says so.
func TestNATModesDifferByNATLinesOnly(t *testing.T) {
	single, perZone := linesOf(t, awsStack(false), testUsage, false), linesOf(t, awsStack(true), testUsage, false)
	others := func(lines []Line) string {
		var b strings.Builder
		for _, l := range lines {
			if l.Group != gNAT {
				fmt.Fprintf(&b, "%s/%s %.2f\n", l.Group, l.Item, l.USD)
			}
		}
		return b.String()
	}
	if a, b := others(single), others(perZone); a != b {
		t.Errorf("lines outside the NAT group differ:\nsingle:\n%s\none-per-zone:\n%s", a, b)
	}
	// 2 gateways: +730 h × 0.05 + 730 h × 0.005 (the second address) − $1.00 of cross-zone traffic.
	if d := math.Round((total(perZone)-total(single))*100) / 100; d != 39.15 {
		t.Errorf("one gateway per zone adds $%.2f, want $39.15", d)
	}
	base := &Report{Stack: "t", Money: Money{Lines: single, TotalUSD: total(single)}}
	head := &Report{Stack: "t", Money: Money{Lines: perZone, TotalUSD: total(perZone)}}
	d := Compare(base, head)
	if len(d.Groups) != 1 || d.Groups[0].Group != gNAT {
		t.Errorf("changed groups %+v, want only %s", d.Groups, gNAT)
	}
	if got := d.Summary(); !strings.HasPrefix(got, "t: +$39/month (+1 NAT gateway);") {
		t.Errorf("summary %q, want it to start with \"t: +$39/month (+1 NAT gateway);\"", got)
	}
}

// TestEstimateEndToEnd runs Estimate on the hand-built stack with the real eu-west-1 table: the
// report's total is its lines' sum, the assumed part only the marked lines, and the time part
// present.
func TestEstimateEndToEnd(t *testing.T) {
	u := testUsage
	r, err := Estimate(Input{Stack: "t", Nodes: awsStack(false), Region: "eu-west-1", Usage: u})
	if err != nil {
		t.Fatal(err)
	}
	sum, assumed := 0.0, 0.0
	for _, l := range r.Money.Lines {
		sum += l.USD
		if l.Assumption {
			assumed += l.USD
		}
	}
	if math.Abs(sum-r.Money.TotalUSD) > 0.005 || math.Abs(assumed-r.Money.AssumedUSD) > 0.005 {
		t.Errorf("total $%.2f (assumed $%.2f), lines sum to $%.2f (assumed $%.2f)", r.Money.TotalUSD, r.Money.AssumedUSD, sum, assumed)
	}
	if r.Time.AppServing <= 0 || r.Time.WholeUp < r.Time.AppServing || len(r.Time.CriticalPath) == 0 {
		t.Errorf("time %+v: want app serving before the whole up, and a critical path", r.Time)
	}
	if _, err := Estimate(Input{Stack: "t", Nodes: awsStack(false), Region: "mars-1", Usage: u}); err == nil || !strings.Contains(err.Error(), "mars-1") {
		t.Errorf("an unknown region gave %v, want an error naming it", err)
	}
}

// TestCapacityKnownAnswer packs pods onto m6a.large nodes: allocatable 1.93 CPU and 6012.6 MiB
// (8192 × 0.925 − (255 + 11 × 110) − 100).
func TestCapacityKnownAnswer(t *testing.T) {
	cpu, mem := allocatable(instances["m6a.large"])
	if !near(cpu, 1.93) || math.Abs(mem-6012.6) > 0.01 {
		t.Errorf("m6a.large allocatable %.3f CPU %.1f MiB, want 1.93 and 6012.6", cpu, mem)
	}
	k8s := urn("pulumi:providers:kubernetes", "c")
	release := func(name string, replicas float64, cpu, mem string) Node {
		return node(typeRelease, name, "", k8s, map[string]any{"chart": "./app/chart", "values": map[string]any{
			"replicaCount": replicas, "resources": map[string]any{"requests": map[string]any{"cpu": cpu, "memory": mem}}}})
	}
	// 9 pods of 1 CPU: two would need 2 CPU of the 1.93 a node offers, so one a node: 9 nodes.
	one := func(g *graph, zones int) (Capacity, error) {
		cs, err := capacities(g, "m6a.large", zones)
		if err != nil || len(cs) != 1 {
			return Capacity{}, fmt.Errorf("%d pools: %v", len(cs), err)
		}
		return cs[0], nil
	}
	c, err := one(newGraph([]Node{release("a", 9, "1", "64Mi")}), 3)
	if err != nil {
		t.Fatal(err)
	}
	if c.Nodes != 9 || c.Bound != "cpu" {
		t.Errorf("9 × 1 CPU: %d nodes bound by %s, want 9 bound by cpu", c.Nodes, c.Bound)
	}
	// 10 × 2 GiB: two fit in 6012.6 MiB, a third does not: 5 nodes.
	if c, _ := one(newGraph([]Node{release("b", 10, "10m", "2Gi")}), 3); c.Nodes != 5 || c.Bound != "memory" {
		t.Errorf("10 × 2 GiB: %d nodes bound by %s, want 5 bound by memory", c.Nodes, c.Bound)
	}
	// Small pods that spread across zones: a node per zone, up to the replicas.
	for _, tc := range []struct {
		replicas    float64
		zones, want int
	}{{3, 3, 3}, {3, 2, 2}, {1, 3, 1}} {
		c, _ := one(newGraph([]Node{release("d", tc.replicas, "10m", "64Mi")}), tc.zones)
		if c.Nodes != tc.want {
			t.Errorf("%g small spread pods in %d zones: %d nodes, want %d", tc.replicas, tc.zones, c.Nodes, tc.want)
		}
	}
	// A pod larger than a node is an error, not a node count.
	if _, err := one(newGraph([]Node{release("c", 1, "3", "1Gi")}), 3); err == nil {
		t.Error("a 3-CPU pod on a 2-vCPU type gave no error")
	}
}

// TestBroughtNetwork: a cluster in a network of another stack (no VPC, subnets or NAT gateways
// in the graph) takes its zones from the subnets it is given; the estimate prices no NAT and
// says so.
func TestBroughtNetwork(t *testing.T) {
	var nodes []Node
	for _, n := range awsStack(false) {
		if n.Type == typeSubnet || n.Type == typeNatGateway || n.Type == typeEIP {
			continue
		}
		if n.Type == typeCluster {
			n.Inputs["privateSubnetIds"] = []any{"subnet-1", "subnet-2", "subnet-3"}
		}
		nodes = append(nodes, n)
	}
	g := newGraph(nodes)
	if z := azCount(g); z != 3 {
		t.Errorf("%d zones, want 3 (the cluster's private subnets)", z)
	}
	lines, err := money(g, testPrices, testUsage, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Group == gNAT {
			t.Errorf("a NAT line for a network of another stack: %+v", l)
		}
		if l.Group == gALB && l.Item == "public IPv4 addresses" && l.Quantity != 3*HoursPerMonth {
			t.Errorf("the internet-facing ALB has %g IP-hours, want 3 zones × 730 h", l.Quantity)
		}
	}
	r, err := Estimate(Input{Stack: "t", Nodes: nodes, Region: "eu-west-1", Usage: testUsage})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Money.Notes) != 1 || !strings.Contains(r.Money.Notes[0], "another stack") {
		t.Errorf("notes %q, want the network's costs left to its stack", r.Money.Notes)
	}
}
