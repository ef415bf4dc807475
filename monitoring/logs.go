package monitoring

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/podidentity"
	"github.com/example/flask-eks/internal/s3policy"
)

// LogsSettings turn on the logs half of the stack: Loki storing in an S3 bucket of this stack,
// Alloy shipping every pod's stdout to it, Loki as a Grafana data source, the dashboard's log
// panels and the error-log alert. Zero is off.
type LogsSettings struct {
	Enabled bool
	// ClusterName is the EKS cluster, for Loki's Pod Identity role and association.
	ClusterName pulumi.StringInput
	// Region is the bucket's region (Loki's S3 client is told it rather than left to guess).
	Region string
	// NamePrefix starts the bucket's name ("<prefix>-loki-" and a random suffix; S3 names are
	// global), e.g. "flask-eks-prod": lowercase letters, digits and '-', at most 31 characters.
	// "" lets Pulumi name it after the resource.
	NamePrefix string
	// RetentionDays is how long logs are kept, in Loki (compactor retention) and, one day
	// later, by the bucket's lifecycle rule as a backstop (see lokiLifecycle).
	RetentionDays int
	// StorageSize is Loki's volume (write-ahead log, TSDB head, compactor scratch): not the
	// logs themselves, which go to S3. "10Gi" is plenty for one small app.
	StorageSize string
	// KMSKeyArn encrypts the bucket with that customer managed key (SSE-KMS, with an S3 Bucket
	// Key); nil uses SSE-S3. Loki's role is then allowed to use the key.
	KMSKeyArn pulumi.StringInput
	// ForceDestroy lets `pulumi destroy` delete a bucket that still holds logs (dev only);
	// Protect refuses to delete the bucket at all (prod).
	ForceDestroy bool
	Protect      bool
}

// The charts, each pinned to a published release.
//
// Loki: the community chart, https://grafana-community.github.io/helm-charts, chart loki 18.11.0
// (git tag loki-18.11.0 of github.com/grafana-community/helm-charts, 2026-08-20; appVersion
// 3.7.6, image docker.io/grafana/loki:3.7.6). Since 2026-03-16 the OSS chart lives there; the
// "loki" chart at grafana.github.io is the Enterprise Logs one (grafana/loki
// production/helm/loki/CHANGELOG.md, 7.0.0). No template of it is a Helm hook with these
// values: the test hook is off (test.enabled false) and the opt-in statefulSetRecreateJob too;
// so it is a Chart v4.
//
// Alloy: https://grafana.github.io/helm-charts, chart alloy 1.11.1 (git tag helm-chart/1.11.1 of
// github.com/grafana/alloy, released as alloy-1.11.1 in grafana/helm-charts, 2026-08-06;
// appVersion v1.18.1). No template carries a Helm hook; its crds subchart (the PodLogs CRD,
// unused here) is off. A Chart v4.
//
// Every key of lokiValues and alloyValues was checked in the chart's values.yaml and templates
// at those tags (see logvalues.go), and the two value sets were rendered with `helm template`.
// No module the Go module proxy serves holds either chart, so TestChartValuesExist checks the
// keys against lists in chartvalues_test.go, each key with its line at the tag.
var (
	LokiChart  = charts.Chart{Name: "loki", Repo: "https://grafana-community.github.io/helm-charts", Version: "18.11.0"}
	AlloyChart = charts.Chart{Name: "alloy", Repo: "https://grafana.github.io/helm-charts", Version: "1.11.1", SkipCRDs: true}
)

