// The cost estimate's usage assumptions (costAssumptions), read like every other key: the
// defaults from Pulumi.yaml, a stack's values over them, every problem named.

package main

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/example/flask-eks/internal/estimate"
)

// readCostAssumptions reads costAssumptions: Pulumi.yaml's default object, with the keys a
// stack sets laid over it, so a stack names only what it changes. An unknown key is refused, so
// a typo never silently keeps a default.
func readCostAssumptions(r *reader) estimate.Usage {
	const key = "costAssumptions"
	var u estimate.Usage
	def, _ := json.Marshal(r.schema[r.fullKey(key)].Default)
	for _, layer := range []string{string(def), r.str(key)} {
		dec := json.NewDecoder(bytes.NewReader([]byte(layer)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil {
			r.fail(key, "%s; accepted: a map of natGBPerMonth, albLCUs, podLogGBPerDay, accessLogGBPerDay, controlPlaneLogGBPerMonth, imageGB (numbers), instanceType and spotPriceRatio", err)
			return estimate.DefaultUsage
		}
	}
	if err := u.Validate(); err != nil {
		r.fail(key, "%v", err)
	}
	return u
}

// extendedSupport reports whether a Kubernetes minor version of the EKS calendar has left
// standard support on day: its control plane then pays the extended-support rate.
func extendedSupport(minor string, day time.Time) bool {
	for _, v := range kubernetesVersions {
		if v.Minor == minor {
			return day.Format(time.DateOnly) > v.StandardSupport
		}
	}
	return false
}
