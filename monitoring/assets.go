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
)

// assetParams fills the templates. Both fields are validated DNS-1123 labels,
// so they need no escaping inside JSON strings, YAML or PromQL label values.
type assetParams struct {
	AppNamespace string
	AppName      string
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

func render(name, text string, p assetParams) (string, error) {
	t, err := template.New(name).Delims("<<", ">>").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("parsing template %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, p); err != nil {
		return "", fmt.Errorf("rendering template %s: %w", name, err)
	}
	return out.String(), nil
}