// Names and ports the logs half fixes, so that policies, the data source and the Pod Identity
// association can name them. addon.Install names each release after its chart, and both charts
// name their objects after the release: Loki's Service is "loki", Alloy's DaemonSet "alloy".
const (
	// LokiServiceAccount is the ServiceAccount Loki runs as (serviceAccount.name), the one
	// the Pod Identity association names.
	LokiServiceAccount = "loki"
	// LokiDataSourceUID is the uid of Grafana's Loki data source; the dashboard names it.
	LokiDataSourceUID  = "loki"
	lokiDataSourceType = "loki"
	// LokiRulesConfigMap holds the ruler's rule file, mounted into Loki.
	LokiRulesConfigMap = "loki-rules"

	lokiHTTPPort       = 3100 // push, query and ruler API; metrics
	lokiGRPCPort       = 9095 // Loki to itself: querier to ingester, compactor client
	lokiMemberlistPort = 7946 // the ring's gossip, Loki to itself
	alertmanagerPort   = 9093

	// lokiTenant is the tenant of a single-tenant Loki (auth_enabled false): chunks live
	// under "fake/" in the bucket, and the ruler reads rules from <rules dir>/fake/.
	lokiTenant   = "fake"
	lokiRulesDir = "/etc/loki/rules"
)

// LokiURL is Loki's in-cluster address in namespace ns: the single binary's Service.
func LokiURL(ns string) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", LokiChart.Name, ns, lokiHTTPPort)
}

// alertmanagerURL is the kube-prometheus-stack's Alertmanager Service,
// "<kube-prometheus-stack.fullname>-alertmanager" on 9093 (templates/alertmanager/service.yaml at
// kube-prometheus-stack-88.5.3; fullname is the release name, which contains the chart name).
func alertmanagerURL(ns string) string {
	return fmt.Sprintf("http://%s-alertmanager.%s.svc:%d", ReleaseName, ns, alertmanagerPort)
}

var bucketPrefixPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

func (s LogsSettings) validate() error {
	if !s.Enabled {
		return nil
	}
	switch {
	case s.ClusterName == nil || s.Region == "":
		return fmt.Errorf("logs need the cluster's name and region (Loki's Pod Identity and S3 client)")
	case s.RetentionDays < 1 || s.RetentionDays > 3650:
		return fmt.Errorf("log retention of %d days: accepted 1 to 3650", s.RetentionDays)
	case s.StorageSize == "":
		return fmt.Errorf("logs need Loki's volume size")
	case s.NamePrefix != "" && !bucketPrefixPattern.MatchString(s.NamePrefix):
		// bucketPrefix is at most 37 characters; "-loki-" takes 6.
		return fmt.Errorf("log bucket prefix %q: lowercase letters, digits and '-', at most 31 characters", s.NamePrefix)
	case s.ForceDestroy && s.Protect:
		return fmt.Errorf("a protected log bucket cannot also be force-destroyed")
	}
	return nil
}

// LogsArgs configures NewLogs; NewMonitoring fills it from MonitoringArgs.
type LogsArgs struct {
	Settings LogsSettings
	Provider *kubernetes.Provider
	// Namespace is the monitoring namespace: Loki and Alloy run there, next to Grafana and
	// Alertmanager, behind its default-deny network policies (netpol.go).
	Namespace *corev1.Namespace
	// NamespaceName is Namespace's name, known while planning.
	NamespaceName string
	// StorageClassName is the class of Loki's volume ("" for the cluster's default).
	StorageClassName string
	// DependsOn are what the charts wait for without data flowing (the StorageClass).
	DependsOn []pulumi.Resource
	// Rules are the app's assets, for the ruler's rule file.
	Rules assetParams
	// Placement is where Loki runs; EveryNode lets Alloy, a DaemonSet, run on every node.
	Placement kube.Placement
	EveryNode kube.Placement
}

// Logs is the logs half of the monitoring stack.
type Logs struct {
	pulumi.ResourceState

	// Loki and Alloy are the two Chart v4 installs; Loki serves the Grafana data source.
	Loki  *helmv4.Chart
	Alloy *helmv4.Chart

	// BucketName and BucketArn are Loki's S3 bucket; RoleArn is its Pod Identity role.
	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	BucketArn  pulumi.StringOutput `pulumi:"bucketArn"`
	RoleArn    pulumi.StringOutput `pulumi:"roleArn"`
}

