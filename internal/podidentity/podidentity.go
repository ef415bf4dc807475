// Package podidentity gives one Kubernetes ServiceAccount AWS credentials through EKS Pod
// Identity: an IAM role that only that ServiceAccount of that cluster may assume, its
// permissions, and the association. The app, ExternalDNS, External Secrets and Loki all get
// their AWS access this way.
package podidentity

import (
	"encoding/json"
	"fmt"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args names the ServiceAccount and what it may do.
type Args struct {
	// ClusterName, Namespace and ServiceAccount identify the pods: the role's trust policy
	// and the association both name them.
	ClusterName    pulumi.StringInput
	Namespace      string
	ServiceAccount string
	// PolicyArns are managed policies to attach.
	PolicyArns []string
	// Policy is an inline policy document (JSON), for permissions scoped to this stack's own
	// resources; nil for none.
	Policy pulumi.StringInput
	// Description says whose role it is.
	Description string
}

// Role is the role and its association. Pods that must start with credentials depend on
// Association: EKS injects them only into pods created after it exists.
type Role struct {
	Role        *iam.Role
	Association *awseks.PodIdentityAssociation

	name string
	args Args
	opts []pulumi.ResourceOption
}

// TrustPolicy is the role's trust policy: the EKS Pod Identity service may assume the role and
// tag the session, but only for the given cluster, namespace and ServiceAccount. EKS sets those
// three as session tags on every request, so the conditions hold whichever association points
// at the role (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html and
// pod-id-abac.html: aws:RequestTag/kubernetes-namespace, kubernetes-service-account,
// eks-cluster-name).
func TrustPolicy(clusterName pulumi.StringInput, namespace, serviceAccount string) pulumi.StringOutput {
	return clusterName.ToStringOutput().ApplyT(func(cluster string) (string, error) {
		doc := map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Sid":       "AllowEksAuthToAssumeRoleForPodIdentity",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "pods.eks.amazonaws.com"},
				"Action":    []string{"sts:AssumeRole", "sts:TagSession"},
				"Condition": map[string]any{"StringEquals": map[string]any{
					"aws:RequestTag/eks-cluster-name":           cluster,
					"aws:RequestTag/kubernetes-namespace":       namespace,
					"aws:RequestTag/kubernetes-service-account": serviceAccount,
				}},
			}},
		}
		b, err := json.Marshal(doc)
		return string(b), err
	}).(pulumi.StringOutput)
}

// New declares the role, its policies and the association, as children of parent.
func New(ctx *pulumi.Context, name string, parent pulumi.Resource, args Args) (*Role, error) {
	if len(args.PolicyArns) == 0 && args.Policy == nil {
		return nil, fmt.Errorf("pod identity %q: a policy ARN or an inline policy is required", name)
	}
	r, err := NewRole(ctx, name, parent, args)
	if err != nil {
		return nil, err
	}
	if err := r.Associate(ctx, args.Policy); err != nil {
		return nil, err
	}
	return r, nil
}

// NewRole declares the role and attaches args.PolicyArns, as children of parent, but neither
// the inline policy nor the association: Associate adds them. The two steps are for a role
// that a resource must name before the role's own policy can be written, such as a KMS key
// whose key policy grants the role, and whose ARN the role's policy names in turn.
func NewRole(ctx *pulumi.Context, name string, parent pulumi.Resource, args Args) (*Role, error) {
	if args.ClusterName == nil || args.Namespace == "" || args.ServiceAccount == "" {
		return nil, fmt.Errorf("pod identity %q: cluster, namespace and service account are required", name)
	}
	opts := []pulumi.ResourceOption{pulumi.Parent(parent)}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: TrustPolicy(args.ClusterName, args.Namespace, args.ServiceAccount),
		Description:      pulumi.String(args.Description),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("pod identity %q: creating role: %w", name, err)
	}
	for i, arn := range args.PolicyArns {
		if _, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(arn),
		}, opts...); err != nil {
			return nil, fmt.Errorf("pod identity %q: attaching %s: %w", name, arn, err)
		}
	}
	return &Role{Role: role, name: name, args: args, opts: opts}, nil
}

// Associate declares the role's inline policy (nil for none) and, after it, the association.
// It may be called once.
func (r *Role) Associate(ctx *pulumi.Context, policy pulumi.StringInput) error {
	switch {
	case r.Association != nil:
		return fmt.Errorf("pod identity %q: already associated", r.name)
	case len(r.args.PolicyArns) == 0 && policy == nil:
		return fmt.Errorf("pod identity %q: a policy ARN or an inline policy is required", r.name)
	}
	deps := []pulumi.Resource{}
	if policy != nil {
		p, err := iam.NewRolePolicy(ctx, r.name, &iam.RolePolicyArgs{
			Role:   r.Role.Name,
			Policy: policy,
		}, r.opts...)
		if err != nil {
			return fmt.Errorf("pod identity %q: creating inline policy: %w", r.name, err)
		}
		deps = append(deps, p)
	}
	association, err := awseks.NewPodIdentityAssociation(ctx, r.name, &awseks.PodIdentityAssociationArgs{
		ClusterName:    r.args.ClusterName,
		Namespace:      pulumi.String(r.args.Namespace),
		ServiceAccount: pulumi.String(r.args.ServiceAccount),
		RoleArn:        r.Role.Arn,
	}, append(r.opts, pulumi.DependsOn(deps))...)
	if err != nil {
		return fmt.Errorf("pod identity %q: creating association: %w", r.name, err)
	}
	r.Association = association
	return nil
}
