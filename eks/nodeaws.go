package eks

import (
	"encoding/json"
	"fmt"
	"strings"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The AWS side of node control: what the NodeClass's nodes need outside the cluster.
const (
	// AutoNodePolicyArn is the access policy of an Auto Mode node role's EC2 access entry
	// (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html#auto-node-access-entry).
	AutoNodePolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"
	// NodeAccessEntryType is that entry's type: "When creating access entries for EKS Auto
	// Mode node classes, you need to use the EC2 access entry type."
	NodeAccessEntryType = "EC2"
)

// NodeRolePolicyArns are the managed policies of an Auto Mode node role, as AWS suggests
// (https://docs.aws.amazon.com/eks/latest/userguide/auto-learn-iam.html#auto-learn-node-iam-role)
// and pulumi-eks v3.9.1 attaches to the role it creates for the built-in pools.
var NodeRolePolicyArns = []string{
	"arn:aws:iam::aws:policy/AmazonEKSWorkerNodeMinimalPolicy",
	"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
}

// KMS key deletion windows (days): short where nothing is kept, the maximum where it is.
const (
	keyDeletionWindow          = 7
	protectedKeyDeletionWindow = 30
)

// nodeAWSArgs shapes the AWS side of node control.
type nodeAWSArgs struct {
	// ClusterName is the EKS cluster's name as an output that depends on it; Cluster is the
	// pulumi-eks component, which the cluster role lookup waits for.
	ClusterName pulumi.StringOutput
	Cluster     pulumi.Resource
	// Name is the cluster's name as plain text, for what needs no cluster to exist (the node
	// role, which is then created beside the cluster instead of after it).
	Name string
	// ClusterReady is an output that is known only once EKS has created the cluster, so the
	// lookup of its role is not attempted in the preview that creates it.
	ClusterReady pulumi.StringOutput
	// OwnNodeRole creates the node role and its EC2 access entry. Without the built-in pools
	// EKS creates neither ("EKS automatically creates access entries when you use the
	// built-in node class and node pools").
	OwnNodeRole bool
	// KeyAlias names the root volume key; Protect keeps it from a plain destroy.
	KeyAlias string
	Protect  bool
}

// nodeAWS is what the NodeClass needs from AWS.
type nodeAWS struct {
	// RoleName is the node role created here (when OwnNodeRole), else nil.
	RoleName pulumi.StringOutput
	// AccessEntry is the node role's access policy association (when OwnNodeRole): nodes can
	// join only once it exists.
	AccessEntry pulumi.Resource
	// KeyArn encrypts the nodes' root volumes.
	KeyArn pulumi.StringOutput
	// TagPolicy lets the cluster role tag what Auto Mode creates.
	TagPolicy *iam.RolePolicy
}

// newNodeAWS declares the root volume key, the cluster role's tagging permissions, and, when
// asked, the node role with its access entry.
func newNodeAWS(ctx *pulumi.Context, name string, parent pulumi.Resource, args nodeAWSArgs) (*nodeAWS, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent)}
	out := &nodeAWS{}

	// pulumi-eks creates the cluster role and does not return it; EKS does. Looked up once
	// the cluster exists (an unknown name skips the invoke in preview).
	role := awseks.LookupClusterOutput(ctx, awseks.LookupClusterOutputArgs{
		Name: pulumi.All(args.ClusterName, args.ClusterReady).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput),
	}, pulumi.Parent(parent), pulumi.DependsOn([]pulumi.Resource{args.Cluster})).RoleArn()
	roleName := role.ApplyT(roleNameOf).(pulumi.StringOutput)

	// Tags the stack puts in the NodeClass, StorageClass and IngressClassParams are applied by
	// the cluster role, whose managed policies "do not permit applying user defined tags".
	var err error
	out.TagPolicy, err = iam.NewRolePolicy(ctx, name+"-tag-propagation", &iam.RolePolicyArgs{
		Role:   roleName,
		Policy: pulumi.String(TagPropagationPolicy),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the cluster role's tagging policy: %w", err)
	}

	window := keyDeletionWindow
	if args.Protect {
		window = protectedKeyDeletionWindow
	}
	key, err := kms.NewKey(ctx, name+"-node-volumes", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the root volumes of the EKS Auto Mode nodes of %s", args.ClusterName),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(window),
		Policy:               role.ApplyT(nodeVolumeKeyPolicy).(pulumi.StringOutput),
	}, append(opts, pulumi.Protect(args.Protect))...)
	if err != nil {
		return nil, fmt.Errorf("creating the node volume key: %w", err)
	}
	if _, err := kms.NewAlias(ctx, name+"-node-volumes", &kms.AliasArgs{
		Name:        pulumi.String(args.KeyAlias),
		TargetKeyId: key.KeyId,
	}, opts...); err != nil {
		return nil, fmt.Errorf("creating the node volume key's alias: %w", err)
	}
	out.KeyArn = key.Arn

	if !args.OwnNodeRole {
		return out, nil
	}
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "ec2.amazonaws.com"},
			"Action":    "sts:AssumeRole",
		}},
	})
	if err != nil {
		return nil, err
	}
	nodeRole, err := iam.NewRole(ctx, name+"-node", &iam.RoleArgs{
		Description:      pulumi.String("EKS Auto Mode nodes of " + args.Name + " (the NodeClass's role)"),
		AssumeRolePolicy: pulumi.String(string(trust)),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the node role: %w", err)
	}
	var attachments []pulumi.Resource
	for _, arn := range NodeRolePolicyArns {
		a, err := iam.NewRolePolicyAttachment(ctx, name+"-node-"+arn[strings.LastIndex(arn, "/")+1:], &iam.RolePolicyAttachmentArgs{
			Role:      nodeRole.Name,
			PolicyArn: pulumi.String(arn),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("attaching %s to the node role: %w", arn, err)
		}
		attachments = append(attachments, a)
	}
	entry, err := awseks.NewAccessEntry(ctx, name+"-node", &awseks.AccessEntryArgs{
		ClusterName:  args.ClusterName,
		PrincipalArn: nodeRole.Arn,
		Type:         pulumi.String(NodeAccessEntryType),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the node role's access entry: %w", err)
	}
	assoc, err := awseks.NewAccessPolicyAssociation(ctx, name+"-node", &awseks.AccessPolicyAssociationArgs{
		ClusterName:  args.ClusterName,
		PrincipalArn: entry.PrincipalArn,
		PolicyArn:    pulumi.String(AutoNodePolicyArn),
		AccessScope:  awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
	}, append(opts, pulumi.DependsOn(attachments))...)
	if err != nil {
		return nil, fmt.Errorf("associating the node access policy: %w", err)
	}
	out.RoleName, out.AccessEntry = nodeRole.Name, assoc
	return out, nil
}

// roleNameOf is the name of a role from its ARN ("arn:aws:iam::123456789012:role/path/name").
func roleNameOf(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// nodeVolumeKeyPolicy is the key policy of the nodes' root volume key: the account administers
// it through IAM (KMS's default statement), and the cluster role may use it and create grants
// for AWS resources, as "Enable EBS Volume Encryption with Customer Managed KMS Keys for EKS
// Auto Mode" requires (https://docs.aws.amazon.com/eks/latest/userguide/auto-kms.html).
func nodeVolumeKeyPolicy(clusterRoleArn string) (string, error) {
	parts := strings.SplitN(clusterRoleArn, ":", 6)
	if len(parts) != 6 {
		return "", fmt.Errorf("cluster role ARN %q is not an ARN", clusterRoleArn)
	}
	root := "arn:" + parts[1] + ":iam::" + parts[4] + ":root"
	doc, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid":       "AccountAdministersTheKey",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": root},
				"Action":    "kms:*",
				"Resource":  "*",
			},
			{
				"Sid":       "AllowUseOfTheKey",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": clusterRoleArn},
				"Action":    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
				"Resource":  "*",
			},
			{
				"Sid":       "AllowAttachmentOfPersistentResources",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": clusterRoleArn},
				"Action":    []string{"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"},
				"Resource":  "*",
				"Condition": map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}},
			},
		},
	})
	return string(doc), err
}