// NewLogs creates Loki's S3 bucket (private, encrypted, TLS only, expiring), the IAM role only
// Loki's ServiceAccount may assume through EKS Pod Identity (objects of that bucket only), the
// ruler's rule file, Loki in monolithic mode and Alloy as a DaemonSet.
//
// Monolithic (the single binary), not simple-scalable: the Loki docs size monolithic mode for
// "small read/write volumes of up to approximately 20GB per day" (get-started/deployment-modes.md
// at v3.7.6), far above what one small app writes, and it is one StatefulSet with one volume
// instead of three tiers of pods; S3 holds the logs either way. Simple-scalable is also
// deprecated and gone in Loki 4.0 (same page).
func NewLogs(ctx *pulumi.Context, name string, args *LogsArgs, opts ...pulumi.ResourceOption) (*Logs, error) {
	if args == nil || args.Provider == nil || args.Namespace == nil || args.NamespaceName == "" || !args.Settings.Enabled {
		return nil, fmt.Errorf("logs %q: a provider, the namespace and enabled settings are required", name)
	}
	if err := args.Settings.validate(); err != nil {
		return nil, fmt.Errorf("logs %q: %w", name, err)
	}
	l := &Logs{}
	if err := ctx.RegisterComponentResource("flask-eks:monitoring:Logs", name, l, opts...); err != nil {
		return nil, fmt.Errorf("logs %q: registering component: %w", name, err)
	}
	s := args.Settings

	bucket, bucketDeps, err := newLokiBucket(ctx, name, l, s)
	if err != nil {
		return nil, fmt.Errorf("logs %q: %w", name, err)
	}
	l.BucketName, l.BucketArn = bucket.Bucket, bucket.Arn

	identity, err := podidentity.New(ctx, name+"-loki", l, podidentity.Args{
		ClusterName:    s.ClusterName,
		Namespace:      args.NamespaceName,
		ServiceAccount: LokiServiceAccount,
		Policy:         lokiAccessPolicy(bucket.Arn, s.KMSKeyArn),
		Description:    "Loki: objects of its log bucket",
	})
	if err != nil {
		return nil, fmt.Errorf("logs %q: %w", name, err)
	}
	l.RoleArn = identity.Role.Arn

	k8s := []pulumi.ResourceOption{pulumi.Parent(l), pulumi.Provider(args.Provider)}
	rules, err := renderLogRules(args.Rules)
	if err != nil {
		return nil, fmt.Errorf("logs %q: %w", name, err)
	}
	rulesCM, err := corev1.NewConfigMap(ctx, name+"-loki-rules", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(LokiRulesConfigMap),
			Namespace: args.Namespace.Metadata.Name(),
			Labels:    commonLabels(),
		},
		// One file per rule namespace; the ruler reads every file of the tenant's directory.
		Data: pulumi.StringMap{args.Rules.AppName + ".yaml": pulumi.String(rules)},
	}, k8s...)
	if err != nil {
		return nil, fmt.Errorf("logs %q: creating the Loki rules ConfigMap: %w", name, err)
	}

	// The bucket's name is an output, known once the bucket exists: it goes into the values as
	// one (lokiStorageValues), the rest as plain values.
	lokiVals, err := toMap(buildLokiValues(lokiValuesInput{
		Region: s.Region, RetentionDays: s.RetentionDays,
		StorageClass: args.StorageClassName, StorageSize: s.StorageSize, Namespace: args.NamespaceName,
		Placement: args.Placement,
	}))
	if err != nil {
		return nil, fmt.Errorf("logs %q: encoding Loki's values: %w", name, err)
	}
	lokiMap := pulumi.ToMap(lokiVals)
	lokiMap["loki"] = lokiStorageValues(lokiVals, bucket.Bucket)

	// Loki waits for its credentials (EKS injects them only into pods created after the
	// association exists), its rule file (a missing ConfigMap volume holds the pod in
	// ContainerCreating), a finished bucket, and the StorageClass.
	lokiDeps := append([]pulumi.Resource{identity.Association, rulesCM}, bucketDeps...)
	lokiDeps = append(lokiDeps, args.DependsOn...)
	l.Loki, err = charts.Install(ctx, name+"-loki", LokiChart, args.Namespace, lokiMap, args.Provider,
		pulumi.Parent(l), pulumi.DependsOn(lokiDeps))
	if err != nil {
		return nil, fmt.Errorf("logs %q: %w", name, err)
	}

	alloyVals, err := buildAlloyValues(LokiURL(args.NamespaceName)+"/loki/api/v1/push", args.EveryNode)
	if err != nil {
		return nil, fmt.Errorf("logs %q: %w", name, err)
	}
	alloyMap, err := toMap(alloyVals)
	if err != nil {
		return nil, fmt.Errorf("logs %q: encoding Alloy's values: %w", name, err)
	}
	// Alloy waits for Loki so that its first pushes find it (it would retry, but its first
	// minutes of logs would sit in memory).
	l.Alloy, err = charts.Install(ctx, name+"-alloy", AlloyChart, args.Namespace, pulumi.ToMap(alloyMap), args.Provider,
		pulumi.Parent(l), pulumi.DependsOn(append([]pulumi.Resource{l.Loki}, args.DependsOn...)))
	if err != nil {
		return nil, fmt.Errorf("logs %q: %w", name, err)
	}

	if err := ctx.RegisterResourceOutputs(l, pulumi.Map{
		"bucketName": l.BucketName,
		"bucketArn":  l.BucketArn,
		"roleArn":    l.RoleArn,
	}); err != nil {
		return nil, fmt.Errorf("logs %q: registering outputs: %w", name, err)
	}
	return l, nil
}

