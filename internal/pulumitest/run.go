package pulumitest

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Run runs program under m with the given stack config (full keys such as "aws:region"; arrays
// and objects JSON-encoded, as the engine passes them). secretKeys are the config keys the stack
// stores encrypted. It returns the program's error; the recorded graph is in m.
func Run(t testing.TB, m *Mocks, config map[string]string, secretKeys []string, program pulumi.RunFunc, opts ...pulumi.RunOption) error {
	t.Helper()
	env, err := configEnv(config, secretKeys)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	return pulumi.RunErr(program, append([]pulumi.RunOption{pulumi.WithMocks(m.Project, m.Stack, m)}, opts...)...)
}

// RunTool is Run for a review tool that runs outside any test (`make graph`): it sets the
// config in the process's environment, which it leaves set.
func RunTool(m *Mocks, config map[string]string, secretKeys []string, program pulumi.RunFunc, opts ...pulumi.RunOption) error {
	env, err := configEnv(config, secretKeys)
	if err != nil {
		return err
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return pulumi.RunErr(program, append([]pulumi.RunOption{pulumi.WithMocks(m.Project, m.Stack, m)}, opts...)...)
}

// configEnv is the environment through which the Pulumi SDK hands a program its config: the
// values (JSON) and the keys stored encrypted among them.
func configEnv(config map[string]string, secretKeys []string) (map[string]string, error) {
	b, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	var secret []string
	for _, k := range secretKeys {
		if _, ok := config[k]; ok {
			secret = append(secret, k)
		}
	}
	sk, err := json.Marshal(secret)
	if err != nil {
		return nil, err
	}
	return map[string]string{pulumi.EnvConfig: string(b), pulumi.EnvConfigSecretKeys: string(sk)}, nil
}

// Preview runs the program as `pulumi preview` does: outputs that only a deployment would
// know stay unknown, and what is known while planning resolves.
func Preview(info *pulumi.RunInfo) { info.DryRun = true }

// Value is an output's value, captured while the program runs and read after Run returns.
type Value struct {
	once   sync.Once
	done   chan struct{}
	v      any
	output pulumi.Output
}

// Capture records o's resolved value. Call it inside the program; read the value with Get,
// String or Secret after Run has returned.
func Capture(o pulumi.Output) *Value {
	c := &Value{output: o, done: make(chan struct{})}
	pulumi.All(o).ApplyT(func(vs []any) any {
		c.once.Do(func() {
			c.v = vs[0]
			close(c.done)
		})
		return nil
	})
	return c
}

// Get returns the value, failing the test if it does not resolve to a known value within a
// few seconds (an unknown in a preview, or a failed run).
func (c *Value) Get(t testing.TB) any {
	t.Helper()
	select {
	case <-c.done:
		return c.v
	case <-time.After(10 * time.Second):
		t.Fatal("the captured output never resolved to a known value")
		return nil
	}
}

// String returns the value as a string.
func (c *Value) String(t testing.TB) string {
	t.Helper()
	v := c.Get(t)
	s, ok := v.(string)
	if !ok {
		t.Fatalf("captured output is %T, not a string", v)
	}
	return s
}

// Secret reports whether the output is marked secret.
func (c *Value) Secret() bool { return pulumi.IsSecret(c.output) }

// DecodeStrict decodes v (recorded inputs, plain Go values) into out through JSON, refusing
// keys that out's type does not model, as the API server's strict field validation would.
func DecodeStrict(t testing.TB, v, out any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("strict decoding into %T: %v\n%s", out, err, b)
	}
}
