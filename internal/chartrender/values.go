package chartrender

import "slices"

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
