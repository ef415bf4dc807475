package chartrender

import (
	"slices"
	"testing"
)

func TestUndeclaredValues(t *testing.T) {
	defaults := map[string]any{
		"replicas":  1,
		"resources": map[string]any{},
		"config":    map[string]any{"limits": map[string]any{"max": 3}},
		"labels":    map[string]any{},
	}
	whole := []WholeMap{{Path: "resources", Why: "a Kubernetes object"}, {Path: "labels", Why: "labels"}, {Path: "config.limits", Why: "a config section"}}
	ours := map[string]any{
		"replicas":  2,
		"resources": map[string]any{"requests": map[string]any{"cpu": "10m"}},
		"config":    map[string]any{"limits": map[string]any{"max": 4, "min": 1}, "limit": 5},
		"replica":   2,
	}
	unknown, unneeded := UndeclaredValues(ours, defaults, whole)
	// A misspelt key is found at the top and next to a map taken whole, never below one; an
	// entry the values need nothing of is reported.
	if !slices.Equal(unknown, []string{"config.limit", "replica"}) {
		t.Errorf("unknown %v, want config.limit and replica", unknown)
	}
	if len(unneeded) != 1 || unneeded[0].Path != "labels" {
		t.Errorf("unneeded %v, want labels", unneeded)
	}
}

func TestWithKeyRenamed(t *testing.T) {
	values := map[string]any{"a": map[string]any{"b": 1, "c": []any{"x"}}}
	got, err := WithKeyRenamed(values, []string{"a", "b"}, "B")
	if err != nil {
		t.Fatal(err)
	}
	if a := got["a"].(map[string]any); a["B"] != float64(1) || a["b"] != nil || len(a["c"].([]any)) != 1 {
		t.Errorf("renamed %v", got)
	}
	if values["a"].(map[string]any)["b"] != 1 {
		t.Error("the original values changed")
	}
	for _, path := range [][]string{{"a", "x"}, {"a", "b", "c"}, nil} {
		if _, err := WithKeyRenamed(values, path, "y"); err == nil {
			t.Errorf("path %v: no error", path)
		}
	}
}
