// Package s3policy holds what every S3 bucket of the program shares, so that each rule is
// written once: its private configuration (Private) and the bucket-policy statements.
package s3policy

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Private declares, for bucket and each named name: S3 Block Public Access with all four
// settings on, ACLs disabled (BucketOwnerEnforced: the bucket owner owns every object and only
// policies grant access,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html), default
// encryption by sse, and the lifecycle rules. It returns the public access block, which a
// bucket policy should wait for (S3 evaluates a new policy against it), and all four resources
// in that order.
func Private(ctx *pulumi.Context, name string, bucket *s3.BucketV2, sse *s3.BucketServerSideEncryptionConfigurationV2RuleArgs,
	lifecycle s3.BucketLifecycleConfigurationV2RuleArray, opts ...pulumi.ResourceOption,
) (*s3.BucketPublicAccessBlock, []pulumi.Resource, error) {
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("blocking public access to bucket %s: %w", name, err)
	}
	own, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("enforcing the ownership of bucket %s: %w", name, err)
	}
	enc, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  s3.BucketServerSideEncryptionConfigurationV2RuleArray{sse},
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypting bucket %s: %w", name, err)
	}
	lc, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  lifecycle,
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("setting the lifecycle of bucket %s: %w", name, err)
	}
	return pab, []pulumi.Resource{pab, own, enc, lc}, nil
}

// TLSOnly is the statement that refuses every request to the bucket and its objects that does
// not arrive over TLS (aws:SecureTransport false), as AWS's S3 security best practices advise
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html). It
// grants nothing.
func TLSOnly(bucketArn string) map[string]any {
	return map[string]any{
		"Sid":       "TLSOnly",
		"Effect":    "Deny",
		"Principal": "*",
		"Action":    "s3:*",
		"Resource":  []string{bucketArn, bucketArn + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}
