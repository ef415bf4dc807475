package charts

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/utilities"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ReleaseType is the kubernetes provider's Helm release resource: the real `helm install` and
// `helm upgrade`, hooks included, with a Helm release record in the cluster.
const ReleaseType = "kubernetes:helm.sh/v3:Release"

// Release is a kubernetes:helm.sh/v3:Release, the same resource the SDK's helm/v3 package
// declares, with only the inputs this program sets. It lives here instead of being imported
// from github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3 because that package
// also holds the v3 Chart component, which imports kubernetes/yaml and with it every API group
// of the SDK: 62 packages the program never uses, half of its compile time, 40% of its binary
// and half of the link's memory (docs/testing.md, "Compile time"). What reaches the provider is
// unchanged.
type Release struct {
	pulumi.CustomResourceState

	// Status is the release's status as the provider reports it once installed: name,
	// namespace, revision, status, chart, version, appVersion. Unknown during a first preview.
	Status pulumi.MapOutput `pulumi:"status"`
}

// ReleaseArgs are the inputs of a Release, named as in the SDK's helmv3.ReleaseArgs. A nil field
// is not sent, so the provider applies its default.
type ReleaseArgs struct {
	// Name is the Helm release name; the provider generates one when nil.
	Name pulumi.StringPtrInput
	// Chart is a chart name in Repo, or a path to a local chart directory. Required.
	Chart pulumi.StringInput
	// Version of the chart in Repo; nil for a local chart.
	Version pulumi.StringPtrInput
	// Repo is the chart repository URL (repositoryOpts.repo); nil for a local chart.
	Repo      pulumi.StringPtrInput
	Namespace pulumi.StringPtrInput
	Values    pulumi.MapInput
	// Atomic rolls a failed install or upgrade back.
	Atomic        pulumi.BoolPtrInput
	CleanupOnFail pulumi.BoolPtrInput
	// SkipAwait returns without waiting for the release's resources to become ready.
	SkipAwait pulumi.BoolPtrInput
	// Timeout of each Helm operation, in seconds.
	Timeout pulumi.IntPtrInput
	// MaxHistory is the number of release revisions Helm keeps.
	MaxHistory pulumi.IntPtrInput
}

// releaseInputs is what is sent: the provider's property names, as in the SDK's releaseArgs.
type releaseInputs struct {
	Name           *string         `pulumi:"name"`
	Chart          string          `pulumi:"chart"`
	Version        *string         `pulumi:"version"`
	RepositoryOpts *repositoryOpts `pulumi:"repositoryOpts"`
	Namespace      *string         `pulumi:"namespace"`
	Values         map[string]any  `pulumi:"values"`
	Atomic         *bool           `pulumi:"atomic"`
	CleanupOnFail  *bool           `pulumi:"cleanupOnFail"`
	SkipAwait      *bool           `pulumi:"skipAwait"`
	Timeout        *int            `pulumi:"timeout"`
	MaxHistory     *int            `pulumi:"maxHistory"`
	// Compat is always "true": the SDKs set it so that the provider keeps the behaviour the
	// resource had before the provider's Helm 3 rework.
	Compat *string `pulumi:"compat"`
}

type repositoryOpts struct {
	Repo *string `pulumi:"repo"`
}

// releaseInputArgs is the Input form of releaseInputs, field for field.
type releaseInputArgs struct {
	Name           pulumi.StringPtrInput
	Chart          pulumi.StringInput
	Version        pulumi.StringPtrInput
	RepositoryOpts pulumi.Input
	Namespace      pulumi.StringPtrInput
	Values         pulumi.MapInput
	Atomic         pulumi.BoolPtrInput
	CleanupOnFail  pulumi.BoolPtrInput
	SkipAwait      pulumi.BoolPtrInput
	Timeout        pulumi.IntPtrInput
	MaxHistory     pulumi.IntPtrInput
	Compat         pulumi.StringPtrInput
}

func (releaseInputArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*releaseInputs)(nil)).Elem()
}

type repositoryOptsArgs struct {
	Repo pulumi.StringPtrInput
}

func (repositoryOptsArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*repositoryOpts)(nil)).Elem()
}

// NewRelease declares a Helm release with the SDK's package defaults (the provider version of the
// pulumi-kubernetes SDK in go.mod), like helmv3.NewRelease.
func NewRelease(ctx *pulumi.Context, name string, args *ReleaseArgs, opts ...pulumi.ResourceOption) (*Release, error) {
	if args == nil || args.Chart == nil {
		return nil, errors.New("helm release " + name + ": Chart is required")
	}
	in := releaseInputArgs{
		Name:          args.Name,
		Chart:         args.Chart,
		Version:       args.Version,
		Namespace:     args.Namespace,
		Values:        args.Values,
		Atomic:        args.Atomic,
		CleanupOnFail: args.CleanupOnFail,
		SkipAwait:     args.SkipAwait,
		Timeout:       args.Timeout,
		MaxHistory:    args.MaxHistory,
		Compat:        pulumi.StringPtr("true"),
	}
	if args.Repo != nil {
		in.RepositoryOpts = repositoryOptsArgs{Repo: args.Repo}
	}
	var r Release
	if err := ctx.RegisterResource(ReleaseType, name, in, &r, utilities.PkgResourceDefaultOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// StatusName and StatusNamespace are the release's name and namespace from its status, "" until
// the release exists.
func (r *Release) StatusName() pulumi.StringOutput      { return statusField(r.Status, "name") }
func (r *Release) StatusNamespace() pulumi.StringOutput { return statusField(r.Status, "namespace") }

func statusField(status pulumi.MapOutput, key string) pulumi.StringOutput {
	return status.ApplyT(func(s map[string]any) string {
		v, _ := s[key].(string)
		return v
	}).(pulumi.StringOutput)
}
