package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/<stack>.graph.json from the current program")

// stacks are the committed stack files; each has a graph snapshot.
var stacks = []string{"dev", "prod", "local"}

// TestGraphSnapshots runs the whole program under mocks for every committed stack file and
// compares the registered resource graph with testdata/<stack>.graph.json. A reviewer reads
// the snapshot diff in a pull request to see what `pulumi up` would change, without cloud
// credentials. Run `go test -run TestGraphSnapshots -update .` to accept a change.
func TestGraphSnapshots(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, err := runProgram(t, stack, stackConfig(t, stack))
			if err != nil {
				t.Fatalf("program failed for stack %s: %v", stack, err)
			}
			got, err := json.MarshalIndent(rec.graph(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", stack+".graph.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test -run TestGraphSnapshots -update .` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("graph of stack %s differs from %s; review the change and run `go test -run TestGraphSnapshots -update .`\n%s",
					stack, path, firstDiff(string(want), string(got)))
			}
		})
	}
}

// TestGraphIsDeterministic guards the snapshot itself: two runs must dump the same bytes.
func TestGraphIsDeterministic(t *testing.T) {
	cfg := stackConfig(t, "prod")
	var dumps [2][]byte
	for i := range dumps {
		rec, err := runProgram(t, "prod", cfg)
		if err != nil {
			t.Fatal(err)
		}
		dumps[i], _ = json.Marshal(rec.graph())
	}
	if !bytes.Equal(dumps[0], dumps[1]) {
		t.Fatalf("two runs of the same stack gave different graphs:\n%s", firstDiff(string(dumps[0]), string(dumps[1])))
	}
}

// TestSnapshotsHideSecrets checks that no generated or configured secret reaches a snapshot.
func TestSnapshotsHideSecrets(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["flask-eks:secretKey"] = "configured-secret-key-0123456789"
	rec, err := runProgram(t, "dev", cfg)
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(rec.graph())
	for _, leak := range []string{"configured-secret-key", "mockpw", "mock-ecr-login-token"} {
		if bytes.Contains(dump, []byte(leak)) {
			t.Errorf("graph contains secret material %q", leak)
		}
	}
	if !bytes.Contains(dump, []byte(`"[secret]"`)) {
		t.Error("graph has no [secret] placeholder; secrets are not being marked")
	}
}

// firstDiff shows the first differing line of two texts with some context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  snapshot: %s\n  program:  %s", i+1, x, y)
		}
	}
	return "(no line differs)"
}

// dependsOn reports whether from depends on to, directly or through other dependencies or
// through parents (a child of a component that depends on X waits for X as well).
func dependsOn(nodes []node, from, to string) bool {
	byURN := map[string]node{}
	for _, n := range nodes {
		byURN[n.URN] = n
	}
	seen := map[string]bool{}
	var walk func(u string) bool
	walk = func(u string) bool {
		if seen[u] {
			return false
		}
		seen[u] = true
		n := byURN[u]
		// A resource also depends on its provider, and through it on what configures it
		// (a cluster's kubeconfig), as the engine orders them.
		edges := append([]string{}, n.Dependencies...)
		if n.Provider != "" {
			edges = append(edges, n.Provider)
		}
		for _, d := range edges {
			if d == to || walk(d) {
				return true
			}
			// Depending on a component means depending on all of its children.
			for _, c := range nodes {
				if c.Parent == d && (c.URN == to || walk(c.URN)) {
					return true
				}
			}
		}
		return false
	}
	return walk(from)
}

func TestDependencies(t *testing.T) {
	rec, err := runProgram(t, "prod", stackConfig(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	g := rec.graph()
	cluster := rec.one(t, "eks:index:Cluster", "cluster")
	release := rec.one(t, "kubernetes:helm.sh/v3:Release", "app")
	monRelease := rec.one(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
	image := rec.one(t, "docker:index/image:Image", "app")
	ingressClass := rec.one(t, "kubernetes:networking.k8s.io/v1:IngressClass", "cluster-alb")
	storageClass := rec.one(t, "kubernetes:storage.k8s.io/v1:StorageClass", "cluster-gp3")

	cases := []struct {
		name     string
		from, to node
		want     bool
	}{
		{"cluster waits for private NAT routes", cluster, rec.one(t, "aws:ec2/route:Route", "network-private-eu-west-1c-default"), true},
		{"cluster waits for private subnets", cluster, rec.one(t, "aws:ec2/subnet:Subnet", "network-private-eu-west-1a"), true},
		{"app release waits for the IngressClass", release, ingressClass, true},
		{"app release waits for the StorageClass", release, storageClass, true},
		{"app release waits for the image", release, image, true},
		{"app release (its ServiceMonitor) waits for the monitoring release", release, monRelease, true},
		{"monitoring release waits for the StorageClass", monRelease, storageClass, true},
		{"image build does not wait for the cluster", image, cluster, false},
		{"image build does not wait for the VPC", image, rec.one(t, "aws:ec2/vpc:Vpc", "network"), false},
		// Teardown runs dependencies in reverse: the app release (which owns the Ingress and
		// so the ALB) goes before the cluster, and the cluster before its subnets.
		{"teardown: app release before cluster", release, cluster, true},
		{"teardown: monitoring release before cluster", monRelease, cluster, true},
	}
	for _, c := range cases {
		if got := dependsOn(g, c.from.URN, c.to.URN); got != c.want {
			t.Errorf("%s: dependsOn(%s, %s) = %v, want %v", c.name, c.from.Name, c.to.Name, got, c.want)
		}
	}
}

// TestChildrenAreParented checks that every resource belongs to a component, except the
// explicit providers and the generated app secrets, which belong to the stack.
func TestChildrenAreParented(t *testing.T) {
	for _, stack := range stacks {
		rec, err := runProgram(t, stack, stackConfig(t, stack))
		if err != nil {
			t.Fatal(err)
		}
		topLevel := map[string]bool{}
		for _, n := range rec.graph() {
			if strings.HasSuffix(n.Parent, "::pulumi:pulumi:Stack::flask-eks-"+stack) {
				topLevel[n.Type+"::"+n.Name] = true
			}
		}
		want := map[string]bool{
			"flask-eks:app:App::app":                                      true,
			"random:index/randomPassword:RandomPassword::app-secret-key":  true,
			"random:index/randomPassword:RandomPassword::app-db-password": true,
			"flask-eks:monitoring:Monitoring::monitoring":                 true,
		}
		if stack == "local" {
			want["pulumi:providers:kubernetes::existing-cluster"] = true
		} else {
			maps.Copy(want, map[string]bool{
				"pulumi:providers:aws::aws":      true,
				"flask-eks:vpc:Network::network": true,
				"flask-eks:eks:Cluster::cluster": true,
			})
		}
		if !maps.Equal(topLevel, want) {
			t.Errorf("%s: top-level resources = %v, want %v", stack, slices.Sorted(maps.Keys(topLevel)), slices.Sorted(maps.Keys(want)))
		}
	}
}

// TestAWSResourcesUseTaggedProvider checks that every AWS resource and the pulumi-eks
// component use the explicit provider that carries the region and default tags.
func TestAWSResourcesUseTaggedProvider(t *testing.T) {
	rec, err := runProgram(t, "prod", stackConfig(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	p := rec.one(t, "pulumi:providers:aws", "aws")
	tags := p.Inputs["defaultTags"].(map[string]any)["tags"].(map[string]any)
	for k, v := range map[string]string{"Project": "flask-eks", "Environment": "prod", "Stack": "prod", "ManagedBy": "pulumi", "CostCenter": "platform-prod"} {
		if tags[k] != v {
			t.Errorf("default tag %s = %v, want %s", k, tags[k], v)
		}
	}
	if p.Inputs["region"] != "eu-west-1" {
		t.Errorf("provider region = %v", p.Inputs["region"])
	}
	n := 0
	for _, r := range rec.graph() {
		if strings.HasPrefix(r.Type, "aws:") {
			n++
			if r.Provider != p.URN {
				t.Errorf("%s %s uses provider %q, want the tagged provider", r.Type, r.Name, r.Provider)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d AWS resources checked", n)
	}
	// pulumi-eks creates its AWS resources inside its remote component, with the provider
	// the component is handed.
	if got := rec.one(t, "eks:index:Cluster", "cluster").providers["aws"]; got != p.URN {
		t.Errorf("pulumi-eks Cluster gets AWS provider %q, want the tagged provider", got)
	}
}

// TestKubernetesResourcesUseExplicitProvider checks that no Kubernetes object falls back to
// the ambient kubeconfig.
func TestKubernetesResourcesUseExplicitProvider(t *testing.T) {
	for _, stack := range stacks {
		rec, err := runProgram(t, stack, stackConfig(t, stack))
		if err != nil {
			t.Fatal(err)
		}
		providers := rec.byType("pulumi:providers:kubernetes")
		if len(providers) != 1 {
			t.Fatalf("%s: %d Kubernetes providers, want 1", stack, len(providers))
		}
		n := 0
		for _, r := range rec.graph() {
			if strings.HasPrefix(r.Type, "kubernetes:") {
				n++
				if r.Provider != providers[0].URN {
					t.Errorf("%s: %s %s uses provider %q", stack, r.Type, r.Name, r.Provider)
				}
			}
		}
		if n < 5 {
			t.Errorf("%s: only %d Kubernetes objects", stack, n)
		}
	}
}

// TestLocalStack: the local stack deploys the same components into an existing cluster,
// with no AWS, EKS, ECR or Docker resource, the image from config and no Ingress.
func TestLocalStack(t *testing.T) {
	rec, err := runProgram(t, "local", stackConfig(t, "local"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rec.graph() {
		for _, prefix := range []string{"aws:", "eks:", "docker:", "pulumi:providers:aws", "flask-eks:vpc:", "flask-eks:eks:"} {
			if strings.HasPrefix(n.Type, prefix) {
				t.Errorf("local stack declares %s %s", n.Type, n.Name)
			}
		}
	}
	if ctx := rec.one(t, "pulumi:providers:kubernetes", "existing-cluster").Inputs["context"]; ctx != "kind-flask" {
		t.Errorf("provider context = %v, want kind-flask from kubeContext", ctx)
	}
	values := rec.one(t, "kubernetes:helm.sh/v3:Release", "app").Inputs["values"].(map[string]any)
	image := values["image"].(map[string]any)
	if image["repository"] != "flask-app" || image["tag"] != "dev" || image["digest"] != "" {
		t.Errorf("image values = %v, want flask-app:dev from the image key", image)
	}
	if values["ingress"].(map[string]any)["enabled"] != false || values["service"].(map[string]any)["type"] != "ClusterIP" {
		t.Errorf("ingress/service = %v %v", values["ingress"], values["service"])
	}
	if values["config"].(map[string]any)["REVEAL_SECRETS"] != true {
		t.Error("the local stack sets revealSecrets for debugging")
	}
	if len(rec.byType("kubernetes:networking.k8s.io/v1:Ingress")) != 0 {
		t.Error("an Ingress is read back although the local stack has none")
	}
	mon := rec.one(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
	if ne := mon.Inputs["values"].(map[string]any)["nodeExporter"].(map[string]any); ne["enabled"] != false {
		t.Errorf("node exporter should be off in the local stack: %v", ne)
	}
}
