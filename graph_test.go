package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/pulumitest"
)

var graphStack = flag.String("graph", "", "run no test; print the planned resource tree of this stack instead (make graph STACK=dev)")

// keyInputs are the inputs worth a reviewer's eye, by resource type; other types show none.
var keyInputs = map[string][]string{
	"aws:ec2/vpc:Vpc":                                       {"cidrBlock"},
	"aws:ec2/subnet:Subnet":                                 {"availabilityZone", "cidrBlock", "tags.tier"},
	"aws:ec2/natGateway:NatGateway":                         {"subnetId"},
	"aws:ec2/route:Route":                                   {"destinationCidrBlock", "gatewayId", "natGatewayId"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                       {"serviceName"},
	"eks:index:Cluster":                                     {"name", "version", "authenticationMode", "autoMode.enabled", "endpointPublicAccess", "publicAccessCidrs", "enabledClusterLogTypes"},
	"aws:ecr/repository:Repository":                         {"name", "imageTagMutability", "forceDelete"},
	"docker:index/image:Image":                              {"imageName", "build.platform"},
	"kubernetes:helm.sh/v3:Release":                         {"chart", "version", "namespace", "atomic"},
	"kubernetes:storage.k8s.io/v1:StorageClass":             {"provisioner", "parameters.type"},
	"kubernetes:networking.k8s.io/v1:IngressClass":          {"spec.controller"},
	"pulumi:providers:aws":                                  {"region"},
	"pulumi:providers:kubernetes":                           {"context"},
	"aws:eks/podIdentityAssociation:PodIdentityAssociation": {"namespace", "serviceAccount"},
}

// TestMain runs the tests or, given a tool flag, one review tool instead of any test: the
// test binary is the tool, because the program it plans is this package's.
//
//	-graph STACK             the resource tree the program plans for that stack under mocks (make graph)
//	-estimate STACK          the stack's modeled time of a cold up and monthly cost (make estimate);
//	                         with -estimate-json, as JSON
//	-estimate-compare B,H    two JSON estimates of a stack compared, as Markdown (estimate.yml)
func TestMain(m *testing.M) {
	flag.Parse()
	if *graphStack != "" {
		os.Exit(tool(func() error { return printGraph(os.Stdout, *graphStack) }))
	}
	if asked, err := estimateTool(os.Stdout); asked {
		os.Exit(tool(func() error { return err }))
	}
	os.Exit(m.Run())
}

// tool runs a review tool and turns its error into an exit status.
func tool(run func() error) int {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// printGraph prints the resource tree the program plans for stack under mocks, indented like
// `pulumi preview`.
func printGraph(w io.Writer, stack string) error {
	rec, err := planStack(stack)
	if err != nil {
		return fmt.Errorf("planning stack %s: %w", stack, err)
	}
	printTree(w, rec.Graph())
	return nil
}

// printTree writes one line per resource under its parent: type, name, and key inputs.
func printTree(w io.Writer, nodes []pulumitest.Node) {
	children := map[string][]pulumitest.Node{}
	known := map[string]bool{}
	for _, n := range nodes {
		known[n.URN] = true
	}
	for _, n := range nodes {
		parent := n.Parent
		if !known[parent] {
			parent = "" // the stack itself
		}
		children[parent] = append(children[parent], n)
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		kids := children[parent]
		sort.SliceStable(kids, func(i, j int) bool {
			if kids[i].Type != kids[j].Type {
				return kids[i].Type < kids[j].Type
			}
			return kids[i].Name < kids[j].Name
		})
		for _, n := range kids {
			line := fmt.Sprintf("%s+ %s  %s", strings.Repeat("    ", depth), n.Type, n.Name)
			if n.Provider != "" {
				line += "  (provider " + n.Provider[strings.LastIndex(n.Provider, "::")+2:] + ")"
			}
			for _, k := range keyInputs[n.Type] {
				if v, ok := lookup(n.Inputs, k); ok {
					b, _ := json.Marshal(v)
					line += fmt.Sprintf("  %s=%s", k, b)
				}
			}
			fmt.Fprintln(w, line)
			walk(n.URN, depth+1)
		}
	}
	fmt.Fprintln(w, "pulumi:pulumi:Stack (mock plan; no cloud diff)")
	walk("", 1)
}

// lookup follows a dotted path through nested input maps.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// TestPrintTree checks the tree layout `make graph` relies on: children under their
// component, key inputs shown, the provider named.
func TestPrintTree(t *testing.T) {
	nodes := []pulumitest.Node{
		{URN: "urn:c", Type: "flask-eks:vpc:Network", Name: "network", Parent: "urn:stack"},
		{URN: "urn:v", Type: "aws:ec2/vpc:Vpc", Name: "network", Parent: "urn:c", Provider: "urn:pulumi:dev::flask-eks::pulumi:providers:aws::aws",
			Inputs: map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{"Name": "x"}}},
	}
	var b strings.Builder
	printTree(&b, nodes)
	want := "pulumi:pulumi:Stack (mock plan; no cloud diff)\n" +
		"    + flask-eks:vpc:Network  network\n" +
		"        + aws:ec2/vpc:Vpc  network  (provider aws)  cidrBlock=\"10.0.0.0/16\"\n"
	if b.String() != want {
		t.Errorf("tree:\n%s\nwant:\n%s", b.String(), want)
	}
}
