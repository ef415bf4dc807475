// Command pulumi-resource-kubernetes is the Pulumi Kubernetes resource provider
// plugin, built from source for the integration tests because the Go module
// proxy is the only registry these machines reach.
//
// It is the upstream cmd/pulumi-resource-kubernetes main with one change: the
// upstream main embeds schema-embed.json and terraform-mapping-embed.json, which
// are generated and are not in the module zip. .ci/build-tools copies this
// package into a build directory outside the repository, writes those two files
// there from schema.json and terraform-mapping.json of the pinned provider module
// (with embedgen.go, which does what upstream's generate.go does), and builds it.
//
// The pinned provider module is the only one the proxy serves: a January 2026
// commit (f47bc2d6f199) of pulumi-kubernetes, i.e. an EARLIER provider than the
// v4.32.0 SDK that the Pulumi program uses. The build stamps it as 4.32.0 and
// installs it under that version, because the engine asks for the plugin
// version that the SDK names in its pulumi-plugin.json.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
