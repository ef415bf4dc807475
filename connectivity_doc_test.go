package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// flowsFile is the connectivity contract: the one table of the flows each component needs and
// the flows that must be refused. internal/netpol/enforce checks it against the rendered
// policies; docs/connectivity.md is generated from it.
var flowsFile = filepath.Join("internal", "netpol", "contract", "flows.yaml")

// The stacks whose rendered network policies the contract is checked against (TestNetpolExport
// exports them). local is not among them: it runs on a cluster of the user's own (kind, minikube)
// whose CNI, not the EKS network policy agent, enforces the policies, and it has no VPC, no ALB and
// no AWS APIs to reach.
var contractStacks = []string{"dev", "prod"}

// contractFlow is a row of flows.yaml (internal/netpol/enforce.Flow decodes the same rows,
// strictly, in its own module).
type contractFlow struct {
	ID     string         `json:"id"`
	Flow   string         `json:"flow"`
	From   []flowEndpoint `json:"from"`
	To     flowEndpoint   `json:"to"`
	Ports  []string       `json:"ports"`
	Expect string         `json:"expect"`
	Stacks []string       `json:"stacks"`
	Cite   string         `json:"cite"`
}

type flowEndpoint struct {
	Namespace  string            `json:"namespace"`
	Labels     map[string]string `json:"labels"`
	Namespaces []string          `json:"namespaces"`
	Address    string            `json:"address"`
	IP         string            `json:"ip"`
	Kind       string            `json:"kind"`
	Service    *struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"service"`
}

func (e flowEndpoint) String() string {
	switch {
	case e.Kind == "api-server":
		return "the API server (the `kubernetes` Service's address and the control plane's interfaces)"
	case e.Address != "":
		return addressNames[e.Address]
	case e.IP != "":
		return "`" + e.IP + "`" + ipNames[e.IP]
	case e.Service != nil:
		return fmt.Sprintf("Service `%s/%s`", e.Service.Namespace, e.Service.Name)
	case len(e.Namespaces) > 0:
		return "every pod of " + strings.Join(e.Namespaces, ", ")
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range e.Labels {
			if !yield(k) {
				return
			}
		}
	})
	var sel []string
	for _, k := range keys {
		sel = append(sel, k+"="+e.Labels[k])
	}
	return fmt.Sprintf("pods `%s` in %s", strings.Join(sel, ","), e.Namespace)
}

var addressNames = map[string]string{
	"alb-public":    "the internet-facing ALB (public subnets)",
	"alb-internal":  "the internal ALB (private subnets)",
	"control-plane": "the API server, from the control plane's interfaces in the VPC",
	"node":          "a node (its kubelet, host-network pods)",
	"internet":      "the internet",
	"cluster-dns":   "the cluster DNS address (tenth of the service range)",
}

var ipNames = map[string]string{
	"169.254.170.23":  " (EKS Pod Identity agent)",
	"169.254.169.254": " (instance metadata service)",
	"203.0.113.10":    " (stands for an AWS API or webhook on the internet)",
}

func readFlows() ([]contractFlow, error) {
	b, err := os.ReadFile(flowsFile)
	if err != nil {
		return nil, err
	}
	var flows []contractFlow
	if err := yaml.UnmarshalStrict(b, &flows); err != nil {
		return nil, fmt.Errorf("%s: %w", flowsFile, err)
	}
	return flows, nil
}

// connectivityPage renders docs/connectivity.md from the contract.
func connectivityPage(flows []contractFlow) string {
	var b strings.Builder
	b.WriteString("# Connectivity contract\n\n")
	b.WriteString("<!-- Generated from internal/netpol/contract/flows.yaml by `go test -run TestConnectivityDoc -update .`; do not edit. -->\n\n")
	b.WriteString("Every namespace the program owns denies all traffic by default; each component's NetworkPolicy opens\n")
	b.WriteString("what it needs. This table is the contract those policies keep on the EKS stacks: the flows each\n")
	b.WriteString("component needs, and the flows that must be refused, each with the upstream template or document that\n")
	b.WriteString("creates the need. `internal/netpol/enforce` checks every row against the policies as rendered (the\n")
	b.WriteString("program's and the charts', exported to `testdata/netpol/<stack>.json`) with AWS's own resolver from\n")
	b.WriteString("amazon-network-policy-controller-k8s, and the EKS network policy agent's rules: egress is matched at\n")
	b.WriteString("the pod before a Service address is translated, so a pod that calls the API server at the `kubernetes`\n")
	b.WriteString("Service's address needs that address admitted, not only the VPC. The `local` stack runs on a cluster\n")
	b.WriteString("of your own, whose CNI enforces the policies; the contract does not cover it.\n\n")
	for _, stack := range contractStacks {
		counts := map[string]int{}
		for _, f := range flows {
			if slices.Contains(f.Stacks, stack) {
				counts[f.Expect]++
			}
		}
		fmt.Fprintf(&b, "- %s: %d flows allowed, %d refused\n", stack, counts["allow"], counts["refuse"])
	}
	b.WriteString("\n| Id | Flow | From | To | Ports | Expect | Stacks | Source |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, f := range flows {
		var from []string
		for _, e := range f.From {
			from = append(from, e.String())
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | [source](%s) |\n", f.ID, f.Flow, strings.Join(from, "; "), f.To,
			strings.Join(f.Ports, ", "), f.Expect, strings.Join(f.Stacks, ", "), f.Cite)
	}
	return b.String()
}

// TestConnectivityDoc keeps docs/connectivity.md equal to the contract.
func TestConnectivityDoc(t *testing.T) {
	flows, err := readFlows()
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) == 0 {
		t.Fatal("the contract has no flows")
	}
	golden(t, filepath.Join("docs", "connectivity.md"), connectivityPage(flows), "TestConnectivityDoc")
}
