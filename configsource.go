// Where the raw config values come from (the running program's context, or a map in tests),
// Pulumi.yaml's schema with its defaults, and the typed reader that collects every problem.

package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/validate"
)

// projectYAML is Pulumi.yaml. Its config schema is the single source of truth for the keys the
// program reads and their defaults: the CLI applies those defaults in `pulumi up`, and
// readConfig applies the same ones when the program runs without the CLI (unit tests, the
// graph snapshot), so both paths see one set of values.
//
//go:embed Pulumi.yaml
var projectYAML []byte

// configSource is where readConfig finds the stack's raw values: the Pulumi context when the
// program runs, plain maps in tests.
type configSource interface {
	// Get returns a value by full key ("flask-eks:vpcCidr", "aws:region"). Arrays and objects
	// arrive JSON-encoded, as the Pulumi engine passes them to programs.
	Get(key string) (string, bool)
	// IsSecret reports whether the stack stores the key encrypted (`pulumi config set --secret`).
	IsSecret(key string) bool
}

// contextConfig reads the config of a running program.
type contextConfig struct{ ctx *pulumi.Context }

func (c contextConfig) Get(key string) (string, bool) { return c.ctx.GetConfig(key) }
func (c contextConfig) IsSecret(key string) bool      { return c.ctx.IsConfigSecret(key) }

// mapConfig is a configSource over a map of values and the set of keys stored as secrets.
type mapConfig struct {
	values  map[string]string
	secrets map[string]bool
}

func (m mapConfig) Get(key string) (string, bool) { v, ok := m.values[key]; return v, ok }
func (m mapConfig) IsSecret(key string) bool      { return m.secrets[key] }

// schemaKey is one key of Pulumi.yaml's config schema.
type schemaKey struct {
	Type        string `json:"type"`
	Description string `json:"description"`
	Default     any    `json:"default"`
	Secret      bool   `json:"secret"`
}

// projectSchema parses the config schema out of the embedded Pulumi.yaml.
func projectSchema() (name string, keys map[string]schemaKey, err error) {
	var p struct {
		Name   string               `json:"name"`
		Config map[string]schemaKey `json:"config"`
	}
	if err := yaml.Unmarshal(projectYAML, &p); err != nil {
		return "", nil, fmt.Errorf("parsing embedded Pulumi.yaml: %w", err)
	}
	return p.Name, p.Config, nil
}

// reader reads typed values for one project, applying Pulumi.yaml defaults and collecting
// every problem instead of stopping at the first, so one error names them all.
type reader struct {
	project  string
	src      configSource
	schema   map[string]schemaKey
	problems []string
	warnings []string
}

func (r *reader) fullKey(key string) string { return r.project + ":" + key }

func (r *reader) fail(key string, format string, args ...any) {
	r.problems = append(r.problems, r.fullKey(key)+": "+fmt.Sprintf(format, args...))
}

func (r *reader) warn(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// raw returns the configured value or the schema default, JSON-encoded for non-strings.
func (r *reader) raw(key string) (string, bool) {
	if v, ok := r.src.Get(r.fullKey(key)); ok {
		return v, true
	}
	def, declared := r.schema[r.fullKey(key)]
	if !declared {
		// A programming error, not a user one: every key read must be declared.
		panic(fmt.Sprintf("config key %q is read but not declared in Pulumi.yaml", r.fullKey(key)))
	}
	switch d := def.Default.(type) {
	case nil:
		return "", false
	case string:
		return d, true
	default:
		b, _ := json.Marshal(d)
		return string(b), true
	}
}

func (r *reader) str(key string) string {
	v, _ := r.raw(key)
	return strings.TrimSpace(v)
}

func (r *reader) oneOf(key string, accepted []string) string {
	v := r.str(key)
	switch {
	case v == "":
		r.fail(key, "is not set; accepted values: %s", strings.Join(accepted, ", "))
	case !slices.Contains(accepted, v):
		r.fail(key, "%q is not accepted; accepted values: %s", v, strings.Join(accepted, ", "))
	}
	return v
}

func (r *reader) integer(key string, lo, hi int) int {
	v := r.str(key)
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(key, "%q is not an integer; accepted: an integer from %d to %d", v, lo, hi)
		return 0
	}
	if n < lo || n > hi {
		r.fail(key, "%d is out of range; accepted: an integer from %d to %d", n, lo, hi)
	}
	return n
}

func (r *reader) boolean(key string) bool {
	v := r.str(key)
	b, err := strconv.ParseBool(v)
	if err != nil || (v != "true" && v != "false") {
		r.fail(key, "%q is not a boolean; accepted values: true, false", v)
	}
	return b
}

func (r *reader) list(key string) []string {
	v := r.str(key)
	if v == "" {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		r.fail(key, "%q is not a list of strings; accepted: a YAML list such as [a, b]", v)
		return nil
	}
	return out
}

func (r *reader) object(key string) map[string]string {
	v := r.str(key)
	if v == "" {
		return nil
	}
	out := map[string]string{}
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		r.fail(key, "%q is not a map of strings; accepted: a YAML map of string keys to string values", v)
		return nil
	}
	return out
}

// secret reads a secret key. Unset (or empty, the schema default) means generated. A value must
// be stored encrypted: `pulumi config set --secret`, never in plain text in the stack file.
func (r *reader) secret(key string) secretValue {
	v, ok := r.src.Get(r.fullKey(key))
	if !ok || v == "" {
		return secretValue{}
	}
	if !r.src.IsSecret(r.fullKey(key)) {
		// Never echo a secret, even a bad one.
		r.fail(key, "is stored in plain text; accepted: a value set with `pulumi config set --secret %s`, or none (then it is generated)", key)
	}
	if len(v) < 16 {
		r.fail(key, "the secret is %d characters; accepted: at least 16 characters", len(v))
	}
	return secretValue{value: v, set: true}
}

// mebibytes reads a memory quantity in Mi or Gi, within [lo, hi] MiB.
func (r *reader) mebibytes(key string, lo, hi int) int {
	v := r.str(key)
	n, ok := validate.MiB(v)
	if !ok || n < lo || n > hi {
		r.fail(key, "%q is not a memory size from %dMi to %dMi; accepted: a whole number of Mi or Gi, such as 256Mi", v, lo, hi)
		return 0
	}
	return n
}
