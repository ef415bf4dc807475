package dns

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/podidentity"
)

// ExternalDNSChart is the external-dns chart at the published release
// external-dns-helm-chart-1.21.1 (https://github.com/kubernetes-sigs/external-dns/releases/tag/external-dns-helm-chart-1.21.1,
// app v0.21.0). No template carries a Helm hook, so it is a Pulumi Chart v4; its CRDs (crds/) are
// only for the crd source and registry, which this program does not use, and are skipped. Value
// keys checked in charts/external-dns/values.yaml at that tag: provider.name, sources, policy,
// registry, txtOwnerId, domainFilters, extraArgs, interval, env, serviceAccount.{create,name},
// resources, nodeSelector, tolerations. policy is always set: chart 1.22.0 makes it required.
// TestChartValuesExist checks the values against the chart in modules.ExternalDNSModule.
//
// The chart is not awaited (SkipAwait). The namespaces that hold Ingresses depend on it so that,
// on destroy, ExternalDNS outlives them and deletes their records; Pulumi orders creation by the
// same edge, so an awaited install (about 1.5 min with its first node) would hold the app's
// release, External Secrets and kube-prometheus-stack back on a cold `up` (docs/estimate.md,
// "The wait that stays"). Nothing in the `up` needs ExternalDNS running: it starts beside them,
// and its work is checked where it shows, by the deploy's smoke test, which resolves the app's
// name and fetches https://<domain>/ (.github/smoke-test).
var ExternalDNSChart = charts.Chart{Name: "external-dns", Repo: "https://kubernetes-sigs.github.io/external-dns/", Version: "1.21.1", SkipCRDs: true, SkipAwait: true}

// Where ExternalDNS runs, and the ServiceAccount its Pod Identity association names.
const (
	ExternalDNSNamespace      = "external-dns"
	ExternalDNSServiceAccount = "external-dns"
)

// ExternalDNSArgs configures ExternalDNS.
type ExternalDNSArgs struct {
	Provider    *kubernetes.Provider
	ClusterName pulumi.StringInput
	Region      string
	// Zone is the only zone ExternalDNS may change.
	Zone *Zone
	// OwnerID marks the records this stack owns (TXT registry), e.g. "flask-eks-prod".
	OwnerID string
	// APIServer is where ExternalDNS reaches the Kubernetes API server.
	APIServer netpol.APIServer
	// DependsOn are what the chart must wait for (the cluster's classes).
	DependsOn []pulumi.Resource
	// Placement is where ExternalDNS's pod runs (the platform NodePool on EKS); zero keeps the
	// chart's defaults.
	Placement kube.Placement
}

// ExternalDNS points the host names of the cluster's Ingresses at their ALBs.
type ExternalDNS struct {
	pulumi.ResourceState
	Chart *helmv4.Chart
}

// NewExternalDNS installs ExternalDNS with an IAM role, through EKS Pod Identity, that may change
// records only in the stack's zone.
//
// policy: sync, not upsert-only. With the TXT registry, ExternalDNS deletes only the records it
// created for this owner ID, so sync cannot touch records made by hand or by another stack; and
// when an Ingress or its host goes, its record goes too, instead of lingering as a name that
// points at a deleted load balancer (a dangling record, open to takeover).
func NewExternalDNS(ctx *pulumi.Context, name string, args *ExternalDNSArgs, opts ...pulumi.ResourceOption) (*ExternalDNS, error) {
	if args == nil || args.Provider == nil || args.ClusterName == nil || args.Zone == nil || args.OwnerID == "" || args.Region == "" {
		return nil, fmt.Errorf("external-dns %q: provider, cluster, zone, owner ID and region are required", name)
	}
	e := &ExternalDNS{}
	if err := ctx.RegisterComponentResource("flask-eks:dns:ExternalDNS", name, e, opts...); err != nil {
		return nil, fmt.Errorf("registering external-dns %q: %w", name, err)
	}
	policy, err := ExternalDNSPolicy(args.Zone.Arn)
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	identity, err := podidentity.New(ctx, name, e, podidentity.Args{
		ClusterName:    args.ClusterName,
		Namespace:      ExternalDNSNamespace,
		ServiceAccount: ExternalDNSServiceAccount,
		Policy:         pulumi.String(policy),
		Description:    "ExternalDNS: records in " + args.Zone.Name,
	})
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(e), pulumi.Provider(args.Provider)}
	ns, err := kube.RestrictedNamespace(ctx, name+"-ns", ExternalDNSNamespace, netpol.Egress{
		APIServer: args.APIServer, Internet: true, PodIdentity: true,
	}, append(k8s, pulumi.DependsOn(args.DependsOn))...)
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	e.Chart, err = charts.Install(ctx, name, ExternalDNSChart, ns, ExternalDNSValues(args), args.Provider,
		pulumi.Parent(e), pulumi.DependsOn(append([]pulumi.Resource{identity.Association}, args.DependsOn...)))
	if err != nil {
		return nil, fmt.Errorf("external-dns %q: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{}); err != nil {
		return nil, fmt.Errorf("external-dns %q: registering outputs: %w", name, err)
	}
	return e, nil
}

// ExternalDNSValues are the chart values: Ingresses only, this zone only (by name and ID),
// records owned by OwnerID, on the pool args.Placement names (nodeSelector and tolerations,
// values.yaml L162 and L171 at the tag).
func ExternalDNSValues(args *ExternalDNSArgs) pulumi.Map {
	values := pulumi.Map{
		"provider":      pulumi.Map{"name": pulumi.String("aws")},
		"sources":       pulumi.ToStringArray([]string{"ingress"}),
		"policy":        pulumi.String("sync"),
		"registry":      pulumi.String("txt"),
		"txtOwnerId":    pulumi.String(args.OwnerID),
		"domainFilters": pulumi.ToStringArray([]string{args.Zone.Name}),
		"extraArgs": pulumi.Map{
			"aws-zone-type":  pulumi.String("public"),
			"zone-id-filter": pulumi.ToStringArray([]string{args.Zone.ID}),
		},
		"interval": pulumi.String("1m"),
		// The AWS SDK's default chain finds the Pod Identity credentials; the region is set.
		"env": pulumi.Array{pulumi.Map{"name": pulumi.String("AWS_DEFAULT_REGION"), "value": pulumi.String(args.Region)}},
		"serviceAccount": pulumi.Map{
			"create": pulumi.Bool(true),
			"name":   pulumi.String(ExternalDNSServiceAccount),
		},
		"resources": pulumi.Map{"requests": pulumi.Map{"cpu": pulumi.String("20m"), "memory": pulumi.String("64Mi")}},
	}
	for k, v := range pulumi.ToMap(args.Placement.Values()) {
		values[k] = v
	}
	return values
}

// ExternalDNSPolicy lets ExternalDNS read and change records in the one zone; listing zones
// cannot be scoped to a resource (the ExternalDNS AWS tutorial, docs/tutorials/aws.md).
func ExternalDNSPolicy(zoneArn string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Effect":   "Allow",
				"Action":   []string{"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResources"},
				"Resource": []string{zoneArn},
			},
			map[string]any{
				"Effect":   "Allow",
				"Action":   []string{"route53:ListHostedZones"},
				"Resource": []string{"*"},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