// lokiStorageValues is the "loki" value with loki.storage.bucketNames.chunks set to the bucket's
// name, an output known only once the bucket exists.
func lokiStorageValues(vals map[string]any, bucket pulumi.StringOutput) pulumi.Map {
	loki := pulumi.ToMap(vals["loki"].(map[string]any))
	storage := pulumi.ToMap(vals["loki"].(map[string]any)["storage"].(map[string]any))
	storage["bucketNames"] = pulumi.Map{"chunks": bucket}
	loki["storage"] = storage
	return loki
}

// newLokiBucket declares Loki's bucket: S3 Block Public Access on, ACLs off
// (BucketOwnerEnforced), default encryption SSE-S3 or SSE-KMS, a policy refusing any request not
// over TLS, and the lifecycle rules. It returns the bucket and its configuration resources,
// which Loki waits for.
func newLokiBucket(ctx *pulumi.Context, name string, parent pulumi.Resource, s LogsSettings) (*s3.BucketV2, []pulumi.Resource, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent)}
	bucketArgs := &s3.BucketV2Args{ForceDestroy: pulumi.Bool(s.ForceDestroy)}
	if s.NamePrefix != "" {
		bucketArgs.BucketPrefix = pulumi.String(s.NamePrefix + "-loki-")
	}
	bucket, err := s3.NewBucketV2(ctx, name+"-bucket", bucketArgs, append(opts, pulumi.Protect(s.Protect))...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the log bucket: %w", err)
	}
	sse := &s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
		ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("AES256"),
		},
	}
	if s.KMSKeyArn != nil {
		// An S3 Bucket Key cuts the KMS requests (and their cost) of Loki's many small objects
		// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
		sse.ApplyServerSideEncryptionByDefault = &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm:   pulumi.String("aws:kms"),
			KmsMasterKeyId: s.KMSKeyArn,
		}
		sse.BucketKeyEnabled = pulumi.Bool(true)
	}
	pab, deps, err := s3policy.Private(ctx, name+"-bucket", bucket, sse, lokiLifecycle(s.RetentionDays), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("the log bucket: %w", err)
	}
	policy := bucket.Arn.ApplyT(tlsOnlyPolicy).(pulumi.StringOutput)
	// After the public access block, as S3 evaluates a new policy against it.
	bp, err := s3.NewBucketPolicy(ctx, name+"-bucket", &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy},
		append(opts, pulumi.DependsOn([]pulumi.Resource{pab}))...)
	if err != nil {
		return nil, nil, fmt.Errorf("requiring TLS on the log bucket: %w", err)
	}
	deps = append(deps, bp)
	return bucket, deps, nil
}

