package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/pulumitest"
)

// refusedKeys runs the committed stack as `pulumi up` would (not a plan) and returns the keys
// the placeholder check names, failing the test if the run declared any resource.
func refusedKeys(t *testing.T, stack string) []string {
	t.Helper()
	m := pulumitest.New("flask-eks", stack)
	m.Networks = committedNetworks
	err := pulumitest.Run(t, m, stackConfig(t, stack), secretConfigKeys, newProgram(testToday, false))
	if err == nil {
		t.Fatalf("%s: `up` of the committed stack file was accepted", stack)
	}
	if n := len(m.Graph()); n != 0 {
		t.Errorf("%s: %d resources declared before the refusal", stack, n)
	}
	if !strings.Contains(err.Error(), "still holds example values") {
		t.Fatalf("%s: %v, want the placeholder refusal", stack, err)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`flask-eks:(\w+): "`).FindAllStringSubmatch(err.Error(), -1) {
		if !slices.Contains(keys, m[1]) {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// TestPlaceholdersRefusedOnUp: a deployment of a committed stack file, whose account IDs,
// domains and network IDs are examples, fails before anything is declared, with one error
// naming every such key; a preview takes the same file as it is (so do the mock plans).
func TestPlaceholdersRefusedOnUp(t *testing.T) {
	want := map[string][]string{
		"dev": {"adminPrincipalArns", "viewerPrincipalArns", "viewOnlyPrincipalArns", "domain", "grafanaDomain", "hostedZone", "publicAccessCidrs"},
		"prod": {"adminPrincipalArns", "viewerPrincipalArns", "viewOnlyPrincipalArns", "deployPrincipalArn", "secretsBreakGlassPrincipalArn",
			"podIdentityPolicyArns", "domain", "grafanaDomain", "hostedZone",
			"apiAccessSecurityGroupIds", "vpcId", "privateSubnetIds", "publicSubnetIds"},
	}
	for stack, keys := range want {
		if got := refusedKeys(t, stack); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(keys))) {
			t.Errorf("%s: refused keys %v, want %v", stack, got, keys)
		}
		m := pulumitest.New("flask-eks", stack)
		m.Networks = committedNetworks
		if err := pulumitest.Run(t, m, stackConfig(t, stack), secretConfigKeys, newProgram(testToday, false), pulumitest.Preview); err != nil {
			t.Errorf("%s: a preview of the committed stack file failed: %v", stack, err)
		}
	}
	// A stack with its own values deploys.
	cfg := stackConfig(t, "dev")
	cfg["flask-eks:adminPrincipalArns"] = `["arn:aws:iam::210987654321:role/platform-admin"]`
	cfg["flask-eks:viewerPrincipalArns"] = `["arn:aws:iam::210987654321:role/github-actions-drift-dev"]`
	cfg["flask-eks:viewOnlyPrincipalArns"] = `["arn:aws:iam::210987654321:role/github-actions-preview-dev"]`
	cfg["flask-eks:domain"], cfg["flask-eks:grafanaDomain"], cfg["flask-eks:hostedZone"] = "app.dev.acme.io", "grafana.dev.acme.io", "dev.acme.io"
	cfg["flask-eks:publicAccessCidrs"] = `["52.94.16.0/24"]`
	if err := pulumitest.Run(t, pulumitest.New("flask-eks", "dev"), cfg, secretConfigKeys, newProgram(testToday, false)); err != nil {
		t.Errorf("dev with its own values: %v", err)
	}
}

// TestReadmeNamesEveryKeyToSet: the README's "Your values" step names every key whose committed
// value is an example, for each committed stack.
func TestReadmeNamesEveryKeyToSet(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, step, _ := strings.Cut(string(readme), "2. **Your values.**")
	step, _, _ = strings.Cut(step, "3. **")
	for _, stack := range []string{"dev", "prod"} {
		for _, key := range refusedKeys(t, stack) {
			if !regexp.MustCompile(`\b` + key + `\b`).MatchString(step) {
				t.Errorf("README step 2 does not name %s, which Pulumi.%s.yaml holds an example value of", key, stack)
			}
		}
	}
}
