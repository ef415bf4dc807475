package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/pulumitest"
)

// TestClusterGetsOnlyPrivateSubnets states a rule the graph snapshots only show: the EKS
// cluster gets the network's private subnets, all of them and nothing else. Its control-plane
// network interfaces and its Auto Mode nodes go into the subnets it is given ("When creating
// an EKS cluster, you must specify the VPC subnets where the nodes will be deployed",
// https://docs.aws.amazon.com/eks/latest/userguide/automode-get-started-cli.html), and there
// nothing on the internet can reach them. Handing it the public subnets would change one
// line of a snapshot that `make snapshots` rewrites by design. A subnet is private or public
// by what the program routes it to: its route table's default route goes to a NAT gateway or
// to the internet gateway.
func TestClusterGetsOnlyPrivateSubnets(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			cfg := stackConfig(t, stack)
			rec, err := runProgram(t, stack, cfg)
			if err != nil {
				t.Fatal(err)
			}
			private, public := subnetsByRoute(t, rec)
			if cfg["flask-eks:vpcId"] != "" {
				// A brought network (prod): its subnets are private or public as EC2
				// describes them (committedNetworks), and the program made none.
				if len(private)+len(public) != 0 {
					t.Fatalf("the stack brings its network but made subnets %v %v", private, public)
				}
				private, public = existingSubnets(cfg["flask-eks:vpcId"])
			}
			if len(private) == 0 || len(private) != len(public) {
				t.Fatalf("private subnets %v, public %v: want one of each per AZ", private, public)
			}
			cluster := rec.Only(t, "eks:index:Cluster")
			var got []string
			for _, id := range cluster.Inputs["privateSubnetIds"].([]any) {
				got = append(got, id.(string))
			}
			slices.Sort(got)
			if !slices.Equal(got, private) {
				t.Errorf("the cluster's privateSubnetIds are %v, want the private subnets %v", got, private)
			}
			// pulumi-eks takes subnets through other inputs too; the cluster gets none of them.
			for _, input := range []string{"publicSubnetIds", "subnetIds", "nodeSubnetIds"} {
				if v, ok := cluster.Inputs[input]; ok {
					t.Errorf("the cluster is given %s %v", input, v)
				}
			}
			walkStrings(cluster.Inputs, func(path, s string) {
				if slices.Contains(public, s) {
					t.Errorf("the cluster's %s holds the public subnet %s", path, s)
				}
			})
			if cluster.Inputs["nodeAssociatePublicIpAddress"] != false {
				t.Errorf("nodeAssociatePublicIpAddress %v, want false", cluster.Inputs["nodeAssociatePublicIpAddress"])
			}
		})
	}
}

// subnetsByRoute sorts the network's subnets, by the default route of their route table, into
// private (through a NAT gateway) and public (through the internet gateway), each sorted. A
// subnet without a table, or with a default route through neither, fails the test.
func subnetsByRoute(t *testing.T, rec *pulumitest.Mocks) (private, public []string) {
	t.Helper()
	tier := map[string]string{} // route table ID: "private" or "public"
	for _, r := range rec.ByType("aws:ec2/route:Route") {
		if r.Inputs["destinationCidrBlock"] != "0.0.0.0/0" {
			continue
		}
		table := r.Inputs["routeTableId"].(string)
		switch nat, igw := r.Inputs["natGatewayId"], r.Inputs["gatewayId"]; {
		case nat != nil && igw == nil:
			tier[table] = "private"
		case igw != nil && nat == nil && strings.HasPrefix(igw.(string), "igw-"):
			tier[table] = "public"
		default:
			t.Fatalf("route %s: default route through %v", r.Name, r.Inputs)
		}
	}
	subnetTier := map[string]string{}
	for _, a := range rec.ByType("aws:ec2/routeTableAssociation:RouteTableAssociation") {
		subnetTier[a.Inputs["subnetId"].(string)] = tier[a.Inputs["routeTableId"].(string)]
	}
	for _, s := range rec.ByType("aws:ec2/subnet:Subnet") {
		switch subnetTier[s.ID] {
		case "private":
			private = append(private, s.ID)
		case "public":
			public = append(public, s.ID)
		default:
			t.Fatalf("subnet %s (%s) has no route table with a default route", s.Name, s.ID)
		}
	}
	slices.Sort(private)
	slices.Sort(public)
	return private, public
}

// walkStrings calls f with every string in v (plain JSON-like data) and its dotted path.
func walkStrings(v any, f func(path, s string)) {
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case string:
			f(path, v)
		case map[string]any:
			for k, e := range v {
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
}

// existingSubnets are the private and public subnets of a committed stack's brought VPC, as
// the mocks describe them (committedNetworks), each sorted.
func existingSubnets(vpcID string) (private, public []string) {
	for _, v := range committedNetworks {
		if v.ID != vpcID {
			continue
		}
		for _, s := range v.Subnets {
			if s.Public {
				public = append(public, s.ID)
			} else {
				private = append(private, s.ID)
			}
		}
	}
	slices.Sort(private)
	slices.Sort(public)
	return private, public
}