// lokiLifecycle are the bucket's lifecycle rules.
//
// Loki deletes logs itself: the compactor (retention_enabled) removes a chunk once it is older
// than retention_period, first from the index and then, retention_delete_delay (2h) later, the
// object. S3 knows nothing of the index, so the S3 rule is only a backstop: it expires objects
// under the tenant's chunk prefix ("fake/") one day after Loki's retention, so that it never
// deletes a chunk the index still points at, and it never touches the index, the delete
// requests or the cluster seed, which Loki keeps for as long as it runs (Loki docs
// operations/storage/retention.md at v3.7.6, "Object store lifecycle policies": scope the rule
// to the chunk prefix and set it longer than retention plus the delete delay). A chunk object
// is written after the newest line in it, so an object is always at least as old as its data.
// Incomplete multipart uploads are aborted after a day; that deletes no object.
func lokiLifecycle(retentionDays int) s3.BucketLifecycleConfigurationV2RuleArray {
	return s3.BucketLifecycleConfigurationV2RuleArray{
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String("expire-chunks-after-loki-retention"),
			Status:     pulumi.String("Enabled"),
			Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(lokiTenant + "/")},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(retentionDays + 1)},
		},
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                             pulumi.String("abort-incomplete-uploads"),
			Status:                         pulumi.String("Enabled"),
			Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(1)},
		},
	}
}

// tlsOnlyPolicy refuses every request to the bucket that is not over TLS
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html,
// aws:SecureTransport). It grants nothing: Loki's access comes from its role's policy.
func tlsOnlyPolicy(bucketArn string) (string, error) {
	doc := map[string]any{
		"Version":   "2012-10-17",
		"Statement": []any{s3policy.TLSOnly(bucketArn)},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// lokiAccessPolicy is what Loki may do: list the bucket, and read, write and delete its objects
// (the compactor deletes chunks and rewrites the index), the four actions the Loki docs name for
// S3 (operations/storage/_index.md, "Cloud Storage Permissions", at v3.7.6), on this bucket only;
// with a KMS key, encrypt and decrypt with it.
func lokiAccessPolicy(bucketArn pulumi.StringOutput, kmsKeyArn pulumi.StringInput) pulumi.StringOutput {
	key := pulumi.String("").ToStringOutput()
	if kmsKeyArn != nil {
		key = kmsKeyArn.ToStringOutput()
	}
	return pulumi.All(bucketArn, key).ApplyT(func(v []any) (string, error) {
		return lokiAccessPolicyDoc(v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
}

func lokiAccessPolicyDoc(bucketArn, kmsKeyArn string) (string, error) {
	statements := []any{
		map[string]any{
			"Sid":      "ListTheBucket",
			"Effect":   "Allow",
			"Action":   []string{"s3:ListBucket"},
			"Resource": []string{bucketArn},
		},
		map[string]any{
			"Sid":      "ReadWriteItsObjects",
			"Effect":   "Allow",
			"Action":   []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
			"Resource": []string{bucketArn + "/*"},
		},
	}
	if kmsKeyArn != "" {
		// SSE-KMS: PutObject needs GenerateDataKey, GetObject Decrypt
		// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
		statements = append(statements, map[string]any{
			"Sid":      "UseTheBucketKey",
			"Effect":   "Allow",
			"Action":   []string{"kms:Decrypt", "kms:GenerateDataKey"},
			"Resource": []string{kmsKeyArn},
		})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}
