package estimate

import (
	"math"
	"strings"
	"testing"
)

// A hand-built graph, in the shapes the program registers. Durations (durations.go): VPC,
// subnet, route, IAM and Pod Identity 5 s each; NAT gateway 2 min; cluster 10 min; Kubernetes
// objects 2 s; charts and releases 1.5 min, kube-prometheus-stack 4 min.
const (
	stack = "urn:pulumi:t::p::pulumi:pulumi:Stack::p-t"
	pre   = "urn:pulumi:t::p::"
)

func urn(typ, name string) string { return pre + typ + "::" + name }

// node builds a node; deps are URNs.
func node(typ, name, parent, provider string, inputs map[string]any, deps ...string) Node {
	if parent == "" {
		parent = stack
	}
	if inputs == nil {
		inputs = map[string]any{}
	}
	return Node{URN: urn(typ, name), Type: typ, Name: name, Parent: parent, Provider: provider, Dependencies: deps, Inputs: inputs}
}

// miniStack is a network, a cluster behind the NAT routes, the Kubernetes provider, and the app's
// release beside a monitoring release that waits for a Loki chart.
func miniStack() []Node {
	net := urn("flask-eks:vpc:Network", "network")
	vpc := urn("aws:ec2/vpc:Vpc", "network")
	pub := urn("aws:ec2/subnet:Subnet", "public")
	priv := urn("aws:ec2/subnet:Subnet", "private")
	nat := urn(typeNatGateway, "nat")
	route := urn("aws:ec2/route:Route", "private-default")
	cluster := urn(typeCluster, "cluster")
	k8s := urn("pulumi:providers:kubernetes", "cluster")
	ns := urn("kubernetes:core/v1:Namespace", "app")
	loki := urn(typeChart, "loki")
	return []Node{
		node("flask-eks:vpc:Network", "network", "", "", nil),
		node("aws:ec2/vpc:Vpc", "network", net, "", nil),
		node("aws:ec2/subnet:Subnet", "public", net, "", nil, vpc),
		node("aws:ec2/subnet:Subnet", "private", net, "", nil, vpc),
		node(typeNatGateway, "nat", net, "", nil, pub),
		node("aws:ec2/route:Route", "private-default", net, "", nil, nat),
		node(typeCluster, "cluster", "", "", nil, priv, route),
		node("pulumi:providers:kubernetes", "cluster", "", "", nil, cluster),
		node("kubernetes:core/v1:Namespace", "app", "", k8s, nil),
		node(typeRelease, "app", "", k8s, map[string]any{"chart": "./app/chart"}, ns),
		node(typeChart, "loki", "", k8s, map[string]any{"chart": "loki"}),
		node(typeRelease, "monitoring", "", k8s, map[string]any{"chart": "kube-prometheus-stack"}, loki),
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func scheduleOf(t *testing.T, nodes []Node) *schedule {
	t.Helper()
	s, err := newSchedule(newGraph(nodes))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestScheduleKnownAnswers checks the modeled times of the hand-built stack against sums worked
// out by hand.
func TestScheduleKnownAnswers(t *testing.T) {
	s := scheduleOf(t, miniStack())
	// VPC 5 s → public subnet 5 s → NAT 2 min → route 5 s → cluster 10 min.
	cluster := 3*awsCall + 2 + 10
	want := map[string]float64{
		urn("aws:ec2/subnet:Subnet", "private"):       2 * awsCall,
		urn(typeNatGateway, "nat"):                    2*awsCall + 2,
		urn(typeCluster, "cluster"):                   cluster,
		urn("pulumi:providers:kubernetes", "cluster"): cluster,
		urn("kubernetes:core/v1:Namespace", "app"):    cluster + kubeCall,
		urn(typeRelease, "app"):                       cluster + kubeCall + 1.5,
		urn(typeChart, "loki"):                        cluster + 1.5,
		urn(typeRelease, "monitoring"):                cluster + 1.5 + 4,
	}
	for u, w := range want {
		if !near(s.finish[u], w) {
			t.Errorf("%s finishes at %.4f min, want %.4f", u, s.finish[u], w)
		}
	}
	if got := s.whole(); got != urn(typeRelease, "monitoring") {
		t.Errorf("the up ends with %s, want the monitoring release", got)
	}
}

// TestCriticalPath checks the chain and the reasons shown, with zero-time links folded.
func TestCriticalPath(t *testing.T) {
	s := scheduleOf(t, miniStack())
	var got []string
	for _, l := range s.path(s.whole()) {
		got = append(got, l.Name+"|"+l.Via)
	}
	want := []string{
		"network|",
		"public|dependency",
		"nat|dependency",
		"private-default|dependency",
		"cluster|dependency",
		"loki|provider (through kubernetes cluster)",
		"monitoring|dependency",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("critical path:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestComponentDependencyMeansDescendants: a dependency on a component waits for everything
// under it, grandchildren included.
func TestComponentDependencyMeansDescendants(t *testing.T) {
	outer := urn("flask-eks:x:Outer", "outer")
	inner := urn("flask-eks:x:Inner", "inner")
	nodes := []Node{
		node("flask-eks:x:Outer", "outer", "", "", nil),
		node("flask-eks:x:Inner", "inner", outer, "", nil),
		node(typeNatGateway, "deep", inner, "", nil),
		node("aws:ec2/vpc:Vpc", "waiter", "", "", nil, outer),
	}
	s := scheduleOf(t, nodes)
	if got, want := s.finish[urn("aws:ec2/vpc:Vpc", "waiter")], 2+awsCall; !near(got, want) {
		t.Errorf("a resource depending on a component finishes at %.3f, want %.3f (after the component's grandchild)", got, want)
	}
}

// TestChildWaitsForParentRegistration: a component that depends on something registers after
// it, and so do its children.
func TestChildWaitsForParentRegistration(t *testing.T) {
	comp := urn("flask-eks:x:Comp", "comp")
	nodes := []Node{
		node(typeNatGateway, "slow", "", "", nil),
		node("flask-eks:x:Comp", "comp", "", "", nil, urn(typeNatGateway, "slow")),
		node("aws:ec2/vpc:Vpc", "child", comp, "", nil),
	}
	s := scheduleOf(t, nodes)
	if got, want := s.finish[urn("aws:ec2/vpc:Vpc", "child")], 2+awsCall; !near(got, want) {
		t.Errorf("the child finishes at %.3f, want %.3f (after its parent's dependency)", got, want)
	}
}

// TestSecretGate: a release whose values name a Secret that an ExternalSecret makes cannot
// finish before the Secret exists and its pods start.
func TestSecretGate(t *testing.T) {
	eso := urn(typeChart, "eso")
	nodes := []Node{
		node(typeChart, "eso", "", "", map[string]any{"chart": "external-secrets"}),
		node(typeExternalSecret, "es", "", "", map[string]any{"metadata": map[string]any{"name": "es", "namespace": "app"},
			"spec": map[string]any{"target": map[string]any{"name": "app-secrets"}}}, eso),
		node(typeRelease, "app", "", "", map[string]any{"chart": "./app/chart", "namespace": "app",
			"values": map[string]any{"secrets": map[string]any{"existingSecret": "app-secrets"}}}),
		// Same Secret name in another namespace: no gate.
		node(typeRelease, "other", "", "", map[string]any{"chart": "./app/chart", "namespace": "other",
			"values": map[string]any{"secrets": map[string]any{"existingSecret": "app-secrets"}}}),
	}
	s := scheduleOf(t, nodes)
	if got, want := s.finish[urn(typeRelease, "app")], 1.5+awsCall+PodStart.Minutes; !near(got, want) {
		t.Errorf("the gated release finishes at %.3f, want %.3f (ESO chart, ExternalSecret, then its pods)", got, want)
	}
	if got := s.finish[urn(typeRelease, "other")]; !near(got, 1.5) {
		t.Errorf("a release in another namespace finishes at %.3f, want 1.5 (no gate)", got)
	}
	path := s.path(urn(typeRelease, "app"))
	if last := path[len(path)-1]; last.Via != "its pods mount Secret app-secrets" || !near(last.Minutes, PodStart.Minutes) {
		t.Errorf("the gated link is %+v, want the Secret's gate and PodStart", last)
	}
}

// TestScheduleErrors: a cycle and an unknown type are errors, never a silent zero.
func TestScheduleErrors(t *testing.T) {
	a, b := urn("aws:ec2/vpc:Vpc", "a"), urn("aws:ec2/vpc:Vpc", "b")
	if _, err := newSchedule(newGraph([]Node{node("aws:ec2/vpc:Vpc", "a", "", "", nil, b), node("aws:ec2/vpc:Vpc", "b", "", "", nil, a)})); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a cycle gave %v, want an error naming the cycle", err)
	}
	if _, err := newSchedule(newGraph([]Node{node("aws:new/thing:Thing", "x", "", "", nil)})); err == nil || !strings.Contains(err.Error(), "aws:new/thing:Thing") {
		t.Errorf("an unknown type gave %v, want an error naming it", err)
	}
}

// TestServingDefinition: the app serves when its release, its Ingress read, the certificate's
// validation and ExternalDNS are all done, whichever is last.
func TestServingDefinition(t *testing.T) {
	slow := urn(typeNatGateway, "slow")
	base := func() []Node {
		return []Node{
			node(typeNatGateway, "slow", "", "", nil),
			node(typeRelease, AppRelease, "", "", map[string]any{"chart": "./app/chart"}),
			node(typeIngress, AppRelease, "", "", nil, urn(typeRelease, AppRelease)),
		}
	}
	cases := []struct {
		name  string
		extra []Node
		want  float64
	}{
		{"release and its Ingress read", nil, 1.5 + kubeCall},
		{"certificate validated later", []Node{node(typeCertValidation, "cert", "", "", nil, slow)}, 2 + 2},
		{"ExternalDNS running later", []Node{node(typeChart, "external-dns", "", "", map[string]any{"chart": "external-dns"}, slow)}, 2 + 1.5},
		{"ExternalDNS not awaited, its pods ready later", []Node{node(typeChart, "external-dns", "", "", map[string]any{"chart": "external-dns", "skipAwait": true}, slow)}, 2 + 1.5},
		{"other charts do not count", []Node{node(typeChart, "keda", "", "", map[string]any{"chart": "keda"}, slow)}, 1.5 + kubeCall},
	}
	for _, c := range cases {
		g := newGraph(append(base(), c.extra...))
		s, err := newSchedule(g)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ready(s.latestReady(servingTargets(g))); !near(got, c.want) {
			t.Errorf("%s: the app serves at %.3f, want %.3f", c.name, got, c.want)
		}
	}
}

// TestNotAwaitedChart: a chart declared with skipAwait is done for Pulumi once its objects exist,
// so what depends on it starts seconds later; its pods are ready an install's time after its
// start, and the path to serving shows that whole time on its link.
func TestNotAwaitedChart(t *testing.T) {
	dns := urn(typeChart, "external-dns")
	ns := urn("kubernetes:core/v1:Namespace", "app")
	nodes := []Node{
		node(typeChart, "external-dns", "", "", map[string]any{"chart": "external-dns", "skipAwait": true}),
		node("kubernetes:core/v1:Namespace", "app", "", "", nil, dns),
		node(typeRelease, AppRelease, "", "", map[string]any{"chart": "./app/chart"}, ns),
	}
	s := scheduleOf(t, nodes)
	if got, want := s.finish[dns], kubeCall; !near(got, want) {
		t.Errorf("the chart is done at %.3f, want %.3f (its objects created, not awaited)", got, want)
	}
	if got, want := s.ready(dns), 1.5; !near(got, want) {
		t.Errorf("its pods are ready at %.3f, want %.3f", got, want)
	}
	rel := urn(typeRelease, AppRelease)
	if got, want := s.finish[rel], 2*kubeCall+1.5; !near(got, want) {
		t.Errorf("the app's release is done at %.3f, want %.3f: it waits for the chart's objects only", got, want)
	}
	// The path to the chart's readiness shows the install's time, marked as not awaited.
	p := s.readyPath(dns)
	if last := p[len(p)-1]; !near(last.Minutes, 1.5) || !strings.Contains(last.Via, "not awaited") {
		t.Errorf("the chart's link is %+v, want 1.5 min marked not awaited", last)
	}
	// Without skipAwait, the namespace and the release wait for the whole install.
	nodes[0].Inputs = map[string]any{"chart": "external-dns"}
	if got, want := scheduleOf(t, nodes).finish[rel], 1.5+kubeCall+1.5; !near(got, want) {
		t.Errorf("awaited: the app's release is done at %.3f, want %.3f", got, want)
	}
}
