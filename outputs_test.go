package main

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

// exportedNames runs the program for a committed stack under mocks and returns the names of the
// outputs it exports.
func exportedNames(t *testing.T, stack string) []string {
	t.Helper()
	m := pulumitest.New("flask-eks", stack)
	m.Networks = committedNetworks
	cfg := stackConfig(t, stack)
	if r := cfg["aws:region"]; r != "" {
		m.Region = r
	}
	var names []string
	err := pulumitest.Run(t, m, cfg, secretConfigKeys, func(ctx *pulumi.Context) error {
		out, err := deploy(ctx, testToday(), false)
		if err != nil {
			return err
		}
		names = slices.Sorted(maps.Keys(out))
		return out.export(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestOutputsAreDocumented: every output a committed stack exports is in outputDocs (export
// refuses the others), and every documented output is exported by some committed stack, so
// the README's table lists exactly what users get.
func TestOutputsAreDocumented(t *testing.T) {
	exported := map[string]bool{}
	for _, stack := range stacks {
		for _, n := range exportedNames(t, stack) {
			exported[n] = true
		}
	}
	for _, d := range outputDocs {
		if !exported[d.Name] {
			t.Errorf("output %q is documented but no committed stack exports it", d.Name)
		}
	}
	if len(exported) != len(outputDocs) {
		t.Errorf("%d outputs exported, %d documented", len(exported), len(outputDocs))
	}
}

// TestExportRefusesUndocumented: a new output must be documented first.
func TestExportRefusesUndocumented(t *testing.T) {
	err := pulumitest.Run(t, pulumitest.New("flask-eks", "dev"), nil, nil, func(ctx *pulumi.Context) error {
		return outputs{"notDocumented": pulumi.String("x")}.export(ctx)
	})
	if err == nil || !strings.Contains(err.Error(), `"notDocumented" is not documented`) {
		t.Errorf("error %v, want the undocumented output refused", err)
	}
}

// outputsTable renders outputDocs as the README's outputs table.
func outputsTable() string {
	var b strings.Builder
	b.WriteString("| Output | Where | Description |\n| --- | --- | --- |\n")
	for _, d := range outputDocs {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.Name, d.Stacks, d.Description)
	}
	return b.String()
}

// TestReadmeOutputsTable keeps the README's outputs table equal to outputDocs.
func TestReadmeOutputsTable(t *testing.T) {
	const begin, end = "<!-- outputs:begin (generated from outputDocs in outputs.go: go test -run TestReadmeOutputsTable -update .) -->\n", "<!-- outputs:end -->"
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no outputs table between %q and %q", begin, end)
	}
	golden(t, "README.md", s[:i+len(begin)]+outputsTable()+s[j:], "TestReadmeOutputsTable")
}

// TestGraphTool runs `make graph`'s tool mode of the test binary and checks that it prints the
// plan of a stack instead of running tests.
func TestGraphTool(t *testing.T) {
	out, err := exec.Command(os.Args[0], "-graph", "local").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"pulumi:pulumi:Stack (mock plan; no cloud diff)\n", "+ flask-eks:app:App  app\n", "kubernetes:helm.sh/v3:Release  app"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("graph tool output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "PASS") || strings.Contains(string(out), "=== RUN") {
		t.Errorf("the graph tool ran tests:\n%s", out)
	}
}
