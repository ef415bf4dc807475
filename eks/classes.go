package eks

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EKS Auto Mode's built-in controllers. Auto Mode runs them, but it creates neither a
// StorageClass nor an IngressClass that points at them: that is left to the cluster owner.
const (
	// EBSProvisioner is Auto Mode's block storage driver (not the add-on's ebs.csi.aws.com).
	EBSProvisioner = "ebs.csi.eks.amazonaws.com"
	// ALBController is Auto Mode's load balancer controller for Ingresses.
	ALBController = "eks.amazonaws.com/alb"
	// ParamsAPIGroup is the group of Auto Mode's IngressClassParams.
	ParamsAPIGroup = "eks.amazonaws.com"
)

// TLSPolicy is the ALB security policy of every HTTPS listener: TLS 1.3 and 1.2 only, with
// hybrid post-quantum key exchange, the policy AWS recommends
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html).
// The API's own default, ELBSecurityPolicy-2016-08, still allows TLS 1.0 and 1.1.
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"

// ALBClass is one IngressClass for Auto Mode's ALBs, with its IngressClassParams. Auto Mode
// takes its load balancer settings from the IngressClassParams; it ignores Ingress-level
// `group.name` ("Not supported: Specify groups in IngressClass only",
// https://docs.aws.amazon.com/eks/latest/userguide/auto-configure-alb.html), so every setting
// that must hold for all Ingresses sharing an ALB lives here.
type ALBClass struct {
	// Name names the IngressClass and its IngressClassParams, e.g. "alb".
	Name string
	// Scheme is internet-facing or internal.
	Scheme string
	// GroupName puts every Ingress of the class on one ALB.
	GroupName string
	// InboundCIDRs restricts who may connect to the ALB's listeners; empty allows everyone.
	InboundCIDRs []string
	// CertificateArn, when set, is the certificate of the HTTPS listener (the Ingresses ask for
	// port 443 with listen-ports); TLSPolicy applies to it.
	CertificateArn pulumi.StringInput
	// AccessLogsBucket, when set, receives the ALB's access logs under AccessLogsPrefix.
	AccessLogsBucket pulumi.StringInput
	// Default marks the IngressClass as the cluster default.
	Default bool
}

// ClassesArgs configures Classes.
type ClassesArgs struct {
	// Provider is the explicit Kubernetes provider of the target cluster.
	Provider *kubernetes.Provider
	// StorageProvider, when set, is a provider of the same cluster with client-side apply
	// (enableServerSideApply false), for the StorageClass alone. A change of the StorageClass's
	// parameters (a new tag) replaces it, and with server-side apply the kubernetes provider
	// previews that replacement as a dry-run apply onto the existing object, which the API
	// server refuses ("updates to parameters are forbidden"; pulumi-kubernetes#3767): every
	// preview of a tag change would fail. With client-side apply the provider does not
	// dry-run creates in a preview. Nil sends the StorageClass through Provider.
	StorageProvider *kubernetes.Provider
	// StorageClassName names the default gp3 StorageClass, e.g. "gp3".
	StorageClassName string
	// ALBs are the IngressClasses to create; their names must differ.
	ALBs []ALBClass
	// RetainVolumes keeps a volume's EBS disk when its PVC is deleted (prod); otherwise the disk
	// goes with the claim.
	RetainVolumes bool
	// NetworkPolicies turns on the enforcement of Kubernetes NetworkPolicies on Auto Mode
	// nodes (off in clusters that enforce them otherwise, such as a test API server).
	NetworkPolicies bool
	// Tags go on every EBS volume the StorageClass provisions and on every load balancer,
	// target group, listener and security group the ALB classes create.
	Tags map[string]string
}

// Classes are the cluster-scoped objects an EKS Auto Mode cluster needs before workloads can
// ask for volumes and load balancers: a default encrypted gp3 StorageClass, ALB IngressClasses
// with their IngressClassParams, and the switch that makes Auto Mode enforce NetworkPolicies.
// It is its own component so that it can be deployed to any API server with the CRD of
// IngressClassParams (the integration test does).
type Classes struct {
	pulumi.ResourceState

	StorageClassName pulumi.StringOutput `pulumi:"storageClassName"`

	// StorageClass and IngressClasses (in ClassesArgs.ALBs' order) are exposed for explicit
	// dependencies: workloads that create PVCs or Ingresses must wait for them, and be deleted
	// before them.
	StorageClass   *storagev1.StorageClass
	IngressClasses []*networkingv1.IngressClass
	// NetworkPolicyConfig is the ConfigMap that turns on NetworkPolicy enforcement, or nil.
	NetworkPolicyConfig *corev1.ConfigMap
}

