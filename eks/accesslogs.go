package eks

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/s3policy"
)

// AccessLogsPrefix is where every ALB of a cluster writes its access logs in the bucket.
const AccessLogsPrefix = "alb"

// elbLogAccounts are the Elastic Load Balancing accounts that deliver access logs in the regions
// that existed before August 2022. Newer regions deliver as the service principal
// logdelivery.elasticloadbalancing.amazonaws.com instead
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
var elbLogAccounts = map[string]string{
	"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
	"us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
	"ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
	"ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
	"ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
	"eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
	"eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
	"sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
}

// accessLogsArgs shapes the access log bucket.
type accessLogsArgs struct {
	Region        string
	RetentionDays int
	// ForceDestroy lets destroy delete a bucket that still holds logs (not in prod).
	ForceDestroy bool
}

// newAccessLogsBucket declares the S3 bucket the ALBs write their access logs to: private,
// owner-enforced, encrypted with S3-managed keys (ALB log delivery supports no other
// encryption), expiring logs after RetentionDays, and writable only by the load balancer log
// delivery for this account's logs under AccessLogsPrefix.
func newAccessLogsBucket(ctx *pulumi.Context, name string, parent pulumi.Resource, args accessLogsArgs) (*s3.BucketV2, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent)}
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{ForceDestroy: pulumi.Bool(args.ForceDestroy)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the access log bucket: %w", err)
	}
	sseS3 := &s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
		ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("AES256"), // SSE-S3: "the only server-side encryption option that's supported"
		},
	}
	expire := s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:         pulumi.String("expire-access-logs"),
		Status:     pulumi.String("Enabled"),
		Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(AccessLogsPrefix + "/")},
		Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.RetentionDays)},
	}}
	if _, _, err := s3policy.Private(ctx, name, bucket, sseS3, expire, opts...); err != nil {
		return nil, fmt.Errorf("the access log bucket: %w", err)
	}
	account, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("looking up the account: %w", err)
	}
	policy := bucket.Arn.ApplyT(func(arn string) (string, error) {
		return accessLogsPolicy(arn, args.Region, account.AccountId)
	}).(pulumi.StringOutput)
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy}, opts...); err != nil {
		return nil, fmt.Errorf("letting the ALBs write access logs: %w", err)
	}
	return bucket, nil
}

// accessLogsPolicy lets the region's load balancer log delivery put objects, only under this
// account's log prefix, and refuses any access that is not over TLS.
func accessLogsPolicy(bucketArn, region, account string) (string, error) {
	principal := map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
	if elb, ok := elbLogAccounts[region]; ok {
		principal = map[string]any{"AWS": "arn:aws:iam::" + elb + ":root"}
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":       "ALBAccessLogDelivery",
				"Effect":    "Allow",
				"Principal": principal,
				"Action":    "s3:PutObject",
				"Resource":  fmt.Sprintf("%s/%s/AWSLogs/%s/*", bucketArn, AccessLogsPrefix, account),
			},
			s3policy.TLSOnly(bucketArn),
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
