// Package app provides App: the Flask app's ECR repository and image (built and pushed with
// pulumi-docker, deployed by digest), its namespace, the Helm release of its own chart in
// app/chart, the Secret the release's pods read, optional EKS Pod Identity, and the app's URL
// read back from its Ingress.
//
// The AWS half (repository, image, Pod Identity) is optional: without Build the component
// deploys a given image and needs only the Kubernetes provider, so the same code serves EKS,
// an existing cluster, and the integration test against a bare API server.
package app

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/podidentity"
)

// AppArgs configures an App. Exactly one of Build and Image is set.
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
	// Ignored when Settings.IngressEnabled is false.
	IngressClassName pulumi.StringInput
	// SecretKey and DBPassword go into a Secret the component creates; the chart gets only its
	// name. They should be Pulumi secrets; the component marks them secret again in case not.
	SecretKey  pulumi.StringInput
	DBPassword pulumi.StringInput
	// ReleaseDependsOn are resources the release must wait for although no data flows from
	// them: the IngressClass, and the monitoring release whose CRDs the ServiceMonitor needs.
	ReleaseDependsOn []pulumi.Resource
	// SkipAwait deploys without waiting for pods to become ready (for API servers without nodes).
	SkipAwait bool

	// Build creates an ECR repository and builds and pushes the image to it.
	Build *BuildArgs
	// Image is a ready image reference to deploy instead (existing clusters, tests).
	Image string

	// PodIdentity, when set, gives the app's ServiceAccount an IAM role through EKS Pod Identity.
	PodIdentity *PodIdentityArgs
}

// BuildArgs configures the ECR repository and the image build.
type BuildArgs struct {
	// RepositoryName is the ECR repository name, e.g. "flask-eks-dev/flask-app".
	RepositoryName string
	// Context is the Docker build context (app-src); its contents decide the image tag.
	Context string
	// Platform is the target platform. EKS Auto Mode's general-purpose pool is amd64 only.
	Platform string
	// KeepImages is how many images the lifecycle policy keeps.
	KeepImages int
	// ForceDelete lets destroy delete the repository with images in it.
	ForceDelete bool
}

// PodIdentityArgs configures EKS Pod Identity for the app's ServiceAccount.
type PodIdentityArgs struct {
	ClusterName pulumi.StringInput
	PolicyArns  []string
}

// App is the deployed Flask app.
type App struct {
	pulumi.ResourceState

	AppURL        pulumi.StringOutput `pulumi:"appUrl"`
	ConfigURL     pulumi.StringOutput `pulumi:"configUrl"`
	Hostname      pulumi.StringOutput `pulumi:"hostname"`
	ImageRef      pulumi.StringOutput `pulumi:"imageRef"`
	ImageDigest   pulumi.StringOutput `pulumi:"imageDigest"`
	RepositoryURL pulumi.StringOutput `pulumi:"repositoryUrl"`

	// Release is the Helm release, for dependencies.
	Release *helmv3.Release
}

// NewApp declares the app's registry, image, namespace, Helm release and optional Pod Identity.
func NewApp(ctx *pulumi.Context, name string, args *AppArgs, opts ...pulumi.ResourceOption) (*App, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("app %q: %w", name, err)
	}
	args = ptr(*args) // defaults below must not leak into the caller's struct
	a := &App{}
	if err := ctx.RegisterComponentResource("flask-eks:app:App", name, a, opts...); err != nil {
		return nil, fmt.Errorf("registering app %q: %w", name, err)
	}

	// The image: built and pushed to ECR, or given.
	repository, digest, ref := pulumi.String("").ToStringOutput(), pulumi.String("").ToStringOutput(), pulumi.String(args.Image).ToStringOutput()
	if args.Build != nil {
		tag, err := ContentTag(args.Build.Context)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", name, err)
		}
		if args.Settings.AppVersion == "" {
			args.Settings.AppVersion = tag // the app reports the source it was built from
		}
		img, repo, err := buildImage(ctx, name, a, args.Build, tag)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", name, err)
		}
		// RepoDigest is "<registry>/<repo>@sha256:…": deploying by digest means a pod runs
		// exactly the bytes that were pushed, whatever happens to tags later.
		repository = repo.RepositoryUrl
		digest = img.RepoDigest.ApplyT(func(d string) string {
			_, sha, _ := strings.Cut(d, "@")
			return sha
		}).(pulumi.StringOutput)
		ref = img.RepoDigest
		a.RepositoryURL = repo.RepositoryUrl
	} else {
		a.RepositoryURL = pulumi.String("").ToStringOutput()
	}
	a.ImageRef, a.ImageDigest = ref, digest

	k8s := []pulumi.ResourceOption{pulumi.Parent(a), pulumi.Provider(args.Provider)}
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(args.Namespace),
			Labels: pulumi.StringMap{
				// Enforce the restricted Pod Security Standard: the chart's pods comply.
				"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
			},
		},
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("app %q: creating namespace: %w", name, err)
	}

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

	secret, err := appSecret(ctx, name, ns, args, k8s)
	if err != nil {
		return nil, fmt.Errorf("app %q: %w", name, err)
	}

	chartDigest, err := ChartDigest(args.ChartPath)
	if err != nil {
		return nil, fmt.Errorf("app %q: %w", name, err)
	}
	values := releaseValues(args, repository, digest, secret.Metadata.Name().Elem())
	values["chartDigest"] = pulumi.String(chartDigest)
	release, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
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
	if args.Settings.IngressEnabled {
		a.Hostname, err = ingressHostname(ctx, name, release, k8s)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", name, err)
		}
	}
	scheme := "http"
	if args.Settings.CertificateArn != "" {
		scheme = "https"
	}
	a.AppURL = a.Hostname.ApplyT(func(h string) string {
		if h == "" {
			return "" // no Ingress, or the load balancer has no address yet
		}
		return scheme + "://" + h + "/"
	}).(pulumi.StringOutput)
	a.ConfigURL = a.AppURL.ApplyT(func(u string) string {
		if u == "" {
			return ""
		}
		return u + "config"
	}).(pulumi.StringOutput)

	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"appUrl":        a.AppURL,
		"configUrl":     a.ConfigURL,
		"hostname":      a.Hostname,
		"imageRef":      a.ImageRef,
		"imageDigest":   a.ImageDigest,
		"repositoryUrl": a.RepositoryURL,
	}); err != nil {
		return nil, fmt.Errorf("app %q: registering outputs: %w", name, err)
	}
	return a, nil
}

