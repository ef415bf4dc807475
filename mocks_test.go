package main

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/pulumitest"
)

// testToday is the day every mock run of the program pretends it is, so that no test starts
// failing when a Kubernetes version of a committed stack leaves EKS standard support. The
// calendar's behaviour over time has its own test (TestKubernetesVersionCalendar), and
// TestCommittedStacksInSupport warns ahead of the real dates.
func testToday() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

// committedNetworks are the networks the committed stacks bring (vpcId), as EC2 describes them:
// prod's comes from the platform's network stack, laid out like vpc/cidr.go's scheme.
var committedNetworks = []pulumitest.ExistingVPC{{
	ID: "vpc-0123456789abcdef0", CIDR: "10.30.0.0/16",
	Subnets: []pulumitest.ExistingSubnet{
		{ID: "subnet-0123456789abcdef1", CIDR: "10.30.0.0/18", AZ: "eu-west-1a"},
		{ID: "subnet-0123456789abcdef2", CIDR: "10.30.64.0/18", AZ: "eu-west-1b"},
		{ID: "subnet-0123456789abcdef3", CIDR: "10.30.128.0/18", AZ: "eu-west-1c"},
		{ID: "subnet-0123456789abcdef4", CIDR: "10.30.192.0/22", AZ: "eu-west-1a", Public: true},
		{ID: "subnet-0123456789abcdef5", CIDR: "10.30.196.0/22", AZ: "eu-west-1b", Public: true},
		{ID: "subnet-0123456789abcdef6", CIDR: "10.30.200.0/22", AZ: "eu-west-1c", Public: true},
	},
}}

// secretConfigKeys are the keys a stack stores encrypted when set (`pulumi config set --secret`).
var secretConfigKeys = []string{"flask-eks:secretKey", "flask-eks:dbPassword"}

// stackConfig reads Pulumi.<stack>.yaml into the form the engine passes to programs:
// strings as they are, everything else JSON-encoded. It returns aws:region too.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	cfg, err := readStackFile(stack)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// readStackFile is stackConfig for tools that run outside a test.
func readStackFile(stack string) (map[string]string, error) {
	raw, err := os.ReadFile("Pulumi." + stack + ".yaml")
	if err != nil {
		return nil, err
	}
	var file struct {
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", stack, err)
	}
	out := map[string]string{}
	for k, v := range file.Config {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = string(b)
	}
	return out, nil
}

// planStack runs the whole program under mocks for a committed stack outside any test (the
// review tools), as runProgram does inside one.
func planStack(stack string) (*pulumitest.Mocks, error) {
	cfg, err := readStackFile(stack)
	if err != nil {
		return nil, err
	}
	m := pulumitest.New("flask-eks", stack)
	m.Networks = committedNetworks
	if r := cfg["aws:region"]; r != "" {
		m.Region = r
	}
	return m, pulumitest.RunTool(m, cfg, secretConfigKeys, newProgram(testToday, true))
}

// runProgram runs the whole program under the shared mocks with the given config and returns
// what it registered and the program's error. The secret keys count as set with --secret.
func runProgram(t *testing.T, stack string, config map[string]string) (*pulumitest.Mocks, error) {
	t.Helper()
	return runProgramSecrets(t, stack, config, secretConfigKeys)
}

// runProgramSecrets is runProgram with the list of keys the stack stores encrypted.
func runProgramSecrets(t *testing.T, stack string, config map[string]string, secretKeys []string) (*pulumitest.Mocks, error) {
	t.Helper()
	m := pulumitest.New("flask-eks", stack)
	m.Networks = committedNetworks
	if r := config["aws:region"]; r != "" {
		m.Region = r
	}
	return m, pulumitest.Run(t, m, config, secretKeys, newProgram(testToday, true))
}
