package estimate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snapshots reads the committed graph snapshots (testdata/<stack>.graph.json at the root).
func snapshots(t *testing.T) map[string][]Node {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*.graph.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no graph snapshots in testdata (%v)", err)
	}
	out := map[string][]Node{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := ReadGraph(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".graph.json")] = nodes
	}
	return out
}

// TestSnapshotsCovered: every resource type the committed snapshots hold has a duration with a
// source and a price rule (its lines, or why it is free); every chart has its pods in the
// capacity model; every volume a chart's values claim is priced.
func TestSnapshotsCovered(t *testing.T) {
	for stack, nodes := range snapshots(t) {
		seen := map[string]bool{}
		for i := range nodes {
			n := &nodes[i]
			if seen[n.Type] && n.Type != typeRelease && n.Type != typeChart {
				continue
			}
			seen[n.Type] = true
			if d, ok := Durations(n); !ok || d.Source == "" {
				t.Errorf("%s: %s has no duration with a source", stack, n.Type)
			}
			if r, ok := costRule(n.Type); !ok || r == "" {
				t.Errorf("%s: %s has no price rule", stack, n.Type)
			}
			if n.Type != typeRelease && n.Type != typeChart {
				continue
			}
			if _, err := podsOf(n); err != nil {
				t.Errorf("%s: %v", stack, err)
			}
			priced := map[string]bool{}
			for _, vp := range volumePaths[chartName(n)] {
				priced[vp.size] = true
			}
			for _, p := range claimPaths(n.Inputs["values"]) {
				if !priced[p] {
					t.Errorf("%s: %s claims a volume at %s, which volumePaths does not price", stack, label(n), p)
				}
			}
		}
	}
}

// TestSnapshotsEstimate runs the model on every committed snapshot: it must produce an estimate,
// and each stack with AWS resources a priced one.
func TestSnapshotsEstimate(t *testing.T) {
	for stack, nodes := range snapshots(t) {
		g := newGraph(nodes)
		region := ""
		if hasAWS(g) {
			region = "eu-west-1"
		}
		r, err := Estimate(Input{Stack: stack, Nodes: nodes, Region: region, Usage: DefaultUsage})
		if err != nil {
			t.Errorf("%s: %v", stack, err)
			continue
		}
		if hasAWS(g) && r.Money.TotalUSD <= 0 {
			t.Errorf("%s: no monthly cost", stack)
		}
		if testing.Verbose() {
			_ = r.Text(os.Stdout)
		}
	}
}
