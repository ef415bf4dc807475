package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/flask-eks/internal/estimate"
	"github.com/example/flask-eks/internal/pulumitest"
)

// The estimate tool modes (make estimate; the pull-request workflow .github/workflows/estimate.yml).
var (
	estimateStack   = flag.String("estimate", "", "run no test; print the modeled time of a cold up and the monthly cost of this stack instead (make estimate STACK=prod)")
	estimateJSON    = flag.Bool("estimate-json", false, "with -estimate: print the report as JSON")
	estimateCompare = flag.String("estimate-compare", "", "run no test; compare two JSON estimates BASE,HEAD of one stack and print Markdown (BASE may be missing)")
)

// estimateTool runs the estimate modes, and reports whether one was asked for.
func estimateTool(w io.Writer) (bool, error) {
	switch {
	case *estimateStack != "":
		r, err := estimateStackReport(*estimateStack, "", time.Now())
		if err != nil {
			return true, err
		}
		if *estimateJSON {
			return true, r.JSON(w)
		}
		return true, r.Text(w)
	case *estimateCompare != "":
		base, head, ok := strings.Cut(*estimateCompare, ",")
		if !ok {
			return true, fmt.Errorf("-estimate-compare takes BASE.json,HEAD.json")
		}
		md, err := compareEstimates(base, head)
		if err != nil {
			return true, err
		}
		_, err = io.WriteString(w, md)
		return true, err
	}
	return false, nil
}

// estimateStackReport estimates a committed stack: its graph from the mock run (or, with
// snapshot, from that snapshot file), its region and usage assumptions from its stack file read
// as the program reads it, its control plane priced at the extended-support rate when its
// Kubernetes version has left standard support on day.
func estimateStackReport(stack, snapshot string, day time.Time) (*estimate.Report, error) {
	values, err := readStackFile(stack)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig("flask-eks", stack, mapConfig{values: values}, testToday())
	if err != nil {
		return nil, err
	}
	var nodes []estimate.Node
	if snapshot != "" {
		b, err := os.ReadFile(snapshot)
		if err != nil {
			return nil, err
		}
		if nodes, err = estimate.ReadGraph(b); err != nil {
			return nil, fmt.Errorf("%s: %w", snapshot, err)
		}
	} else {
		rec, err := planStack(stack)
		if err != nil {
			return nil, fmt.Errorf("planning stack %s: %w", stack, err)
		}
		if nodes, err = estimateNodes(rec.Graph()); err != nil {
			return nil, err
		}
	}
	return estimate.Estimate(estimate.Input{
		Stack: stack, Nodes: nodes, Region: cfg.Region, Usage: cfg.CostAssumptions,
		ExtendedSupport: cfg.ClusterMode == modeEKS && extendedSupport(cfg.Cluster.KubernetesVersion, day),
	})
}

// estimateNodes converts the mock run's graph into the estimator's nodes, through the JSON
// the snapshots are made of.
func estimateNodes(g []pulumitest.Node) ([]estimate.Node, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	return estimate.ReadGraph(b)
}

// compareEstimates prints base against head for a pull request. A missing or empty base (a
// base branch without `make estimate`) shows the head alone.
func compareEstimates(basePath, headPath string) (string, error) {
	read := func(p string) (*estimate.Report, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, fs.ErrNotExist
		}
		var r estimate.Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return &r, nil
	}
	head, err := read(headPath)
	if err != nil {
		return "", err
	}
	base, err := read(basePath)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("**%s**: app serving %.1f min, whole `up` %.1f min, $%.2f a month (the base branch has no estimate to compare with)\n",
			head.Stack, head.Time.AppServing, head.Time.WholeUp, head.Money.TotalUSD), nil
	}
	if err != nil {
		return "", err
	}
	return estimate.Compare(base, head).Markdown(), nil
}

