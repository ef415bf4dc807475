package estimate

import (
	"fmt"
	"sort"
	"strings"
)

// Usage holds what the graph cannot say: how much traffic, logs and images a stack has, and
// which instances Auto Mode launches. Each figure the estimate derives from one is marked as an
// assumption. The program reads them from stack config (Pulumi.yaml documents the keys and the
// defaults below); DefaultUsage is the same set of defaults.
type Usage struct {
	// NATGBPerMonth is the data all NAT gateways together process in a month, both directions:
	// image pulls from outside AWS, calls to external APIs, ACME and OS updates. ECR's layers come
	// from S3 through the gateway endpoint and do not count.
	NATGBPerMonth float64 `json:"natGBPerMonth"`
	// ALBLCUs is the average number of load balancer capacity units each ALB uses per hour. One
	// LCU is 25 new connections a second, 3,000 active connections a minute, 1 GB an hour or
	// 1,000 rule evaluations a second, whichever is highest
	// (https://aws.amazon.com/elasticloadbalancing/pricing/).
	ALBLCUs float64 `json:"albLCUs"`
	// PodLogGBPerDay is the pods' log volume Loki stores in S3 each day.
	PodLogGBPerDay float64 `json:"podLogGBPerDay"`
	// AccessLogGBPerDay is the ALBs' access logs written to S3 each day.
	AccessLogGBPerDay float64 `json:"accessLogGBPerDay"`
	// ControlPlaneLogGBPerMonth is what each enabled control-plane log type sends to CloudWatch
	// Logs in a month.
	ControlPlaneLogGBPerMonth float64 `json:"controlPlaneLogGBPerMonth"`
	// ImageGB is the compressed size of one app image in ECR.
	ImageGB float64 `json:"imageGB"`
	// InstanceType is the instance type the model packs the pods onto: Auto Mode picks the
	// cheapest type of its NodePools' families that fits the pending pods, which for this
	// program's small pods is a large c or m instance.
	InstanceType string `json:"instanceType"`
	// SpotPriceRatio is the Spot price as a fraction of the on-demand price, used when a
	// NodePool allows Spot. Spot prices move with supply and demand and have no list price
	// (https://aws.amazon.com/ec2/spot/pricing/).
	SpotPriceRatio float64 `json:"spotPriceRatio"`
}

// DefaultUsage is a small production app: tens of requests a second at peak.
var DefaultUsage = Usage{
	NATGBPerMonth:             50,
	ALBLCUs:                   1,
	PodLogGBPerDay:            0.5,
	AccessLogGBPerDay:         0.1,
	ControlPlaneLogGBPerMonth: 2,
	ImageGB:                   0.1,
	InstanceType:              "c6a.large",
	SpotPriceRatio:            0.4,
}

// Validate checks the figures: none negative, a known instance type, a Spot ratio in (0, 1].
func (u Usage) Validate() error {
	for name, v := range map[string]float64{"natGBPerMonth": u.NATGBPerMonth, "albLCUs": u.ALBLCUs, "podLogGBPerDay": u.PodLogGBPerDay,
		"accessLogGBPerDay": u.AccessLogGBPerDay, "controlPlaneLogGBPerMonth": u.ControlPlaneLogGBPerMonth, "imageGB": u.ImageGB} {
		if v < 0 {
			return fmt.Errorf("%s is %v; accepted: zero or more", name, v)
		}
	}
	if _, ok := instances[u.InstanceType]; !ok {
		return fmt.Errorf("instanceType %q is not modeled; accepted: %s", u.InstanceType, strings.Join(instanceTypes(), ", "))
	}
	if u.SpotPriceRatio <= 0 || u.SpotPriceRatio > 1 {
		return fmt.Errorf("spotPriceRatio is %v; accepted: more than 0, at most 1", u.SpotPriceRatio)
	}
	return nil
}

func instanceTypes() []string {
	var out []string
	for k := range instances {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
