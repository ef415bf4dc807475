package monitoring

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"text/template"

	"sigs.k8s.io/yaml"
)

// The app's dashboard and alerting rules live in plain files next to this code
// so they can be reviewed (and imported into Grafana by hand) as they are.
// They are Go templates with << >> delimiters, because {{ }} belongs to
// Grafana legends and Prometheus alert annotations.
var (
	//go:embed dashboard.json
	dashboardTemplate string
	//go:embed rules.yaml
	rulesTemplate string
	//go:embed logrules.yaml
	logRulesTemplate string
)

// assetParams fills the templates. The string fields are validated DNS-1123
// labels (AppLabel a label value of the same shape), so they need no escaping
// inside JSON strings, YAML or PromQL and LogQL label values.
type assetParams struct {
	AppNamespace string
	AppName      string
	// AppLabel is the app's pods' app.kubernetes.io/name, which Alloy copies
	// into the Loki stream label "app".
	AppLabel string
	// Logs keeps the dashboard's Loki panels; without Loki they are dropped,
	// since their data source would not exist.
	Logs bool
}

type renderedAssets struct {
	dashboardJSON string                 // the dashboard, compact JSON
	rulesYAML     string                 // the PrometheusRule spec, as rendered
	ruleSpec      map[string]interface{} // rulesYAML decoded, for the CustomResource
}

// renderAssets fills both templates and checks that the results parse.
func renderAssets(p assetParams) (*renderedAssets, error) {
	dash, err := render("dashboard.json", dashboardTemplate, p)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(dash)); err != nil {
		return nil, fmt.Errorf("dashboard.json is not valid JSON after rendering: %w", err)
	}
	if !p.Logs {
		if buf, err = withoutLokiPanels(buf.Bytes()); err != nil {
			return nil, err
		}
	}
	rules, err := render("rules.yaml", rulesTemplate, p)
	if err != nil {
		return nil, err
	}
	var spec map[string]interface{}
	if err := yaml.Unmarshal([]byte(rules), &spec); err != nil {
		return nil, fmt.Errorf("rules.yaml is not valid YAML after rendering: %w", err)
	}
	return &renderedAssets{dashboardJSON: buf.String(), rulesYAML: rules, ruleSpec: spec}, nil
}

// withoutLokiPanels removes the panels whose data source is Loki from a compact dashboard,
// keeping everything else byte for byte (the top-level keys in their order).
func withoutLokiPanels(dash []byte) (bytes.Buffer, error) {
	var out bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(dash))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return out, fmt.Errorf("the dashboard is not a JSON object")
	}
	out.WriteByte('{')
	for i := 0; dec.More(); i++ {
		key, err := dec.Token()
		if err != nil {
			return out, fmt.Errorf("decoding the dashboard: %w", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out, fmt.Errorf("decoding the dashboard's %v: %w", key, err)
		}
		if key == "panels" {
			if raw, err = lokiPanelsDropped(raw); err != nil {
				return out, err
			}
		}
		k, _ := json.Marshal(key)
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(k)
		out.WriteByte(':')
		out.Write(raw)
	}
	out.WriteByte('}')
	return out, nil
}

func lokiPanelsDropped(panels json.RawMessage) (json.RawMessage, error) {
	var all []json.RawMessage
	if err := json.Unmarshal(panels, &all); err != nil {
		return nil, fmt.Errorf("decoding the dashboard's panels: %w", err)
	}
	kept := []json.RawMessage{}
	for _, raw := range all {
		var p struct {
			Datasource struct {
				Type string `json:"type"`
			} `json:"datasource"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("decoding a dashboard panel: %w", err)
		}
		if p.Datasource.Type != lokiDataSourceType {
			kept = append(kept, raw)
		}
	}
	return json.Marshal(kept)
}

// renderLogRules fills logrules.yaml: the Loki ruler's rule file for the app, checked to be
// YAML.
func renderLogRules(p assetParams) (string, error) {
	rules, err := render("logrules.yaml", logRulesTemplate, p)
	if err != nil {
		return "", err
	}
	var probe map[string]any
	if err := yaml.Unmarshal([]byte(rules), &probe); err != nil {
		return "", fmt.Errorf("logrules.yaml is not valid YAML after rendering: %w", err)
	}
	return rules, nil
}

// render executes the template text (delimiters << >>, so that Grafana's and Prometheus's own
// {{ }} pass through) with data; a missing key is an error.
func render(name, text string, data any) (string, error) {
	t, err := template.New(name).Delims("<<", ">>").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("parsing template %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return "", fmt.Errorf("rendering template %s: %w", name, err)
	}
	return out.String(), nil
}
