// Package app deploys the Flask app: Image builds and pushes its container image to ECR, and App
// runs it from the Helm chart in app/chart, in a namespace of its own with its Secret, its network
// policies and, optionally, AWS access through EKS Pod Identity.
//
// App needs only a Kubernetes provider and an image reference, so the same code serves EKS, an
// existing cluster, and the integration test against a bare API server.
package app

import (
	"fmt"
	"strings"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/podidentity"
)

// AppArgs configures an App.
type AppArgs struct {
	// Provider is the explicit Kubernetes provider of the target cluster.
	Provider *kubernetes.Provider
	// Namespace is created by the component and holds the release.
	Namespace string
	// ChartPath is the chart directory, relative to the program's working directory
	// (app/chart for `pulumi up` in the project root).
	ChartPath string
	// Settings are the plain chart settings; see ChartValues.
	Settings ChartSettings
	// IngressClassName is the class the Ingress uses, e.g. the eks component's ALB class.
	// Ignored when Settings.Ingress.Enabled is false.
	IngressClassName pulumi.StringInput
	// Image is the image to run: a built Image's repository and digest, or a reference from
	// config (ImageFromRef).
	Image ImageRef
	// AppVersion, when set, is the version the app reports (the built image's content tag);
	// it overrides Settings.AppVersion.
	AppVersion pulumi.StringInput
	// Secrets are the app's SECRET_KEY and DB_PASSWORD.
	Secrets Secrets
	// ReleaseDependsOn are resources the release must wait for although no data flows from
	// them: the IngressClass and StorageClass, the Pod Identity agent's association.
	ReleaseDependsOn []pulumi.Resource
	// NamespaceDependsOn are what must outlive the namespace on destroy, although no data flows
	// from them: what the load balancer of the app's Ingress needs until Auto Mode has deleted
	// it (its IngressClass and params, certificate, subnets, ExternalDNS), and the switch that
	// enforces the namespace's NetworkPolicies. Deleting a namespace waits for its Ingress's
	// finalizer, so with these dependencies the ALB is gone before any of them is deleted.
	NamespaceDependsOn []pulumi.Resource
	// SkipAwait deploys without waiting for pods to become ready (for API servers without nodes).
	SkipAwait bool
	// PodIdentity, when set, gives the app's ServiceAccount an IAM role through EKS Pod Identity.
	PodIdentity *PodIdentityArgs
}

// ImageRef is the image the pods run: by digest when Digest is set, else by tag.
type ImageRef struct {
	Repository pulumi.StringInput
	Digest     pulumi.StringInput
	Tag        string
}

// ImageFromRef splits "repo[:tag][@sha256:…]" into an ImageRef. A colon only starts a tag after
// the last slash, because registry hosts may carry a port.
func ImageFromRef(ref string) ImageRef {
	repo, digest, _ := strings.Cut(ref, "@")
	tag := ""
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return ImageRef{Repository: pulumi.String(repo), Digest: pulumi.String(digest), Tag: tag}
}

// Secrets says where the app's secrets come from: values the component writes into a Secret of
// its own, or the name of a Secret kept by something else (External Secrets).
type Secrets struct {
	// SecretKey and DBPassword go into a Secret the component creates; the chart gets only its
	// name. The component marks them secret again in case they are not.
	SecretKey  pulumi.StringInput
	DBPassword pulumi.StringInput
	// ExistingSecret names a Secret made elsewhere, with keys SECRET_KEY and DB_PASSWORD.
	ExistingSecret pulumi.StringInput
	// Source, when set, makes the Secret in the app's namespace once that exists (External
	// Secrets syncing it from AWS Secrets Manager); the pods then roll whenever its data changes.
	Source SecretSource
}

