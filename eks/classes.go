package eks

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
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

// ClassesArgs configures Classes.
type ClassesArgs struct {
	// Provider is the explicit Kubernetes provider of the target cluster.
	Provider *kubernetes.Provider
	// StorageClassName names the default gp3 StorageClass, e.g. "gp3".
	StorageClassName string
	// IngressClassName names the ALB IngressClass and its IngressClassParams, e.g. "alb".
	IngressClassName string
	// Scheme is the ALB scheme, internet-facing or internal.
	Scheme string
}

// Classes are the cluster-scoped objects an EKS Auto Mode cluster needs before workloads can
// ask for volumes and load balancers: a default encrypted gp3 StorageClass, and an ALB
// IngressClass with its IngressClassParams. It is its own component so that it can be
// deployed to any API server with the CRD for IngressClassParams (the integration test does).
type Classes struct {
	pulumi.ResourceState

	StorageClassName pulumi.StringOutput `pulumi:"storageClassName"`
	IngressClassName pulumi.StringOutput `pulumi:"ingressClassName"`

	// StorageClass and IngressClass are exposed for explicit dependencies: workloads that
	// create PVCs or Ingresses must wait for them, and must be deleted before them.
	StorageClass *storagev1.StorageClass
	IngressClass *networkingv1.IngressClass
}

// NewClasses declares the StorageClass, IngressClassParams and IngressClass.
func NewClasses(ctx *pulumi.Context, name string, args *ClassesArgs, opts ...pulumi.ResourceOption) (*Classes, error) {
	if args == nil || args.Provider == nil {
		return nil, fmt.Errorf("eks classes %q: an explicit Kubernetes provider is required", name)
	}
	if args.StorageClassName == "" || args.IngressClassName == "" {
		return nil, fmt.Errorf("eks classes %q: storage and ingress class names are required", name)
	}
	if args.Scheme != "internet-facing" && args.Scheme != "internal" {
		return nil, fmt.Errorf("eks classes %q: scheme %q: accepted internet-facing or internal", name, args.Scheme)
	}

	c := &Classes{}
	if err := ctx.RegisterComponentResource("flask-eks:eks:Classes", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering eks classes %q: %w", name, err)
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(args.Provider)}

	sc, err := storagev1.NewStorageClass(ctx, name+"-"+args.StorageClassName, &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(args.StorageClassName),
			Annotations: pulumi.StringMap{
				// PVCs without a class (Prometheus, Grafana, Alertmanager) get this one.
				"storageclass.kubernetes.io/is-default-class": pulumi.String("true"),
			},
		},
		Provisioner: pulumi.String(EBSProvisioner),
		Parameters: pulumi.StringMap{
			"type":      pulumi.String("gp3"),
			"encrypted": pulumi.String("true"),
		},
		// Bind where the pod lands: EBS volumes are zonal, and binding early could pin a pod
		// to a zone with no capacity.
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		AllowVolumeExpansion: pulumi.Bool(true),
		ReclaimPolicy:        pulumi.String("Delete"),
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("eks classes %q: creating StorageClass: %w", name, err)
	}

	params, err := apiextensions.NewCustomResource(ctx, name+"-"+args.IngressClassName+"-params", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(ParamsAPIGroup + "/v1"),
		Kind:       pulumi.String("IngressClassParams"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(args.IngressClassName)},
		OtherFields: kubernetes.UntypedArgs{
			"spec": pulumi.Map{"scheme": pulumi.String(args.Scheme)},
		},
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("eks classes %q: creating IngressClassParams: %w", name, err)
	}

	ic, err := networkingv1.NewIngressClass(ctx, name+"-"+args.IngressClassName, &networkingv1.IngressClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(args.IngressClassName),
			Annotations: pulumi.StringMap{
				"ingressclass.kubernetes.io/is-default-class": pulumi.String("true"),
			},
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
		return nil, fmt.Errorf("eks classes %q: creating IngressClass: %w", name, err)
	}

	c.StorageClass, c.IngressClass = sc, ic
	c.StorageClassName = sc.Metadata.Name().Elem()
	c.IngressClassName = ic.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"storageClassName": c.StorageClassName,
		"ingressClassName": c.IngressClassName,
	}); err != nil {
		return nil, fmt.Errorf("eks classes %q: registering outputs: %w", name, err)
	}
	return c, nil
}