func (a *AppArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("args are required")
	case a.Provider == nil:
		return fmt.Errorf("an explicit Kubernetes provider is required")
	case a.Namespace == "" || a.ChartPath == "" || a.Settings.ReleaseName == "":
		return fmt.Errorf("namespace, chart path and release name are required")
	case (a.Build == nil) == (a.Image == ""):
		return fmt.Errorf("exactly one of Build and Image must be set")
	case a.SecretKey == nil || a.DBPassword == nil:
		return fmt.Errorf("both secrets (SecretKey, DBPassword) are required")
	case a.Settings.IngressEnabled && a.IngressClassName == nil:
		return fmt.Errorf("an IngressClassName is required when the Ingress is enabled")
	case a.Build != nil && (a.Build.RepositoryName == "" || a.Build.Context == "" || a.Build.Platform == ""):
		return fmt.Errorf("the build needs RepositoryName, Context and Platform")
	case a.Build != nil && a.Build.KeepImages < 1:
		return fmt.Errorf("the build must keep at least 1 image")
	case a.PodIdentity != nil && (a.PodIdentity.ClusterName == nil || len(a.PodIdentity.PolicyArns) == 0):
		return fmt.Errorf("pod identity needs ClusterName and at least one policy ARN")
	}
	return nil
}

// buildImage declares the ECR repository, its lifecycle policy, and the image.
func buildImage(ctx *pulumi.Context, name string, parent pulumi.Resource, b *BuildArgs, tag string) (*docker.Image, *ecr.Repository, error) {
	repo, err := ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name: pulumi.String(b.RepositoryName),
		// A tag always means the same bytes; the content tag makes that free.
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(true),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			&ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("KMS")},
		},
		ForceDelete: pulumi.Bool(b.ForceDelete),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, nil, fmt.Errorf("creating ECR repository: %w", err)
	}
	policy, err := lifecyclePolicy(b.KeepImages)
	if err != nil {
		return nil, nil, err
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, name, &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(policy),
	}, pulumi.Parent(parent)); err != nil {
		return nil, nil, fmt.Errorf("creating ECR lifecycle policy: %w", err)
	}

	// A short-lived (12 h) registry login, fetched at every run; the password stays secret.
	auth := ecr.GetAuthorizationTokenOutput(ctx, ecr.GetAuthorizationTokenOutputArgs{
		RegistryId: repo.RegistryId,
	}, pulumi.Parent(parent))
	img, err := docker.NewImage(ctx, name, &docker.ImageArgs{
		ImageName: pulumi.Sprintf("%s:%s", repo.RepositoryUrl, tag),
		Build: &docker.DockerBuildArgs{
			Context:    pulumi.String(b.Context),
			Dockerfile: pulumi.String(b.Context + "/Dockerfile"),
			Platform:   pulumi.String(b.Platform),
			Args:       pulumi.StringMap{"APP_VERSION": pulumi.String(tag)},
		},
		Registry: &docker.RegistryArgs{
			Server:   repo.RepositoryUrl,
			Username: auth.UserName(),
			Password: pulumi.ToSecret(auth.Password()).(pulumi.StringOutput),
		},
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, nil, fmt.Errorf("building image: %w", err)
	}
	return img, repo, nil
}

// lifecyclePolicy expires all but the newest keep images, tagged or not.
func lifecyclePolicy(keep int) (string, error) {
	policy := map[string]any{
		"rules": []any{map[string]any{
			"rulePriority": 1,
			"description":  fmt.Sprintf("keep the newest %d images", keep),
			"selection": map[string]any{
				"tagStatus":   "any",
				"countType":   "imageCountMoreThan",
				"countNumber": keep,
			},
			"action": map[string]any{"type": "expire"},
		}},
	}
	b, err := json.Marshal(policy)
	if err != nil {
		return "", fmt.Errorf("encoding ECR lifecycle policy: %w", err)
	}
	return string(b), nil
}