// SecretSource makes the app's Secret, with keys SECRET_KEY and DB_PASSWORD, in the app's
// namespace: the App calls SyncInto once it has created the namespace, with options that make
// the App the parent of what it declares. SyncInto returns the Secret's name; the release does
// not wait for what makes it (see NewApp). The signature uses only SDK types, so
// addons/externalsecrets implements it without importing this package: the app knows nothing
// of the operator, and the operator nothing of the app.
type SecretSource interface {
	SyncInto(ctx *pulumi.Context, name string, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (secretName pulumi.StringInput, err error)
}

// PodIdentityArgs configures EKS Pod Identity for the app's ServiceAccount.
type PodIdentityArgs struct {
	ClusterName pulumi.StringInput
	PolicyArns  []string
}

// App is the deployed Flask app.
type App struct {
	pulumi.ResourceState

	// AppURL is https://<host>/ or http://<host>/ when a host is configured (known at preview);
	// otherwise the ALB's generated name read back from the Ingress, "" until it has one, or ""
	// without an Ingress.
	AppURL    pulumi.StringOutput `pulumi:"appUrl"`
	ConfigURL pulumi.StringOutput `pulumi:"configUrl"`
	// Hostname is the ALB's generated DNS name, "" until the controller has created it.
	Hostname pulumi.StringOutput `pulumi:"hostname"`

	// Namespace and Release are exposed for dependencies: objects in the namespace are deleted
	// before it.
	Namespace *corev1.Namespace
	Release   *charts.Release
}

// NewApp declares the app's namespace, its Secret, Pod Identity, the Helm release and its URL.
func NewApp(ctx *pulumi.Context, name string, args *AppArgs, opts ...pulumi.ResourceOption) (*App, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("app %q: %w", name, err)
	}
	chartDigest, err := ChartDigest(args.ChartPath)
	if err != nil {
		return nil, fmt.Errorf("app %q: %w", name, err)
	}
	a := &App{}
	if err := ctx.RegisterComponentResource("flask-eks:app:App", name, a, opts...); err != nil {
		return nil, fmt.Errorf("registering app %q: %w", name, err)
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(a), pulumi.Provider(args.Provider)}

	// The restricted Pod Security Standard (the chart's pods comply) and default deny: the
	// chart's own NetworkPolicy admits the app's traffic.
	ns, err := kube.Namespace(ctx, name, args.Namespace, "restricted", append(k8s, pulumi.DependsOn(args.NamespaceDependsOn))...)
	if err != nil {
		return nil, fmt.Errorf("app %q: %w", name, err)
	}
	a.Namespace = ns

	releaseDeps := append([]pulumi.Resource{}, args.ReleaseDependsOn...)
	if args.PodIdentity != nil {
		association, err := podIdentity(ctx, name, a, args)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", name, err)
		}
		// The pods must find their AWS credentials from their first start: EKS injects them only
		// into pods created after the association exists.
		releaseDeps = append(releaseDeps, association)
	}

	// The release does not wait for a Secret made elsewhere: its pods do. On a first install the
	// release starts while External Secrets may still be installing; the pods stay in
	// CreateContainerConfigError until the Secret exists and the kubelet starts them then,
	// within the release's wait (Timeout). Waiting here would add the operator's whole install
	// to the time before the app serves (docs/estimate.md). A Secret that never comes fails the
	// release after Timeout, and Atomic rolls it back; the ExternalSecret itself is awaited
	// until Ready, so `up` names the cause.
	secretName := args.Secrets.ExistingSecret
	if src := args.Secrets.Source; src != nil {
		syncedName, err := src.SyncInto(ctx, name, ns, pulumi.Parent(a), pulumi.Provider(args.Provider))
		if err != nil {
			return nil, fmt.Errorf("app %q: syncing its Secret: %w", name, err)
		}
		if syncedName == nil {
			return nil, fmt.Errorf("app %q: the secret source returned no Secret name", name)
		}
		secretName = syncedName
	}
	if secretName == nil {
		secret, err := appSecret(ctx, name, ns, args, k8s)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", name, err)
		}
		secretName = secret.Metadata.Name().Elem()
	}

	values := releaseValues(args, secretName, chartDigest)
	release, err := charts.NewRelease(ctx, name, &charts.ReleaseArgs{
		Name:      pulumi.String(args.Settings.ReleaseName),
		Chart:     pulumi.String(args.ChartPath),
		Namespace: ns.Metadata.Name().Elem(),
		Values:    values,
		// Atomic rolls a failed upgrade back, so a bad image never leaves the app half-rolled.
		Atomic:        pulumi.Bool(!args.SkipAwait),
		CleanupOnFail: pulumi.Bool(true),
		Timeout:       pulumi.Int(600),
		MaxHistory:    pulumi.Int(10),
		SkipAwait:     pulumi.Bool(args.SkipAwait),
	}, append(k8s, pulumi.DependsOn(releaseDeps))...)
	if err != nil {
		return nil, fmt.Errorf("app %q: creating Helm release: %w", name, err)
	}
	a.Release = release

	a.Hostname = pulumi.String("").ToStringOutput()
	if args.Settings.Ingress.Enabled {
		// fullnameOverride makes the Ingress's name the release's.
		a.Hostname, err = kube.ReleaseIngressHostname(ctx, name, release, func(rel string) string { return rel }, k8s...)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", name, err)
		}
	}
	a.AppURL = appURL(args.Settings.Ingress, a.Hostname)
	a.ConfigURL = a.AppURL.ApplyT(func(u string) string {
		if u == "" {
			return ""
		}
		return u + "config"
	}).(pulumi.StringOutput)

	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"appUrl":    a.AppURL,
		"configUrl": a.ConfigURL,
		"hostname":  a.Hostname,
	}); err != nil {
		return nil, fmt.Errorf("app %q: registering outputs: %w", name, err)
	}
	return a, nil
}

