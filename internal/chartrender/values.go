package chartrender

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// UnknownValues lists the dotted paths of ours that a chart's defaults (its values.yaml, as
// Load reads it into Chart.Values) do not declare, sorted. A chart without values.schema.json
// ignores a misspelt key without a word; this catches it. freeForm reports the paths below
// which any key goes (a Kubernetes object of free form, such as resources or an affinity);
// nil means none.
func UnknownValues(ours, defaults map[string]any, freeForm func(path string) bool) []string {
	out := unknownValues("", ours, defaults, freeForm)
	slices.Sort(out)
	return out
}

func unknownValues(path string, ours, theirs map[string]any, freeForm func(string) bool) []string {
	var out []string
	for k, v := range ours {
		p := path + k
		d, ok := theirs[k]
		if !ok {
			if freeForm == nil || !freeForm(p) {
				out = append(out, p)
			}
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			dm, _ := d.(map[string]any)
			out = append(out, unknownValues(p+".", sub, dm, freeForm)...)
		}
	}
	return out
}

// WholeMap is a value that a chart takes whole instead of declaring its keys: a section of
// the program's own configuration file (Loki's limits_config, grafana.ini), a Kubernetes
// object (resources, a security context), or a map of annotations or command-line flags. Any
// key goes below it; the map itself must be one the chart declares.
type WholeMap struct {
	// Path is the map's dotted path, as UnknownValues prints it.
	Path string
	// Why says, in one line, what the chart does with it.
	Why string
}

// UndeclaredValues is UnknownValues with the maps the chart takes whole named in one list. It
// returns the paths of ours that defaults does not declare and that lie below none of whole,
// sorted, and the entries of whole that ours needs none of (every key it sets below them is
// declared anyway): such an entry would only hide a later typo below it.
func UndeclaredValues(ours, defaults map[string]any, whole []WholeMap) (unknown []string, unneeded []WholeMap) {
	needed := make([]bool, len(whole))
	for _, p := range UnknownValues(ours, defaults, nil) {
		i := slices.IndexFunc(whole, func(w WholeMap) bool { return strings.HasPrefix(p, w.Path+".") })
		if i < 0 {
			unknown = append(unknown, p)
			continue
		}
		needed[i] = true
	}
	for i, w := range whole {
		if !needed[i] {
			unneeded = append(unneeded, w)
		}
	}
	return unknown, unneeded
}

// WithKeyRenamed returns a deep copy of values (plain JSON-like data) in which the key at path,
// one element per map level, is called name instead: a misspelling, to show that a check
// catches it.
func WithKeyRenamed(values map[string]any, path []string, name string) (map[string]any, error) {
	if len(path) == 0 {
		return nil, errors.New("empty path")
	}
	b, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("copying values: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("copying values: %w", err)
	}
	m := out
	for i, k := range path[:len(path)-1] {
		if m, _ = m[k].(map[string]any); m == nil {
			return nil, fmt.Errorf("%s is not a map", strings.Join(path[:i+1], "."))
		}
	}
	last := path[len(path)-1]
	v, ok := m[last]
	if !ok {
		return nil, fmt.Errorf("no key %s", strings.Join(path, "."))
	}
	delete(m, last)
	m[name] = v
	return out, nil
}
