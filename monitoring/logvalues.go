package monitoring

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/example/flask-eks/internal/kube"
)

// The Loki and Alloy chart values this program sets, typed. Field names are the charts' keys; a
// key missing here keeps the chart's default. Checked in charts/loki/values.yaml and templates at
// grafana-community/helm-charts tag loki-18.11.0, and operations/helm/charts/alloy/values.yaml and
// templates at grafana/alloy tag helm-chart/1.11.1, with line-by-line notes below; both sets
// were rendered with `helm template` at those tags while this was written.

// Resource requests. Requests only, as for the rest of the stack (values.go): a memory limit
// turns a burst of queries or a backlog of logs into an OOM-kill loop. They are what Auto
// Mode sizes nodes by.
var (
	lokiRequests  = resources{CPU: "100m", Memory: "256Mi"}
	alloyRequests = resources{CPU: "50m", Memory: "128Mi"}
)

// alloyDataSize bounds Alloy's emptyDir (its positions and WAL-free component state).
const alloyDataSize = "1Gi"

// podSecurityContext and containerSecurityContext are Kubernetes' own fields; together they meet
// the "restricted" Pod Security Standard.
type podSecurityContext struct {
	RunAsNonRoot        bool           `json:"runAsNonRoot"`
	RunAsUser           int            `json:"runAsUser"`
	RunAsGroup          int            `json:"runAsGroup"`
	FSGroup             int            `json:"fsGroup"`
	FSGroupChangePolicy string         `json:"fsGroupChangePolicy,omitempty"`
	SeccompProfile      seccompProfile `json:"seccompProfile"`
}