// Resources lists the objects workloads must wait for: the StorageClass, every IngressClass and
// the NetworkPolicy switch.
func (c *Classes) Resources() []pulumi.Resource {
	out := []pulumi.Resource{c.StorageClass}
	for _, ic := range c.IngressClasses {
		out = append(out, ic)
	}
	if c.NetworkPolicyConfig != nil {
		out = append(out, c.NetworkPolicyConfig)
	}
	return out
}

// NewClasses declares the StorageClass, the IngressClassParams and IngressClasses, and the
// NetworkPolicy switch.
func NewClasses(ctx *pulumi.Context, name string, args *ClassesArgs, opts ...pulumi.ResourceOption) (*Classes, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("eks classes %q: %w", name, err)
	}
	c := &Classes{}
	if err := ctx.RegisterComponentResource("flask-eks:eks:Classes", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering eks classes %q: %w", name, err)
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(args.Provider)}
	storage := k8s
	if args.StorageProvider != nil {
		storage = []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(args.StorageProvider)}
	}

	sc, err := storagev1.NewStorageClass(ctx, name+"-"+args.StorageClassName, &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(args.StorageClassName),
			Annotations: pulumi.StringMap{
				// PVCs without a class (Prometheus, Grafana, Alertmanager) get this one.
				"storageclass.kubernetes.io/is-default-class": pulumi.String("true"),
			},
		},
		Provisioner: pulumi.String(EBSProvisioner),
		Parameters:  storageParameters(args.Tags),
		// Bind where the pod lands: EBS volumes are zonal, and binding early could pin a pod
		// to a zone with no capacity.
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		AllowVolumeExpansion: pulumi.Bool(true),
		// Prometheus's and Grafana's claims come from StatefulSet volumeClaimTemplates, which
		// outlive a release replacement, so the new pods get the old volumes back. Retain also
		// keeps the disks when the claims themselves go (a deleted namespace, a destroy); the
		// teardown in docs/operations.md lists them.
		ReclaimPolicy: pulumi.String(reclaimPolicy(args.RetainVolumes)),
	},
		// The API server forbids updates to a StorageClass's parameters, provisioner,
		// reclaimPolicy and volumeBindingMode, so a new tag (or Protect) replaces the class;
		// it has a fixed name, so the old one goes first. The kubernetes provider replaces on
		// the first two by itself, not on the last two. Volumes already provisioned keep the
		// tags they were created with.
		slices.Concat(storage, []pulumi.ResourceOption{
			pulumi.ReplaceOnChanges([]string{"parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"}),
			pulumi.DeleteBeforeReplace(true),
		})...)
	if err != nil {
		return nil, fmt.Errorf("eks classes %q: creating StorageClass: %w", name, err)
	}
	c.StorageClass = sc

	for _, alb := range args.ALBs {
		ic, err := newALBClass(ctx, name, alb, args.Tags, k8s)
		if err != nil {
			return nil, fmt.Errorf("eks classes %q: %w", name, err)
		}
		c.IngressClasses = append(c.IngressClasses, ic)
	}

	if args.NetworkPolicies {
		// Auto Mode enforces NetworkPolicies only once this ConfigMap turns its network policy
		// controller on; each NodeClass then applies them with its networkPolicy default
		// (DefaultAllow: pods that no policy selects keep all traffic)
		// (https://docs.aws.amazon.com/eks/latest/userguide/auto-net-pol.html).
		c.NetworkPolicyConfig, err = corev1.NewConfigMap(ctx, name+"-network-policy", &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:      pulumi.String("amazon-vpc-cni"),
				Namespace: pulumi.String("kube-system"),
			},
			Data: pulumi.StringMap{"enable-network-policy-controller": pulumi.String("true")},
		}, k8s...)
		if err != nil {
			return nil, fmt.Errorf("eks classes %q: creating the network policy switch: %w", name, err)
		}
	}

	c.StorageClassName = sc.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"storageClassName": c.StorageClassName,
	}); err != nil {
		return nil, fmt.Errorf("eks classes %q: registering outputs: %w", name, err)
	}
	return c, nil
}

