// Package chartrender renders and lints a Helm chart directory offline, the way `helm install
// --dry-run` and `helm lint` would without a cluster, and decodes what it renders strictly into
// the typed Kubernetes API objects. Tests use it to check the app chart (app/chart) with the
// values the Pulumi program passes; it is never linked into the program itself.
package chartrender

import (
	"errors"
	"fmt"
	"strings"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
)

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

// Load loads the chart in dir as `helm package` would, applying its .helmignore.
func Load(dir string) (*helmchart.Chart, error) {
	ch, err := loader.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	return ch, nil
}

// Render renders the chart in dir for a first install of release releaseName in namespace, as
// `helm install --dry-run` does offline: values are coalesced over values.yaml, validated against
// values.schema.json (an error names every violation), and the templates are executed with
// Helm's default capabilities at kubeVersion (for the chart's kubeVersion constraint; "" keeps
// Helm's default). The result holds every object in Helm's install order; NOTES.txt and empty
// documents are left out. values may be nil; it is not modified.
func Render(dir string, values map[string]any, releaseName, namespace, kubeVersion string) ([]Manifest, error) {
	if err := chartutil.ValidateReleaseName(releaseName); err != nil {
		return nil, fmt.Errorf("release name %q: %w", releaseName, err)
	}
	if namespace == "" {
		return nil, errors.New("namespace must not be empty")
	}
	ch, err := Load(dir)
	if err != nil {
		return nil, err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	if kubeVersion != "" {
		v, err := chartutil.ParseKubeVersion(kubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", kubeVersion, err)
		}
		caps.KubeVersion = *v
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s requires kubeVersion %s, not %s", ch.Name(), ch.Metadata.KubeVersion, caps.KubeVersion.String())
	}
	options := chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	renderValues, err := chartutil.ToRenderValues(ch, values, options, caps)
	if err != nil {
		return nil, fmt.Errorf("preparing values for chart %s: %w", ch.Name(), err)
	}
	rendered, err := engine.Render(ch, renderValues)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", ch.Name(), err)
	}
	for name := range rendered {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(rendered, name)
		}
	}
	hooks, sorted, err := releaseutil.SortManifests(rendered, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("splitting rendered chart %s: %w", ch.Name(), err)
	}
	if len(hooks) > 0 {
		return nil, fmt.Errorf("chart %s rendered %d hook(s); Render does not support hooks", ch.Name(), len(hooks))
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

// Lint runs Helm's chart linter (`helm lint --namespace namespace` with values as overrides) on
// the chart in dir and returns its messages, of every severity. Helm lints in "lint mode", where
// the chart's `required` and `fail` checks only log instead of failing.
func Lint(dir string, values map[string]any, namespace string) []support.Message {
	return lint.AllWithKubeVersion(dir, values, namespace, nil).Messages
}