type containerSecurityContext struct {
	AllowPrivilegeEscalation bool           `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool           `json:"readOnlyRootFilesystem"`
	RunAsNonRoot             bool           `json:"runAsNonRoot"`
	Capabilities             capabilities   `json:"capabilities"`
	SeccompProfile           seccompProfile `json:"seccompProfile"`
}

type seccompProfile struct {
	Type string `json:"type"`
}

type capabilities struct {
	Drop []string `json:"drop"`
}

func restrictedContainer() containerSecurityContext {
	return containerSecurityContext{
		ReadOnlyRootFilesystem: true, RunAsNonRoot: true,
		Capabilities: capabilities{Drop: []string{"ALL"}}, SeccompProfile: seccompProfile{Type: "RuntimeDefault"},
	}
}

func restrictedPod(uid int) podSecurityContext {
	return podSecurityContext{
		RunAsNonRoot: true, RunAsUser: uid, RunAsGroup: uid, FSGroup: uid,
		FSGroupChangePolicy: "OnRootMismatch", SeccompProfile: seccompProfile{Type: "RuntimeDefault"},
	}
}

// lokiValues is the subset of the Loki chart's values this program sets.
type lokiValues struct {
	// deploymentMode (values.yaml L70, default Monolithic): the single binary.
	DeploymentMode string     `json:"deploymentMode"`
	Loki           lokiConfig `json:"loki"`
	// defaults.automountServiceAccountToken (L143): Loki never calls the Kubernetes API (no
	// rules sidecar), and its AWS credentials come from the Pod Identity agent's own token.
	Defaults struct {
		AutomountServiceAccountToken bool `json:"automountServiceAccountToken"`
	} `json:"defaults"`
	SingleBinary lokiSingleBinary `json:"singleBinary"`
	// read/write/backend.replicas (L2146, L2415, L2653; default 3): 0, or validate.yaml fails
	// ("more than zero replicas configured for both the monolithic and simple scalable targets").
	Read    replicas `json:"read"`
	Write   replicas `json:"write"`
	Backend replicas `json:"backend"`
	// Memcached caches (L6331, L6489), MinIO (L6856), the nginx gateway (L1215), the canary
	// DaemonSet (L928) and the Helm test hook (L894, which needs the canary): all off. Alloy and
	// Grafana talk to the single binary's Service directly; with one tenant and no auth there is
	// nothing for the gateway to route or check.
	ChunksCache  toggle `json:"chunksCache"`
	ResultsCache toggle `json:"resultsCache"`
	Minio        toggle `json:"minio"`
	Gateway      toggle `json:"gateway"`
	LokiCanary   toggle `json:"lokiCanary"`
	Test         toggle `json:"test"`
	// sidecar.rules.enabled (L6926-): off. The rules sidecar would need list/watch on every
	// ConfigMap and Secret of the namespace (templates/role.yaml), Grafana's admin Secret
	// included; the rule file is mounted from a ConfigMap instead (singleBinary.extraVolumes).
	Sidecar struct {
		Rules toggle `json:"rules"`
	} `json:"sidecar"`
	// serviceAccount.{create,name,automountServiceAccountToken} (L1113): a fixed name, which the
	// Pod Identity association names.
	ServiceAccount struct {
		Create                       bool   `json:"create"`
		Name                         string `json:"name"`
		AutomountServiceAccountToken bool   `json:"automountServiceAccountToken"`
	} `json:"serviceAccount"`
}

type replicas struct {
	Replicas int `json:"replicas"`
}

// lokiConfig is the chart's "loki" block (L218-), from which it renders Loki's config.yaml.
type lokiConfig struct {
	// auth_enabled false: one tenant, "fake" (Loki docs operations/multi-tenancy.md).
	AuthEnabled bool `json:"auth_enabled"`
	// analytics.reporting_enabled: no usage reports to grafana.com.
	Analytics struct {
		ReportingEnabled bool `json:"reporting_enabled"`
	} `json:"analytics"`
	CommonConfig struct {
		ReplicationFactor int `json:"replication_factor"`
	} `json:"commonConfig"`
	// schemaConfig is required (validate.yaml); TSDB and schema v13, which structured metadata
	// needs.
	SchemaConfig struct {
		Configs []lokiPeriod `json:"configs"`
	} `json:"schemaConfig"`
	Storage lokiStorage `json:"storage"`
	// limits_config, compactor and rulerConfig are free-form Loki configuration blocks; Helm
	// merges these keys over the chart's defaults.
	LimitsConfig lokiLimits    `json:"limits_config"`
	Compactor    lokiCompactor `json:"compactor"`
	RulerConfig  lokiRuler     `json:"rulerConfig"`
	// podSecurityContext and containerSecurityContext (the chart's defaults, restated so that
	// a chart bump cannot loosen them): uid 10001 of the grafana/loki image.
	PodSecurityContext       podSecurityContext       `json:"podSecurityContext"`
	ContainerSecurityContext containerSecurityContext `json:"containerSecurityContext"`
}

type lokiPeriod struct {
	From        string `json:"from"`
	Store       string `json:"store"`
	ObjectStore string `json:"object_store"`
	Schema      string `json:"schema"`
	Index       struct {
		Prefix string `json:"prefix"`
		Period string `json:"period"`
	} `json:"index"`
}

// lokiStorage: type s3 with the stack's bucket for chunks and index; no ruler bucket, since the
// ruler's storage is local (templates/_helpers.tpl loki.rulerStorageConfig). No keys: Loki's
// aws-sdk-go-v2 client takes the default credential chain, which reads EKS Pod Identity's
// container credentials (Loki v3.6.0 and later, pkg/storage/chunk/client/aws).
type lokiStorage struct {
	Type        string `json:"type"`
	BucketNames struct {
		Chunks string `json:"chunks"`
	} `json:"bucketNames"`
	S3 struct {
		Region string `json:"region"`
	} `json:"s3"`
}

type lokiLimits struct {
	AllowStructuredMetadata bool   `json:"allow_structured_metadata"`
	RetentionPeriod         string `json:"retention_period"`
	// max_query_lookback = retention: queries never reach past what retention keeps (Loki docs
	// operations/storage/retention.md).
	MaxQueryLookback string `json:"max_query_lookback"`
}

type lokiCompactor struct {
	RetentionEnabled   bool   `json:"retention_enabled"`
	DeleteRequestStore string `json:"delete_request_store"`
	WorkingDirectory   string `json:"working_directory"`
}

type lokiRuler struct {
	AlertmanagerURL string `json:"alertmanager_url"`
	// EnableAPI serves the rules and alerts read API (Grafana lists Loki's alerts with it).
	EnableAPI bool `json:"enable_api"`
	// RulePath is the ruler's scratch directory, on the volume (the root is read-only).
	RulePath string `json:"rule_path"`
	Storage  struct {
		Type  string `json:"type"`
		Local struct {
			Directory string `json:"directory"`
		} `json:"local"`
	} `json:"storage"`
	WAL struct {
		Dir string `json:"dir"`
	} `json:"wal"`
}

// lokiSingleBinary is singleBinary (L1876-). Its nodeSelector and tolerations (L2080, L2082)
// come before defaults.* and loki.* (templates/_pod.tpl coalesces them in that order).
type lokiSingleBinary struct {
	Replicas          int             `json:"replicas"`
	Persistence       lokiPersistence `json:"persistence"`
	Resources         requests        `json:"resources"`
	ExtraVolumes      []volume        `json:"extraVolumes"`
	ExtraVolumeMounts []volumeMount   `json:"extraVolumeMounts"`
	kube.Placement
}

type lokiPersistence struct {
	Enabled      bool     `json:"enabled"`
	Size         string   `json:"size"`
	StorageClass string   `json:"storageClass,omitempty"`
	AccessModes  []string `json:"accessModes"`
}

// volume is a Kubernetes volume of one of the two kinds used here.
type volume struct {
	Name      string `json:"name"`
	ConfigMap *struct {
		Name string `json:"name"`
	} `json:"configMap,omitempty"`
	EmptyDir *struct {
		SizeLimit string `json:"sizeLimit"`
	} `json:"emptyDir,omitempty"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// lokiValuesInput is what the Loki values depend on.
type lokiValuesInput struct {
	// Region is the bucket's; its name, an output, goes in through lokiStorageValues.
	Region                               string
	RetentionDays                        int
	StorageClass, StorageSize, Namespace string
	// Placement is where the single binary runs.
	Placement kube.Placement
}

// buildLokiValues returns Loki's values. They hold no secret: no S3 keys (Pod Identity).
func buildLokiValues(in lokiValuesInput) lokiValues {
	var v lokiValues
	v.DeploymentMode = "Monolithic"
	l := &v.Loki
	l.AuthEnabled = false
	l.Analytics.ReportingEnabled = false
	l.CommonConfig.ReplicationFactor = 1
	period := lokiPeriod{From: "2024-04-01", Store: "tsdb", ObjectStore: "s3", Schema: "v13"}
	period.Index.Prefix, period.Index.Period = "loki_index_", "24h"
	l.SchemaConfig.Configs = []lokiPeriod{period}
	l.Storage.Type = "s3"
	l.Storage.S3.Region = in.Region
	retention := fmt.Sprintf("%dh", 24*in.RetentionDays)
	l.LimitsConfig = lokiLimits{AllowStructuredMetadata: true, RetentionPeriod: retention, MaxQueryLookback: retention}
	l.Compactor = lokiCompactor{RetentionEnabled: true, DeleteRequestStore: "s3", WorkingDirectory: "/var/loki/compactor"}
	l.RulerConfig.AlertmanagerURL = alertmanagerURL(in.Namespace)
	l.RulerConfig.EnableAPI = true
	l.RulerConfig.RulePath = "/var/loki/rules-temp"
	l.RulerConfig.Storage.Type = "local"
	l.RulerConfig.Storage.Local.Directory = lokiRulesDir
	l.RulerConfig.WAL.Dir = "/var/loki/ruler-wal" // the chart's default, restated: rulerConfig replaces it
	l.PodSecurityContext = restrictedPod(10001)
	l.ContainerSecurityContext = restrictedContainer()

	v.Defaults.AutomountServiceAccountToken = false
	sb := &v.SingleBinary
	sb.Replicas = 1
	sb.Persistence = lokiPersistence{Enabled: true, Size: in.StorageSize, StorageClass: in.StorageClass, AccessModes: []string{"ReadWriteOnce"}}
	sb.Resources.Requests = lokiRequests
	sb.Placement = in.Placement
	// The ruler reads <directory>/<tenant>/*: the rule ConfigMap is mounted there. Loki's local
	// rule store follows the ConfigMap volume's symlinks and skips its ..data directories
	// (pkg/ruler/rulestore/local/local.go), and the kubelet refreshes the files when the
	// ConfigMap changes.
	rules := volume{Name: "rules"}
	rules.ConfigMap = &struct {
		Name string `json:"name"`
	}{Name: LokiRulesConfigMap}
	sb.ExtraVolumes = []volume{rules}
	sb.ExtraVolumeMounts = []volumeMount{{Name: "rules", MountPath: lokiRulesDir + "/" + lokiTenant, ReadOnly: true}}
	v.Read, v.Write, v.Backend = replicas{}, replicas{}, replicas{}

	v.ServiceAccount.Create, v.ServiceAccount.Name = true, LokiServiceAccount
	v.ServiceAccount.AutomountServiceAccountToken = false
	return v
}

// alloyValues is the subset of the Alloy chart's values this program sets.
type alloyValues struct {
	// crds.create: the PodLogs CRD, for loki.source.podlogs, which this config does not use.
	CRDs struct {
		Create bool `json:"create"`
	} `json:"crds"`
	Controller struct {
		// controller.type: one pod per node, each tailing its node's pods.
		Type    string `json:"type"`
		Volumes struct {
			Extra []volume `json:"extra"`
		} `json:"volumes"`
		// controller.tolerations (L323): every pool's taints, so that a pod runs on every node.
		Tolerations []kube.Toleration `json:"tolerations,omitempty"`
	} `json:"controller"`
	// global.podSecurityContext (templates/controllers/_pod.yaml): the image's alloy user (uid
	// 473, created but "not set as default" in the Dockerfile at v1.18.1).
	Global struct {
		PodSecurityContext podSecurityContext `json:"podSecurityContext"`
	} `json:"global"`
	Alloy struct {
		// configMap.content is the configuration (passed through Helm's tpl).
		ConfigMap struct {
			Create  bool   `json:"create"`
			Content string `json:"content"`
		} `json:"configMap"`
		// enableReporting false adds --disable-reporting: no usage reports to grafana.com.
		EnableReporting bool `json:"enableReporting"`
		// storagePath on an emptyDir: the root filesystem is read-only.
		StoragePath string `json:"storagePath"`
		// mounts.varlog/dockercontainers: no hostPath; logs come through the API.
		Mounts struct {
			Varlog           bool          `json:"varlog"`
			Dockercontainers bool          `json:"dockercontainers"`
			Extra            []volumeMount `json:"extra"`
		} `json:"mounts"`
		SecurityContext containerSecurityContext `json:"securityContext"`
		Resources       requests                 `json:"resources"`
	} `json:"alloy"`
	// rbac.rules/clusterRules replace the chart's defaults, which include get/list/watch on
	// every ConfigMap and Secret of the cluster: Alloy only lists pods and reads their logs.
	// Both lists go into one ClusterRole (templates/rbac.yaml); neither may be empty there, as
	// an empty list renders a YAML error after the other.
	RBAC struct {
		Create       bool         `json:"create"`
		Rules        []policyRule `json:"rules"`
		ClusterRules []policyRule `json:"clusterRules"`
	} `json:"rbac"`
	ServiceAccount struct {
		Create bool `json:"create"`
	} `json:"serviceAccount"`
}

type policyRule struct {
	APIGroups []string `json:"apiGroups"`
	Resources []string `json:"resources"`
	Verbs     []string `json:"verbs"`
}

//go:embed alloy.config
var alloyConfigTemplate string

// alloyConfig renders alloy.config for a Loki push URL.
func alloyConfig(pushURL string) (string, error) {
	config, err := render("alloy.config", alloyConfigTemplate, struct{ PushURL string }{pushURL})
	if err != nil {
		return "", err
	}
	if strings.Contains(config, "{{") {
		return "", fmt.Errorf("alloy.config holds a double brace, which the chart's tpl would execute")
	}
	return config, nil
}

// buildAlloyValues returns Alloy's values: a DaemonSet shipping to pushURL, with everyNode's
// tolerations.
func buildAlloyValues(pushURL string, everyNode kube.Placement) (alloyValues, error) {
	var v alloyValues
	config, err := alloyConfig(pushURL)
	if err != nil {
		return v, err
	}
	v.CRDs.Create = false
	v.Controller.Type = "daemonset"
	data := volume{Name: "data"}
	data.EmptyDir = &struct {
		SizeLimit string `json:"sizeLimit"`
	}{SizeLimit: alloyDataSize}
	v.Controller.Volumes.Extra = []volume{data}
	v.Controller.Tolerations = everyNode.Tolerations
	v.Global.PodSecurityContext = restrictedPod(473)
	a := &v.Alloy
	a.ConfigMap.Create, a.ConfigMap.Content = true, config
	a.EnableReporting = false
	a.StoragePath = "/var/lib/alloy/data"
	a.Mounts.Extra = []volumeMount{{Name: "data", MountPath: a.StoragePath}}
	a.SecurityContext = restrictedContainer()
	a.Resources.Requests = alloyRequests
	v.RBAC.Create = true
	v.RBAC.Rules = []policyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}}
	v.RBAC.ClusterRules = []policyRule{{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get", "list", "watch"}}}
	v.ServiceAccount.Create = true
	return v, nil
}