// sources counts where the app's secrets are said to come from.
func (s Secrets) sources() int {
	n := 0
	if s.ExistingSecret != nil {
		n++
	}
	if s.Source != nil {
		n++
	}
	if s.SecretKey != nil || s.DBPassword != nil {
		n++
		if s.SecretKey == nil || s.DBPassword == nil {
			n++ // only one of the pair
		}
	}
	return n
}

func (a *AppArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("args are required")
	case a.Provider == nil:
		return fmt.Errorf("an explicit Kubernetes provider is required")
	case a.Namespace == "" || a.ChartPath == "" || a.Settings.ReleaseName == "":
		return fmt.Errorf("namespace, chart path and release name are required")
	case a.Image.Repository == nil:
		return fmt.Errorf("an image repository is required")
	case a.Secrets.sources() != 1:
		return fmt.Errorf("exactly one of ExistingSecret, Source, and both SecretKey and DBPassword is required")
	case a.Settings.Ingress.Enabled && a.IngressClassName == nil:
		return fmt.Errorf("an IngressClassName is required when the Ingress is enabled")
	case a.Settings.Ingress.HTTPS && a.Settings.Ingress.Host == "":
		return fmt.Errorf("HTTPS needs a host name")
	case a.PodIdentity != nil && (a.PodIdentity.ClusterName == nil || len(a.PodIdentity.PolicyArns) == 0):
		return fmt.Errorf("pod identity needs ClusterName and at least one policy ARN")
	}
	return nil
}

// podIdentity gives the app's ServiceAccount the configured policies through EKS Pod Identity.
func podIdentity(ctx *pulumi.Context, name string, a *App, args *AppArgs) (*awseks.PodIdentityAssociation, error) {
	sa := args.Settings.ReleaseName // the chart names the ServiceAccount after the release
	r, err := podidentity.New(ctx, name+"-pod-identity", a, podidentity.Args{
		ClusterName:    args.PodIdentity.ClusterName,
		Namespace:      args.Namespace,
		ServiceAccount: sa,
		PolicyArns:     args.PodIdentity.PolicyArns,
		Description:    fmt.Sprintf("EKS Pod Identity role of %s/%s", args.Namespace, sa),
	})
	if err != nil {
		return nil, err
	}
	return r.Association, nil
}

// chartName is the name in app/chart/Chart.yaml (a test keeps them equal). It is not read from
// there, to keep the Helm SDK out of the Pulumi program's binary.
const chartName = "flask-app"

