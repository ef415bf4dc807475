package main

import (
	"encoding/json"
	"os"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/pulumitest"
)

// secretConfigKeys are the keys a stack stores encrypted when set (`pulumi config set --secret`).
var secretConfigKeys = []string{"flask-eks:secretKey", "flask-eks:dbPassword"}

// stackConfig reads Pulumi.<stack>.yaml into the form the engine passes to programs:
// strings as they are, everything else JSON-encoded. It returns aws:region too.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("Pulumi." + stack + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("Pulumi.%s.yaml: %v", stack, err)
	}
	out := map[string]string{}
	for k, v := range file.Config {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	return out
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
	if r := config["aws:region"]; r != "" {
		m.Region = r
	}
	return m, pulumitest.Run(t, m, config, secretKeys, program)
}
