// Package charts pins the third-party Helm charts the program installs to published releases
// and installs them: one Chart value per pin (name, repository, version), Install, which
// deploys a pinned chart as a Pulumi Chart v4, and Release, a Helm release (the real `helm
// install`, hooks included) for charts that need one.
package charts

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Chart is a Helm chart at a published release.
type Chart struct {
	Name, Repo, Version string
	// SkipCRDs leaves out the chart's crds/ directory (CRDs the program does not use).
	SkipCRDs bool
	// SkipAwait creates the chart's objects without waiting for them to become ready: for a
	// chart that nothing in the `up` needs running, whose readiness is checked elsewhere.
	SkipAwait bool
}

// Install deploys c into ns as a Pulumi Chart v4: rendered client-side and applied as ordinary
// resources, which Pulumi then diffs object by object. Only for charts without Helm hooks (Chart
// v4 does not run them); the add-ons' charts have none at their pinned releases.
func Install(ctx *pulumi.Context, name string, c Chart, ns *corev1.Namespace, values pulumi.Map, provider *kubernetes.Provider,
	opts ...pulumi.ResourceOption,
) (*helmv4.Chart, error) {
	chart, err := helmv4.NewChart(ctx, name, &helmv4.ChartArgs{
		Chart:          pulumi.String(c.Name),
		Version:        pulumi.String(c.Version),
		RepositoryOpts: &helmv4.RepositoryOptsArgs{Repo: pulumi.String(c.Repo)},
		Name:           pulumi.String(c.Name),
		Namespace:      ns.Metadata.Name().Elem(),
		Values:         values,
		SkipCrds:       pulumi.Bool(c.SkipCRDs),
		SkipAwait:      pulumi.Bool(c.SkipAwait),
	}, append(opts, pulumi.Provider(provider))...)
	if err != nil {
		return nil, fmt.Errorf("installing chart %s %s: %w", c.Name, c.Version, err)
	}
	return chart, nil
}