// podIdentity gives the app's ServiceAccount the configured policies through EKS Pod Identity.
func podIdentity(ctx *pulumi.Context, name string, a *App, args *AppArgs) (*awseks.PodIdentityAssociation, error) {
	sa := serviceAccountName(args.Settings)
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

// chartName is the name in app/chart/Chart.yaml (chart.Name; a test keeps them equal). It is not
// imported from there to keep the Helm SDK out of the Pulumi program's binary.
const chartName = "flask-app"

func ptr[T any](v T) *T { return &v }

// serviceAccountName is the name the chart gives the app's ServiceAccount.
func serviceAccountName(s ChartSettings) string {
	if s.ServiceAccountName != "" {
		return s.ServiceAccountName
	}
	return s.ReleaseName
}

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
	secret, err := corev1.NewSecret(ctx, name+"-secrets", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Namespace: ns.Metadata.Name(),
			// The chart's selector labels, so the Secret is listed with the release's objects.
			Labels: pulumi.StringMap{
				"app.kubernetes.io/name":       pulumi.String(chartName),
				"app.kubernetes.io/instance":   pulumi.String(args.Settings.ReleaseName),
				"app.kubernetes.io/part-of":    pulumi.String("flask-eks"),
				"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
			},
		},
		Type:      pulumi.String("Opaque"),
		Immutable: pulumi.Bool(true),
		StringData: pulumi.StringMap{
			"SECRET_KEY":  pulumi.ToSecret(args.SecretKey).(pulumi.StringOutput),
			"DB_PASSWORD": pulumi.ToSecret(args.DBPassword).(pulumi.StringOutput),
		},
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("creating the app Secret: %w", err)
	}
	return secret, nil
}

// releaseValues turns the plain chart values into Pulumi inputs and puts the values only
// known at deployment in their places: the image by digest, the name of the Secret holding the
// app's secrets, the IngressClass.
func releaseValues(args *AppArgs, repository, digest pulumi.StringOutput, secretName pulumi.StringOutput) pulumi.Map {
	values := toInput(ChartValues(args.Settings)).(pulumi.Map)
	image := values["image"].(pulumi.Map)
	if args.Build != nil {
		image["repository"] = repository
		image["digest"] = digest
	} else {
		repo, tag, digestRef := splitImage(args.Image)
		image["repository"] = pulumi.String(repo)
		image["tag"] = pulumi.String(tag)
		image["digest"] = pulumi.String(digestRef)
	}
	values["secrets"].(pulumi.Map)["existingSecret"] = secretName
	if args.Settings.IngressEnabled {
		values["ingress"].(pulumi.Map)["className"] = args.IngressClassName
	}
	return values
}

// splitImage splits "repo[:tag][@sha256:…]" into its parts. A colon only starts a tag after
// the last slash, because registry hosts may carry a port.
func splitImage(ref string) (repo, tag, digest string) {
	repo, digest, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
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
	case map[string]string:
		return pulumi.ToStringMap(t)
	case []any:
		arr := pulumi.Array{}
		for _, e := range t {
			arr = append(arr, toInput(e))
		}
		return arr
	case []string:
		return pulumi.ToStringArray(t)
	case string:
		return pulumi.String(t)
	case bool:
		return pulumi.Bool(t)
	case int:
		return pulumi.Int(t)
	case float64:
		return pulumi.Float64(t)
	case nil:
		return nil
	default:
		panic(fmt.Sprintf("chart value of unsupported type %T", v))
	}
}

// ingressHostname reads the chart's Ingress back from the cluster and returns the load
// balancer's hostname. The Ingress ID comes from the release's status, so on the first
// preview (no release yet) the read is skipped instead of failing on a missing object.
// The hostname is empty until the load balancer controller has provisioned the ALB; a later
// `pulumi up` or `pulumi refresh` fills it in.
func ingressHostname(ctx *pulumi.Context, name string, release *helmv3.Release, k8s []pulumi.ResourceOption) (pulumi.StringOutput, error) {
	id := release.Status.ApplyT(func(s helmv3.ReleaseStatus) pulumi.ID {
		ns, rel := "", ""
		if s.Namespace != nil {
			ns = *s.Namespace
		}
		if s.Name != nil {
			rel = *s.Name
		}
		return pulumi.ID(ns + "/" + rel) // fullnameOverride makes the Ingress name the release name
	}).(pulumi.IDOutput)
	ing, err := networkingv1.GetIngress(ctx, name, id, nil, append(k8s, pulumi.DependsOn([]pulumi.Resource{release}))...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("reading back the Ingress: %w", err)
	}
	return ing.Status.LoadBalancer().Ingress().ApplyT(func(lbs []networkingv1.IngressLoadBalancerIngress) string {
		for _, lb := range lbs {
			if lb.Hostname != nil && *lb.Hostname != "" {
				return *lb.Hostname
			}
		}
		return ""
	}).(pulumi.StringOutput), nil
}
