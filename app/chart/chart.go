// Package chart embeds the flask-app Helm chart that lives in this directory and renders or lints
// it offline, the way `helm install` and `helm lint` would, without a cluster.
//
// The chart files (Chart.yaml, values.yaml, values.schema.json, .helmignore, templates/) are
// compiled into the binary, so tests and programs in other packages can render exactly the chart
// that is deployed. The Go files of this package are excluded from the chart by .helmignore.
package chart

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/ignore"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// Name is the chart's name in Chart.yaml.
const Name = "flask-app"

// files holds the chart. "all:" keeps templates/_helpers.tpl, which a plain directory pattern
// would skip because of its leading underscore.
//
//go:embed Chart.yaml values.yaml values.schema.json .helmignore all:templates
var files embed.FS

// Manifest is one rendered Kubernetes object.
type Manifest struct {
	// Template is the template that produced it, e.g. "flask-app/templates/deployment.yaml".
	Template string
	// APIVersion, Kind and Name are read from the object itself.
	APIVersion string
	Kind       string
	Name       string
	// YAML is the object as a single YAML document, without a "---" separator.
	YAML string
}

// Load returns the embedded chart, applying .helmignore as `helm package` does.
func Load() (*helmchart.Chart, error) {
	ignoreFile, err := files.Open(ignore.HelmIgnore)
	if err != nil {
		return nil, fmt.Errorf("opening embedded %s: %w", ignore.HelmIgnore, err)
	}
	rules, err := ignore.Parse(ignoreFile)
	ignoreFile.Close()
	if err != nil {
		return nil, fmt.Errorf("parsing embedded %s: %w", ignore.HelmIgnore, err)
	}
	rules.AddDefaults()

	var buffered []*loader.BufferedFile
	err = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(name, info) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		buffered = append(buffered, &loader.BufferedFile{Name: name, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded chart: %w", err)
	}
	ch, err := loader.LoadFiles(buffered)
	if err != nil {
		return nil, fmt.Errorf("loading embedded chart: %w", err)
	}
	return ch, nil
}

// Render renders the chart for a first install of release releaseName in namespace, as
// `helm install --dry-run` does offline: values are coalesced over values.yaml, validated against
// values.schema.json (an error names every violation), and the templates are executed with
// Helm's default capabilities. The result holds every object in Helm's install order (Secrets and
// ConfigMaps before the Deployment, unknown kinds such as ServiceMonitor last); NOTES.txt and
// empty documents are left out.
//
// values may be nil. Nested objects must be map[string]any and lists []any, as produced by YAML or
// JSON decoding; values is not modified.
func Render(values map[string]any, releaseName, namespace string) ([]Manifest, error) {
	if err := chartutil.ValidateReleaseName(releaseName); err != nil {
		return nil, fmt.Errorf("release name %q: %w", releaseName, err)
	}
	if namespace == "" {
		return nil, errors.New("namespace must not be empty")
	}
	ch, err := Load()
	if err != nil {
		return nil, err
	}
	options := chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	renderValues, err := chartutil.ToRenderValues(ch, values, options, chartutil.DefaultCapabilities.Copy())
	if err != nil {
		return nil, fmt.Errorf("preparing values for chart %s: %w", Name, err)
	}
	rendered, err := engine.Render(ch, renderValues)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", Name, err)
	}
	for name := range rendered {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(rendered, name)
		}
	}
	hooks, sorted, err := releaseutil.SortManifests(rendered, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("splitting rendered chart %s: %w", Name, err)
	}
	if len(hooks) > 0 {
		return nil, fmt.Errorf("chart %s rendered %d hook(s); Render does not support hooks", Name, len(hooks))
	}
	manifests := make([]Manifest, 0, len(sorted))
	for _, m := range sorted {
		if m.Head == nil || m.Head.Kind == "" || m.Head.Version == "" || m.Head.Metadata == nil || m.Head.Metadata.Name == "" {
			return nil, fmt.Errorf("%s rendered a document without apiVersion, kind or metadata.name:\n%s", m.Name, m.Content)
		}
		manifests = append(manifests, Manifest{
			Template:   m.Name,
			APIVersion: m.Head.Version,
			Kind:       m.Head.Kind,
			Name:       m.Head.Metadata.Name,
			YAML:       m.Content,
		})
	}
	return manifests, nil
}

// Lint runs Helm's chart linter (`helm lint --namespace namespace` with values as overrides) on a
// temporary copy of the embedded chart and returns its messages, of every severity. Helm lints
// in "lint mode", where the chart's `required` and `fail` checks only log instead of failing.
func Lint(values map[string]any, namespace string) ([]support.Message, error) {
	ch, err := Load()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "chart-lint-")
	if err != nil {
		return nil, fmt.Errorf("creating lint directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	// The linter reads a chart directory; its name matches the chart's, as in a checkout.
	dir := filepath.Join(tmp, Name)
	for _, f := range ch.Raw {
		target := filepath.Join(dir, filepath.FromSlash(path.Clean(f.Name)))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, fmt.Errorf("writing lint copy: %w", err)
		}
		if err := os.WriteFile(target, f.Data, 0o644); err != nil {
			return nil, fmt.Errorf("writing lint copy: %w", err)
		}
	}
	result := lint.AllWithKubeVersion(dir, values, namespace, nil)
	return result.Messages, nil
}
