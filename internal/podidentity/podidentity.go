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
	if args.ClusterName == nil || args.Namespace == "" || args.ServiceAccount == "" {
		return nil, fmt.Errorf("pod identity %q: cluster, namespace and service account are required", name)
	}
	if len(args.PolicyArns) == 0 && args.Policy == nil {
		return nil, fmt.Errorf("pod identity %q: a policy ARN or an inline policy is required", name)
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
	deps := []pulumi.Resource{}
	if args.Policy != nil {
		p, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
			Role:   role.Name,
			Policy: args.Policy,
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("pod identity %q: creating inline policy: %w", name, err)
		}
		deps = append(deps, p)
	}
	association, err := awseks.NewPodIdentityAssociation(ctx, name, &awseks.PodIdentityAssociationArgs{
		ClusterName:    args.ClusterName,
		Namespace:      pulumi.String(args.Namespace),
		ServiceAccount: pulumi.String(args.ServiceAccount),
		RoleArn:        role.Arn,
	}, append(opts, pulumi.DependsOn(deps))...)
	if err != nil {
		return nil, fmt.Errorf("pod identity %q: creating association: %w", name, err)
	}
	return &Role{Role: role, Association: association}, nil
}