// TestEstimateCompareTool: the workflow's comparison of two JSON reports, and of a head alone.
func TestEstimateCompareTool(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r *estimate.Report) string {
		var b bytes.Buffer
		if r != nil {
			if err := r.JSON(&b); err != nil {
				t.Fatal(err)
			}
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := &estimate.Report{Stack: "prod", Time: estimate.Time{AppServing: 15.7, WholeUp: 18}, Money: estimate.Money{TotalUSD: 500,
		Lines: []estimate.Line{{Group: "NAT gateways", USD: 35, Count: 1, Noun: "NAT gateway"}}}}
	head := &estimate.Report{Stack: "prod", Time: estimate.Time{AppServing: 12.6, WholeUp: 14.3}, Money: estimate.Money{TotalUSD: 570,
		Lines: []estimate.Line{{Group: "NAT gateways", USD: 105, Count: 3, Noun: "NAT gateway"}}}}
	md, err := compareEstimates(write("base.json", base), write("head.json", head))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "prod: +$70/month (+2 NAT gateways); app serving 15.7 → 12.6 min, whole up 18.0 → 14.3 min") {
		t.Errorf("comparison:\n%s", md)
	}
	alone, err := compareEstimates(write("empty.json", nil), write("head2.json", head))
	if err != nil || !strings.Contains(alone, "$570.00 a month (the base branch has no estimate") {
		t.Errorf("head alone: %q, %v", alone, err)
	}
}

// readmeStacks are the stacks whose figures the README shows.
var readmeStacks = []string{"dev", "prod"}

// readmeEstimate is the README's table of the committed stacks' figures, from their committed
// snapshots, priced on the day every test pretends it is.
func readmeEstimate() (string, error) {
	var b strings.Builder
	b.WriteString("| Stack | App serving | Whole `up` | Monthly cost | Main lines |\n| --- | --- | --- | --- | --- |\n")
	for _, stack := range readmeStacks {
		r, err := estimateStackReport(stack, filepath.Join("testdata", stack+".graph.json"), testToday())
		if err != nil {
			return "", err
		}
		groups := map[string]float64{}
		var order []string
		for _, l := range r.Money.Lines {
			if _, ok := groups[l.Group]; !ok {
				order = append(order, l.Group)
			}
			groups[l.Group] += l.USD
		}
		var main []string
		for _, g := range order {
			if groups[g] >= 20 {
				main = append(main, fmt.Sprintf("%s $%.0f", g, groups[g]))
			}
		}
		fmt.Fprintf(&b, "| %s | %.1f min | %.1f min | $%.0f | %s |\n", stack, r.Time.AppServing, r.Time.WholeUp, r.Money.TotalUSD, strings.Join(main, ", "))
	}
	return b.String(), nil
}

// readmeEstimateBlock finds the generated table in the README.
var readmeEstimateBlock = regexp.MustCompile(`(?s)(<!-- estimate: generated by go test -run TestReadmeEstimate -update \. -->\n)(.*?)(<!-- /estimate -->)`)