// appSecret declares the Secret holding the app's SECRET_KEY and DB_PASSWORD. The component
// creates it and hands the chart only its name (secrets.existingSecret): values given to Helm are
// kept, with the rendered manifests, in a release record per revision (a Secret of type
// helm.sh/release.v1 in the namespace), so secrets passed as values would outlive every rotation
// in Helm's history. This way they live only in this Secret and, encrypted, in Pulumi's state.
//
// The Secret is auto-named and immutable. pulumi-kubernetes replaces a Secret whose data changes
// (create before delete, under a new name), so a new value changes existingSecret, which changes
// the chart's checksum/secret annotation and rolls the pods onto it.
func appSecret(ctx *pulumi.Context, name string, ns *corev1.Namespace, args *AppArgs, k8s []pulumi.ResourceOption) (*corev1.Secret, error) {
	labels := pulumi.StringMap{
		"app.kubernetes.io/part-of":    pulumi.String("flask-eks"),
		"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
	}
	for k, v := range SelectorLabels(args.Settings.ReleaseName) {
		labels[k] = pulumi.String(v) // listed with the release's objects
	}
	secret, err := corev1.NewSecret(ctx, name+"-secrets", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Namespace: ns.Metadata.Name(),
			Labels:    labels,
		},
		Type:      pulumi.String("Opaque"),
		Immutable: pulumi.Bool(true),
		StringData: pulumi.StringMap{
			"SECRET_KEY":  pulumi.ToSecret(args.Secrets.SecretKey).(pulumi.StringOutput),
			"DB_PASSWORD": pulumi.ToSecret(args.Secrets.DBPassword).(pulumi.StringOutput),
		},
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("creating the app Secret: %w", err)
	}
	return secret, nil
}

// releaseValues turns the plain chart values into Pulumi inputs and puts the values only
// known at deployment in their places: the image, the Secret's name, the IngressClass, the
// chart's digest.
func releaseValues(args *AppArgs, secretName pulumi.StringInput, chartDigest string) pulumi.Map {
	values := toInput(ChartValues(args.Settings)).(pulumi.Map)
	image := values["image"].(pulumi.Map)
	image["repository"] = args.Image.Repository
	if args.Image.Digest != nil {
		image["digest"] = args.Image.Digest
	}
	image["tag"] = pulumi.String(args.Image.Tag)
	values["secrets"].(pulumi.Map)["existingSecret"] = secretName
	if args.Secrets.Source != nil {
		// The synced Secret changes in place when its source does: Reloader rolls the pods.
		values["secrets"].(pulumi.Map)["reloadOnChange"] = pulumi.Bool(true)
	}
	if args.Settings.Ingress.Enabled {
		values["ingress"].(pulumi.Map)["className"] = args.IngressClassName
	}
	values["chartDigest"] = pulumi.String(chartDigest)
	if args.AppVersion != nil {
		values["config"].(pulumi.Map)["APP_VERSION"] = args.AppVersion
	}
	return values
}

// toInput converts plain chart values into Pulumi inputs, keeping maps as pulumi.Map so that
// single keys can be replaced by outputs.
func toInput(v any) pulumi.Input {
	switch t := v.(type) {
	case map[string]any:
		m := pulumi.Map{}
		for k, e := range t {
			m[k] = toInput(e)
		}
		return m
	case []any:
		arr := pulumi.Array{}
		for _, e := range t {
			arr = append(arr, toInput(e))
		}
		return arr
	case string:
		return pulumi.String(t)
	case bool:
		return pulumi.Bool(t)
	case int:
		return pulumi.Int(t)
	default:
		panic(fmt.Sprintf("chart value of unsupported type %T", v))
	}
}

// appURL is the app's address: from the configured host when there is one (known at preview,
// whatever the load balancer is called), else from the ALB's generated name.
func appURL(in ChartIngress, hostname pulumi.StringOutput) pulumi.StringOutput {
	if in.Enabled && in.Host != "" {
		return pulumi.String(kube.HostURL(in.Host, in.HTTPS)).ToStringOutput()
	}
	return kube.LoadBalancerURL(hostname)
}
