package eks

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/example/flask-eks/internal/crdschema"
)

// documentedNodeClass is Auto Mode's NodeClass as AWS documents it: the "Node Class
// Specification" of "Create a Node Class for Amazon EKS"
// (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html) and the
// ephemeralStorage.kmsKeyID of "Enable EBS Volume Encryption with Customer Managed KMS Keys for
// EKS Auto Mode" (https://docs.aws.amazon.com/eks/latest/userguide/auto-kms.html). AWS
// publishes no CRD or OpenAPI schema for it, so the program's NodeClass is decoded strictly
// into this type: a field AWS does not document fails the test.
type documentedNodeClass struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec documentedNodeClassSpec `json:"spec"`
}

type documentedNodeClassSpec struct {
	Role                             string                  `json:"role,omitempty"`
	InstanceProfile                  string                  `json:"instanceProfile,omitempty"`
	SubnetSelectorTerms              []idOrTags              `json:"subnetSelectorTerms"`
	SecurityGroupSelectorTerms       []securityGroupTerm     `json:"securityGroupSelectorTerms"`
	PodSubnetSelectorTerms           []idOrTags              `json:"podSubnetSelectorTerms,omitempty"`
	PodSecurityGroupSelectorTerms    []idOrTags              `json:"podSecurityGroupSelectorTerms,omitempty"`
	CapacityReservationSelectorTerms []capacityReservation   `json:"capacityReservationSelectorTerms,omitempty"`
	SNATPolicy                       string                  `json:"snatPolicy,omitempty"`
	NetworkPolicy                    string                  `json:"networkPolicy,omitempty"`
	NetworkPolicyEventLogs           string                  `json:"networkPolicyEventLogs,omitempty"`
	EphemeralStorage                 *documentedStorage      `json:"ephemeralStorage,omitempty"`
	AdvancedNetworking               *documentedNetworking   `json:"advancedNetworking,omitempty"`
	AdvancedSecurity                 *documentedSecurity     `json:"advancedSecurity,omitempty"`
	CertificateBundles               []documentedCertificate `json:"certificateBundles,omitempty"`
	Tags                             map[string]string       `json:"tags,omitempty"`
}

type idOrTags struct {
	ID   string            `json:"id,omitempty"`
	Tags map[string]string `json:"tags,omitempty"`
}

type securityGroupTerm struct {
	ID   string            `json:"id,omitempty"`
	Name string            `json:"name,omitempty"`
	Tags map[string]string `json:"tags,omitempty"`
}

type capacityReservation struct {
	ID    string            `json:"id,omitempty"`
	Owner string            `json:"owner,omitempty"`
	Tags  map[string]string `json:"tags,omitempty"`
}

type documentedStorage struct {
	Size       string `json:"size,omitempty"`
	IOPS       int    `json:"iops,omitempty"`
	Throughput int    `json:"throughput,omitempty"`
	KMSKeyID   string `json:"kmsKeyID,omitempty"`
}

type documentedNetworking struct {
	AssociatePublicIPAddress *bool    `json:"associatePublicIPAddress,omitempty"`
	HTTPSProxy               string   `json:"httpsProxy,omitempty"`
	NoProxy                  []string `json:"noProxy,omitempty"`
	IPv4PrefixSize           string   `json:"ipv4PrefixSize,omitempty"`
}

type documentedSecurity struct {
	FIPS *bool `json:"fips,omitempty"`
}

type documentedCertificate struct {
	Name string `json:"name"`
	Data string `json:"data"`
}

// TestNodeClassStandInModelsTheDocumentedFields: the stand-in CRD of testdata/crds and the
// documented type above name the same fields at every level, so that the strict decode of the
// unit tests and the API server of the integration tier hold the program to one description.
func TestNodeClassStandInModelsTheDocumentedFields(t *testing.T) {
	crd := crdschema.Load(t, nodeClassCRD(t))
	if crd.Spec.Group+"/"+crd.Spec.Versions[0].Name != NodeClassAPIVersion || crd.Spec.Names.Kind != NodeClassKind {
		t.Fatalf("stand-in serves %s/%s %s, want %s %s", crd.Spec.Group, crd.Spec.Versions[0].Name, crd.Spec.Names.Kind, NodeClassAPIVersion, NodeClassKind)
	}
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	var diffs []string
	compareFields("spec", &spec, reflect.TypeOf(documentedNodeClassSpec{}), &diffs)
	if len(diffs) > 0 {
		t.Errorf("the stand-in CRD and documentedNodeClass differ:\n%s", strings.Join(diffs, "\n"))
	}
}

// compareFields walks a schema and a Go type side by side and records every field present in
// only one of them.
func compareFields(path string, s *apiextensionsv1.JSONSchemaProps, typ reflect.Type, diffs *[]string) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
		if s.Items != nil && s.Items.Schema != nil {
			s = s.Items.Schema
		}
	}
	if typ.Kind() != reflect.Struct {
		return // a scalar or a map of strings: no fields to compare
	}
	fields := map[string]reflect.Type{}
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		fields[name] = typ.Field(i).Type
	}
	var names []string
	for name := range s.Properties {
		names = append(names, name)
	}
	for name := range fields {
		if !slices.Contains(names, name) {
			*diffs = append(*diffs, path+"."+name+": in the Go type only")
		}
	}
	for _, name := range names {
		ft, ok := fields[name]
		if !ok {
			*diffs = append(*diffs, path+"."+name+": in the CRD only")
			continue
		}
		prop := s.Properties[name]
		compareFields(path+"."+name, &prop, ft, diffs)
	}
}