// TestReadmeEstimate keeps the README's dev and prod figures equal to the estimator's output on
// the committed snapshots: a change to the graph, a duration, a price or an assumption shows in
// the README in the same pull request.
func TestReadmeEstimate(t *testing.T) {
	want, err := readmeEstimate()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := readmeEstimateBlock.FindSubmatchIndex(readme)
	if m == nil {
		t.Fatal("README.md has no generated estimate table (<!-- estimate: ... --> … <!-- /estimate -->)")
	}
	if got := string(readme[m[4]:m[5]]); got != want {
		if *update {
			out := append(append(append([]byte{}, readme[:m[4]]...), want...), readme[m[5]:]...)
			if err := os.WriteFile("README.md", out, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's estimate is out of date; run `go test -run TestReadmeEstimate -update .`\n%s", firstDiff(got, want))
	}
}

// TestCostAssumptionsDefaults: Pulumi.yaml's defaults of costAssumptions are the estimator's
// own, so a stack that sets none is estimated as the library documents.
func TestCostAssumptionsDefaults(t *testing.T) {
	cfg, err := readConfig("flask-eks", "dev", mapConfig{values: map[string]string{"flask-eks:environment": "dev", "aws:region": "eu-west-1"}}, testToday())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CostAssumptions != estimate.DefaultUsage {
		t.Errorf("costAssumptions defaults %+v, estimate.DefaultUsage %+v: keep Pulumi.yaml and internal/estimate/usage.go equal", cfg.CostAssumptions, estimate.DefaultUsage)
	}
	cfg, err = readConfig("flask-eks", "dev", mapConfig{values: map[string]string{"flask-eks:environment": "dev", "aws:region": "eu-west-1",
		"flask-eks:costAssumptions": `{"natGBPerMonth": 500}`}}, testToday())
	if err != nil {
		t.Fatal(err)
	}
	if want := estimate.DefaultUsage; cfg.CostAssumptions.NATGBPerMonth != 500 || cfg.CostAssumptions.ALBLCUs != want.ALBLCUs || cfg.CostAssumptions.InstanceType != want.InstanceType {
		t.Errorf("a stack setting natGBPerMonth only got %+v: want 500 and the other defaults", cfg.CostAssumptions)
	}
}

// TestNATModeCostsOnlyNAT runs the dev stack with one NAT gateway and with one per AZ: the
// estimates differ in the NAT lines alone, and the comparison names the gateways.
func TestNATModeCostsOnlyNAT(t *testing.T) {
	reports := map[string]*estimate.Report{}
	for _, mode := range []string{"single", "one-per-az"} {
		cfg := stackConfig(t, "dev")
		cfg["flask-eks:natMode"] = mode
		rec, err := runProgram(t, "dev", cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := estimateNodes(rec.Graph())
		if err != nil {
			t.Fatal(err)
		}
		if reports[mode], err = estimate.Estimate(estimate.Input{Stack: "dev", Nodes: nodes, Region: "eu-west-1", Usage: estimate.DefaultUsage}); err != nil {
			t.Fatal(err)
		}
	}
	d := estimate.Compare(reports["single"], reports["one-per-az"])
	if len(d.Groups) != 1 || d.Groups[0].Group != "NAT gateways" || d.Groups[0].HeadCount-d.Groups[0].BaseCount != 2 {
		t.Errorf("one NAT gateway per AZ changes %+v; want the NAT gateways alone, two more of them", d.Groups)
	}
	if !strings.Contains(d.Summary(), "(+2 NAT gateways)") {
		t.Errorf("summary %q does not name the two gateways", d.Summary())
	}
}

// TestEstimateTool runs `make estimate`'s tool mode of the test binary: it prints a stack's
// estimate, as text or as JSON, instead of running tests.
func TestEstimateTool(t *testing.T) {
	out, err := exec.Command(os.Args[0], "-estimate", "local").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"app serving", "whole up", "Critical path of the whole up:", "Monthly cost: none on AWS"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("estimate tool output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "PASS") || strings.Contains(string(out), "=== RUN") {
		t.Errorf("the estimate tool ran tests:\n%s", out)
	}
	js, err := exec.Command(os.Args[0], "-estimate", "dev", "-estimate-json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var r estimate.Report
	if err := json.Unmarshal(js, &r); err != nil || r.Stack != "dev" || r.Money.TotalUSD <= 0 || r.Time.WholeUp <= 0 {
		t.Errorf("JSON estimate of dev: %v\n%s", err, js)
	}
}

// TestExtendedSupportDay: the control plane pays the extended rate from the day after the last
// day of standard support in the EKS calendar.
func TestExtendedSupportDay(t *testing.T) {
	last := ""
	for _, v := range kubernetesVersions {
		if v.Minor == "1.35" {
			last = v.StandardSupport
		}
	}
	day, err := time.Parse(time.DateOnly, last)
	if err != nil {
		t.Fatalf("1.35 is not in the calendar: %v", err)
	}
	if extendedSupport("1.35", day) || !extendedSupport("1.35", day.AddDate(0, 0, 1)) {
		t.Errorf("1.35 on %s: extended %v, the day after: %v; want standard, then extended", last, extendedSupport("1.35", day), extendedSupport("1.35", day.AddDate(0, 0, 1)))
	}
	if extendedSupport("1.99", day.AddDate(10, 0, 0)) {
		t.Error("a version outside the calendar is priced as extended")
	}
}
