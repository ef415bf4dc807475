package estimate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Node is one resource of a planned graph, in the shape of the graph snapshots
// (testdata/<stack>.graph.json): what the program registered under mocks, with its parent, its
// provider, its dependencies and its inputs (secrets already replaced by "[secret]").
type Node struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	ID           string         `json:"id"`
	Parent       string         `json:"parent"`
	Provider     string         `json:"provider"`
	Dependencies []string       `json:"dependencies"`
	Inputs       map[string]any `json:"inputs"`
}

// ReadGraph decodes a graph snapshot.
func ReadGraph(data []byte) ([]Node, error) {
	var nodes []Node
	if err := json.Unmarshal(data, &nodes); err != nil {
		return nil, fmt.Errorf("reading the graph: %w", err)
	}
	return nodes, nil
}

// Resource types the model reads by name.
const (
	typeCluster          = "eks:index:Cluster"
	typeRelease          = "kubernetes:helm.sh/v3:Release"
	typeChart            = "kubernetes:helm.sh/v4:Chart"
	typeNatGateway       = "aws:ec2/natGateway:NatGateway"
	typeEIP              = "aws:ec2/eip:Eip"
	typeSubnet           = "aws:ec2/subnet:Subnet"
	typeCertValidation   = "aws:acm/certificateValidation:CertificateValidation"
	typeIngress          = "kubernetes:networking.k8s.io/v1:Ingress"
	typeIngressClass     = "kubernetes:networking.k8s.io/v1:IngressClass"
	typeIngressParams    = "kubernetes:eks.amazonaws.com/v1:IngressClassParams"
	typeExternalSecret   = "kubernetes:external-secrets.io/v1:ExternalSecret"
	typeBucket           = "aws:s3/bucketV2:BucketV2"
	typeBucketLifecycle  = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typeECRRepository    = "aws:ecr/repository:Repository"
	typeECRLifecycle     = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	typeKMSKey           = "aws:kms/key:Key"
	typeSecret           = "aws:secretsmanager/secret:Secret"
	typeNodePool         = "kubernetes:karpenter.sh/v1:NodePool"
	providerTypePrefix   = "pulumi:providers:"
	programComponentPkg  = "flask-eks:"
	extendedSupportLabel = "extended support"
)

// graph indexes a node list: by URN, and each component's children.
type graph struct {
	nodes    []Node
	byURN    map[string]*Node
	children map[string][]string
}

func newGraph(nodes []Node) *graph {
	g := &graph{nodes: nodes, byURN: map[string]*Node{}, children: map[string][]string{}}
	for i := range nodes {
		g.byURN[nodes[i].URN] = &nodes[i]
	}
	for _, n := range nodes {
		if n.Parent != "" {
			g.children[n.Parent] = append(g.children[n.Parent], n.URN)
		}
	}
	for _, c := range g.children {
		sort.Strings(c)
	}
	return g
}

// ofType returns the nodes of a type, in snapshot order.
func (g *graph) ofType(typ string) []*Node {
	var out []*Node
	for i := range g.nodes {
		if g.nodes[i].Type == typ {
			out = append(out, &g.nodes[i])
		}
	}
	return out
}

// descendants returns every node under a component, depth first.
func (g *graph) descendants(urn string) []string {
	var out []string
	for _, c := range g.children[urn] {
		out = append(out, c)
		out = append(out, g.descendants(c)...)
	}
	return out
}

// label names a node for people: type, then name.
func label(n *Node) string {
	return n.Type + " " + n.Name
}

// lookup follows a dotted path through nested maps; an empty path is v itself.
func lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, v != nil
	}
	cur := v
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// str returns the string at path, "" when absent or not a string.
func str(v any, path string) string {
	s, _ := lookupAs[string](v, path)
	return s
}

func lookupAs[T any](v any, path string) (T, bool) {
	var zero T
	x, ok := lookup(v, path)
	if !ok {
		return zero, false
	}
	t, ok := x.(T)
	return t, ok
}

// number returns the number at path (JSON numbers decode as float64).
func number(v any, path string) (float64, bool) {
	x, ok := lookup(v, path)
	if !ok {
		return 0, false
	}
	switch n := x.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// quantity parses a Kubernetes quantity ("256Mi", "100m", "10Gi", 2) with the API machinery's
// own parser, so the model reads sizes exactly as the API server does.
func quantity(x any) (resource.Quantity, error) {
	switch v := x.(type) {
	case string:
		return resource.ParseQuantity(v)
	case float64:
		return *resource.NewMilliQuantity(int64(v*1000), resource.DecimalSI), nil
	}
	return resource.Quantity{}, fmt.Errorf("%v is not a quantity", x)
}

// gib converts a storage quantity to GiB.
func gib(x any) (float64, error) {
	q, err := quantity(x)
	if err != nil {
		return 0, err
	}
	return float64(q.Value()) / (1 << 30), nil
}