// newALBClass declares one IngressClassParams and its IngressClass.
func newALBClass(ctx *pulumi.Context, name string, alb ALBClass, tags map[string]string, k8s []pulumi.ResourceOption) (*networkingv1.IngressClass, error) {
	spec := pulumi.Map{"scheme": pulumi.String(alb.Scheme)}
	if len(tags) > 0 {
		// "tags: Custom tags for AWS resources"
		// (https://docs.aws.amazon.com/eks/latest/userguide/auto-configure-alb.html), as
		// {key, value} pairs, in key order so that the list does not churn.
		list := pulumi.Array{}
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			list = append(list, pulumi.Map{"key": pulumi.String(k), "value": pulumi.String(tags[k])})
		}
		spec["tags"] = list
	}
	if alb.GroupName != "" {
		spec["group"] = pulumi.Map{"name": pulumi.String(alb.GroupName)}
	}
	if len(alb.InboundCIDRs) > 0 {
		spec["inboundCIDRs"] = pulumi.ToStringArray(alb.InboundCIDRs)
	}
	if alb.CertificateArn != nil {
		spec["certificateARNs"] = pulumi.StringArray{alb.CertificateArn}
		spec["sslPolicy"] = pulumi.String(TLSPolicy)
	}
	attributes := pulumi.Array{
		// Headers whose names are not RFC 7230 tokens are dropped at the ALB instead of being
		// passed to gunicorn (request smuggling and header confusion).
		attribute("routing.http.drop_invalid_header_fields.enabled", pulumi.String("true")),
	}
	if alb.AccessLogsBucket != nil {
		attributes = append(attributes,
			attribute("access_logs.s3.enabled", pulumi.String("true")),
			attribute("access_logs.s3.bucket", alb.AccessLogsBucket),
			attribute("access_logs.s3.prefix", pulumi.String(AccessLogsPrefix)))
	}
	spec["loadBalancerAttributes"] = attributes

	params, err := apiextensions.NewCustomResource(ctx, name+"-"+alb.Name+"-params", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(ParamsAPIGroup + "/v1"),
		Kind:        pulumi.String("IngressClassParams"),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(alb.Name)},
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("creating IngressClassParams %s: %w", alb.Name, err)
	}
	annotations := pulumi.StringMap{}
	if alb.Default {
		annotations["ingressclass.kubernetes.io/is-default-class"] = pulumi.String("true")
	}
	ic, err := networkingv1.NewIngressClass(ctx, name+"-"+alb.Name, &networkingv1.IngressClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(alb.Name),
			Annotations: annotations,
		},
		Spec: &networkingv1.IngressClassSpecArgs{
			Controller: pulumi.String(ALBController),
			Parameters: &networkingv1.IngressClassParametersReferenceArgs{
				ApiGroup: pulumi.String(ParamsAPIGroup),
				Kind:     pulumi.String("IngressClassParams"),
				// Read from the params object, so the class waits for it.
				Name: params.Metadata.Name().Elem(),
			},
		},
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("creating IngressClass %s: %w", alb.Name, err)
	}
	return ic, nil
}

// storageParameters are the StorageClass's parameters: encrypted gp3 volumes with the given
// tags, one tagSpecification_N parameter per tag ("If a key has the prefix tagSpecification,
// the CSI driver will treat the value as a key-value pair to be applied to the dynamically
// provisioned volume as tags",
// https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/docs/tagging.md, which
// Auto Mode's block storage honours: "You can use StorageClass Tagging to add custom tags",
// https://docs.aws.amazon.com/eks/latest/userguide/create-storage-class.html). Numbered in key
// order, so the same tags give the same parameters.
func storageParameters(tags map[string]string) pulumi.StringMap {
	params := pulumi.StringMap{
		"type":      pulumi.String("gp3"),
		"encrypted": pulumi.String("true"),
	}
	for i, k := range slices.Sorted(maps.Keys(tags)) {
		params[fmt.Sprintf("tagSpecification_%d", i+1)] = pulumi.String(k + "=" + tags[k])
	}
	return params
}

func reclaimPolicy(retain bool) string {
	if retain {
		return "Retain"
	}
	return "Delete"
}

func attribute(key string, value pulumi.StringInput) pulumi.Map {
	return pulumi.Map{"key": pulumi.String(key), "value": value}
}

func (a *ClassesArgs) validate() error {
	switch {
	case a == nil || a.Provider == nil:
		return fmt.Errorf("an explicit Kubernetes provider is required")
	case a.StorageClassName == "":
		return fmt.Errorf("a StorageClass name is required")
	}
	if err := ValidateTags(a.Tags); err != nil {
		return err
	}
	return validateALBs(a.ALBs)
}

// validateALBs checks that ALB class names are distinct, schemes known and at most one default.
func validateALBs(albs []ALBClass) error {
	seen := map[string]bool{}
	defaults := 0
	for _, alb := range albs {
		switch {
		case alb.Name == "" || seen[alb.Name]:
			return fmt.Errorf("ALB class names must be set and distinct, got %q twice or empty", alb.Name)
		case alb.Scheme != "internet-facing" && alb.Scheme != "internal":
			return fmt.Errorf("ALB class %s: scheme %q: accepted internet-facing or internal", alb.Name, alb.Scheme)
		}
		seen[alb.Name] = true
		if alb.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return fmt.Errorf("at most one ALB class may be the default, got %d", defaults)
	}
	return nil
}
