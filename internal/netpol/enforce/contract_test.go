package enforce

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// The contract and the exports, relative to this module.
var (
	flowsFile  = filepath.Join("..", "contract", "flows.yaml")
	exportFile = func(stack string) string { return filepath.Join("..", "..", "..", "testdata", "netpol", stack+".json") }
	stacks     = []string{"dev", "prod"}
)

// TestContract decides every flow of the contract, for every stack it is part of, over the
// policies that stack renders, with AWS's resolver and the node agent's rules (Cluster). A flow
// is a subtest named by its id: TestContract/prod/keda-operator-to-api-server. An allowed flow
// must pass for every source pod and every packet (both addresses of the API server, every pod
// behind a Service); a refused flow must be refused for every one.
func TestContract(t *testing.T) {
	flows, err := ReadFlows(flowsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			exp, err := ReadExport(exportFile(stack))
			if err != nil {
				t.Fatal(err)
			}
			if exp.Stack != stack {
				t.Fatalf("%s holds stack %q", exportFile(stack), exp.Stack)
			}
			c, err := NewCluster(context.Background(), exp)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range flows {
				if !slices.Contains(f.Stacks, stack) {
					continue
				}
				t.Run(f.ID, func(t *testing.T) { checkFlow(t, c, f) })
			}
		})
	}
}

func checkFlow(t *testing.T, c *Cluster, f Flow) {
	t.Helper()
	sources, err := c.Sources(f)
	if err != nil {
		t.Fatalf("%s: %v", f.ID, err)
	}
	except := HonourExcept
	if f.Expect == Refuse {
		except = IgnoreExcept
	}
	for _, src := range sources {
		checks, err := c.Checks(f, src.addr)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range checks {
			ok, why := c.Decide(src, ch, except)
			switch {
			case f.Expect == Allow && !ok:
				t.Errorf("%s from %s to %s (%s): refused, must be allowed: %s", f.ID, src.name, ch.describe, ch.packet, why)
			case f.Expect == Refuse && ok:
				t.Errorf("%s from %s to %s (%s): allowed, must be refused: %s", f.ID, src.name, ch.describe, ch.packet, why)
			}
		}
	}
}

// TestEveryStackHasFlows guards the contract's coverage: each stack has flows of both kinds, and
// every export's policy is resolved without error.
func TestEveryStackHasFlows(t *testing.T) {
	flows, err := ReadFlows(flowsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range stacks {
		kinds := map[string]int{}
		for _, f := range flows {
			if slices.Contains(f.Stacks, stack) {
				kinds[f.Expect]++
			}
		}
		if kinds[Allow] == 0 || kinds[Refuse] == 0 {
			t.Errorf("stack %s: %d allowed and %d refused flows; the contract needs both", stack, kinds[Allow], kinds[Refuse])
		}
		t.Logf("stack %s: %d flows allowed, %d refused", stack, kinds[Allow], kinds[Refuse])
	}
}