// TagPropagationPolicy lets the cluster role create what Auto Mode creates with the tags the
// stack asks for: instances and launch templates (NodeClass tags), volumes and snapshots
// (NodeClass and StorageClass tags), network interfaces, and load balancers with their target
// groups, listeners, rules and security groups (IngressClassParams tags). It is AWS's policy
// from "Custom AWS tags for EKS Auto resources"
// (https://docs.aws.amazon.com/eks/latest/userguide/auto-cluster-iam-role.html#tag-prop),
// scoped as there to requests that carry this cluster's eks:eks-cluster-name tag (the cluster
// role's session tag, for which its trust policy allows sts:TagSession), without the Shield
// statements: no IngressClassParams of this program asks for Shield Advanced.
const TagPropagationPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Compute",
      "Effect": "Allow",
      "Action": ["ec2:CreateFleet", "ec2:RunInstances", "ec2:CreateLaunchTemplate"],
      "Resource": "*",
      "Condition": {
        "StringEquals": {"aws:RequestTag/eks:eks-cluster-name": "${aws:PrincipalTag/eks:eks-cluster-name}"},
        "StringLike": {"aws:RequestTag/eks:kubernetes-node-class-name": "*", "aws:RequestTag/eks:kubernetes-node-pool-name": "*"}
      }
    },
    {
      "Sid": "Storage",
      "Effect": "Allow",
      "Action": ["ec2:CreateVolume", "ec2:CreateSnapshot"],
      "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:snapshot/*"],
      "Condition": {
        "StringEquals": {"aws:RequestTag/eks:eks-cluster-name": "${aws:PrincipalTag/eks:eks-cluster-name}"}
      }
    },
    {
      "Sid": "Networking",
      "Effect": "Allow",
      "Action": "ec2:CreateNetworkInterface",
      "Resource": "*",
      "Condition": {
        "StringEquals": {"aws:RequestTag/eks:eks-cluster-name": "${aws:PrincipalTag/eks:eks-cluster-name}"},
        "StringLike": {"aws:RequestTag/eks:kubernetes-cni-node-name": "*"}
      }
    },
    {
      "Sid": "LoadBalancer",
      "Effect": "Allow",
      "Action": [
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:CreateRule",
        "ec2:CreateSecurityGroup"
      ],
      "Resource": "*",
      "Condition": {
        "StringEquals": {"aws:RequestTag/eks:eks-cluster-name": "${aws:PrincipalTag/eks:eks-cluster-name}"}
      }
    }
  ]
}`
