package estimate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// AppRelease is the resource name of the app's Helm release, the heart of "the app serves".
const AppRelease = "app"

// Input is what an estimate is made from.
type Input struct {
	Stack string
	// Nodes is the planned graph: the program's mock run, or a committed snapshot.
	Nodes []Node
	// Region is the AWS region of the stack ("" for a stack without AWS resources).
	Region string
	Usage  Usage
	// ExtendedSupport says the cluster's Kubernetes version has left EKS standard support on the
	// day of the estimate; the program's EKS calendar decides.
	ExtendedSupport bool
}

// Report is a stack's modeled time to deploy and its monthly cost.
type Report struct {
	Stack  string `json:"stack"`
	Region string `json:"region,omitempty"`
	Time   Time   `json:"time"`
	Money  Money  `json:"money"`
}

// Time is the modeled schedule of a cold `pulumi up`.
type Time struct {
	// AppServing is when the app serves: its Helm release is done (its pods ready), its Ingress
	// read back, and, with a domain, the certificate validated and ExternalDNS running to point
	// the name at the ALB (its pods ready, though the `up` does not wait for them). The ALB's own provisioning after the Ingress and DNS propagation are
	// outside the graph and not included.
	AppServing float64 `json:"appServingMinutes"`
	// WholeUp is when the last resource is done.
	WholeUp float64 `json:"wholeUpMinutes"`
	// Serving is when each part of "the app serves" is done.
	Serving      []Milestone `json:"serving"`
	AppPath      []Link      `json:"appServingPath"`
	CriticalPath []Link      `json:"criticalPath"`
}

// Milestone is one resource's finish on the model.
type Milestone struct {
	Type   string  `json:"type"`
	Name   string  `json:"name"`
	Finish float64 `json:"finish"`
}

// Money is the stack's monthly cost.
type Money struct {
	// PriceTable names the table used: region and date.
	PriceTable string  `json:"priceTable,omitempty"`
	Usage      Usage   `json:"usage"`
	Lines      []Line  `json:"lines"`
	TotalUSD   float64 `json:"totalUSD"`
	// AssumedUSD is the part of the total whose quantities rest on usage assumptions.
	AssumedUSD float64 `json:"assumedUSD"`
	// Notes say what the estimate leaves to other stacks.
	Notes []string `json:"notes,omitempty"`
}

// Estimate models the graph's cold `up` and prices it.
func Estimate(in Input) (*Report, error) {
	if err := in.Usage.Validate(); err != nil {
		return nil, err
	}
	g := newGraph(in.Nodes)
	s, err := newSchedule(g)
	if err != nil {
		return nil, fmt.Errorf("modeling the %s stack's up: %w", in.Stack, err)
	}
	targets := servingTargets(g)
	if len(targets) == 0 {
		return nil, fmt.Errorf("the %s graph has no Helm release named %q: nothing says when the app serves", in.Stack, AppRelease)
	}
	serving, last := s.latestReady(targets), s.whole()
	r := &Report{Stack: in.Stack, Region: in.Region, Time: Time{
		AppServing: round(s.ready(serving), 2), WholeUp: round(s.finish[last], 2),
		AppPath: s.readyPath(serving), CriticalPath: s.path(last),
	}}
	for _, u := range targets {
		n := g.byURN[u]
		r.Time.Serving = append(r.Time.Serving, Milestone{n.Type, n.Name, round(s.ready(u), 2)})
	}
	r.Money.Usage = in.Usage
	r.Money.Lines = []Line{}
	if !hasAWS(g) {
		return r, nil
	}
	table, err := Prices(in.Region)
	if err != nil {
		return nil, err
	}
	lines, err := money(g, table, in.Usage, in.ExtendedSupport)
	if err != nil {
		return nil, fmt.Errorf("pricing the %s stack: %w", in.Stack, err)
	}
	r.Money.PriceTable = table.Region + " prices as of " + table.AsOf
	r.Money.Lines = lines
	for i := range lines {
		lines[i].USD = round(lines[i].USD, 2)
		r.Money.TotalUSD += lines[i].USD
		if lines[i].Assumption {
			r.Money.AssumedUSD += lines[i].USD
		}
	}
	r.Money.TotalUSD, r.Money.AssumedUSD = round(r.Money.TotalUSD, 2), round(r.Money.AssumedUSD, 2)
	if broughtNetwork(g) {
		r.Money.Notes = append(r.Money.Notes, "The network comes from another stack: its NAT gateways, their addresses and data are priced there, not here.")
	}
	return r, nil
}

// servingTargets are the resources whose completion means the app serves (see Time.AppServing).
func servingTargets(g *graph) []string {
	var out []string
	for _, typ := range []string{typeRelease, typeChart} {
		for _, n := range g.ofType(typ) {
			if n.Name == AppRelease {
				out = append(out, n.URN)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	for _, n := range g.ofType(typeIngress) {
		if n.Name == AppRelease {
			out = append(out, n.URN)
		}
	}
	for _, n := range g.ofType(typeCertValidation) {
		out = append(out, n.URN)
	}
	for _, n := range g.ofType(typeChart) {
		if chartName(n) == "external-dns" {
			out = append(out, n.URN)
		}
	}
	return out
}

// hasAWS reports whether the graph declares AWS resources (an existing-cluster stack has none).
func hasAWS(g *graph) bool {
	for _, n := range g.nodes {
		if strings.HasPrefix(n.Type, "aws:") || n.Type == typeCluster {
			return true
		}
	}
	return false
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Text writes the report for people.
func (r *Report) Text(w io.Writer) error {
	var b strings.Builder
	title := r.Stack
	if r.Region != "" {
		title += " (" + r.Region + ")"
	}
	fmt.Fprintf(&b, "%s\n\n", title)
	fmt.Fprintf(&b, "Time of a cold `pulumi up`, on the model (internal/estimate; docs/estimate.md)\n")
	fmt.Fprintf(&b, "  app serving  %5.1f min  (", r.Time.AppServing)
	for i, m := range r.Time.Serving {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s %.1f", shortType(m.Type), m.Name, m.Finish)
	}
	fmt.Fprintf(&b, ")\n  whole up     %5.1f min\n", r.Time.WholeUp)
	fmt.Fprintf(&b, "\n  Critical path of the whole up:\n")
	writePath(&b, r.Time.CriticalPath)
	fmt.Fprintf(&b, "\n  Path to app serving:\n")
	writePath(&b, r.Time.AppPath)
	if len(r.Money.Lines) == 0 {
		fmt.Fprintf(&b, "\nMonthly cost: none on AWS (the stack declares no AWS resources)\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "\nMonthly cost in USD (%s)\n", r.Money.PriceTable)
	group := ""
	unverified := false
	for _, l := range r.Money.Lines {
		if l.Group != group {
			group = l.Group
			fmt.Fprintf(&b, "  %s\n", group)
		}
		mark := " "
		if l.Assumption {
			mark = "*"
		}
		price := unitPrice(l.UnitUSD)
		if l.PriceUnverified {
			price += "†"
			unverified = true
		}
		fmt.Fprintf(&b, "   %s %-44s %10s %-20s × %-10s %9s\n", mark, l.Item, trimFloat(round(l.Quantity, 2)), l.Unit, price, usd(l.USD))
		fmt.Fprintf(&b, "       %s\n", l.Basis)
	}
	fmt.Fprintf(&b, "  Total %s a month; %s of it rests on usage assumptions (*).\n", usd(r.Money.TotalUSD), usd(r.Money.AssumedUSD))
	for _, n := range r.Money.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	fmt.Fprintf(&b, "  * quantity from a usage assumption (config key costAssumptions; Pulumi.yaml documents the defaults)\n")
	if unverified {
		fmt.Fprintf(&b, "  † price not confirmed by an offline source: check it on its AWS pricing page (docs/estimate.md)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writePath(b *strings.Builder, path []Link) {
	for _, l := range path {
		via := ""
		if l.Via != "" {
			via = "  ← " + l.Via
		}
		fmt.Fprintf(b, "    %5.1f → %5.1f  %8s  %s %s%s\n", l.Start, l.Finish, minutes(l.Minutes), l.Type, l.Name, via)
	}
}

// minutes prints a duration: seconds under a minute.
func minutes(m float64) string {
	if m < 1 {
		return fmt.Sprintf("%.0f s", m*60)
	}
	return fmt.Sprintf("%.1f min", m)
}

// unitPrice prints a unit price with at least cents.
func unitPrice(v float64) string {
	s := trimFloat(v)
	if i := strings.IndexByte(s, '.'); i < 0 {
		s += ".00"
	} else if len(s)-i == 2 {
		s += "0"
	}
	return "$" + s
}

func usd(v float64) string {
	return fmt.Sprintf("$%.2f", v)
}

// trimFloat prints a number without trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.6f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Diff compares two estimates of a stack: a pull request's base and head.
type Diff struct {
	Stack                         string
	Base, Head                    *Report
	DeltaUSD                      float64
	Groups                        []GroupDiff
	DeltaAppServing, DeltaWholeUp float64
}

// GroupDiff is the change of one group of lines.
type GroupDiff struct {
	Group                      string
	BaseUSD, HeadUSD, DeltaUSD float64
	BaseCount, HeadCount       int
	Noun                       string
}

// Compare returns what changed from base to head.
func Compare(base, head *Report) Diff {
	d := Diff{Stack: head.Stack, Base: base, Head: head,
		DeltaUSD:        round(head.Money.TotalUSD-base.Money.TotalUSD, 2),
		DeltaAppServing: round(head.Time.AppServing-base.Time.AppServing, 2),
		DeltaWholeUp:    round(head.Time.WholeUp-base.Time.WholeUp, 2)}
	groups := map[string]*GroupDiff{}
	var order []string
	get := func(name string) *GroupDiff {
		if g, ok := groups[name]; ok {
			return g
		}
		groups[name] = &GroupDiff{Group: name}
		order = append(order, name)
		return groups[name]
	}
	for _, l := range base.Money.Lines {
		g := get(l.Group)
		g.BaseUSD += l.USD
		if l.Noun != "" {
			g.BaseCount, g.Noun = g.BaseCount+l.Count, l.Noun
		}
	}
	for _, l := range head.Money.Lines {
		g := get(l.Group)
		g.HeadUSD += l.USD
		if l.Noun != "" {
			g.HeadCount, g.Noun = g.HeadCount+l.Count, l.Noun
		}
	}
	for _, name := range order {
		g := groups[name]
		g.BaseUSD, g.HeadUSD = round(g.BaseUSD, 2), round(g.HeadUSD, 2)
		g.DeltaUSD = round(g.HeadUSD-g.BaseUSD, 2)
		if g.DeltaUSD != 0 || g.BaseCount != g.HeadCount {
			d.Groups = append(d.Groups, *g)
		}
	}
	sort.SliceStable(d.Groups, func(i, j int) bool { return math.Abs(d.Groups[i].DeltaUSD) > math.Abs(d.Groups[j].DeltaUSD) })
	return d
}

// Summary is one line: "prod: +$77/month (+2 NAT gateways); app serving 15.6 → 12.0 min (−3.6)".
func (d Diff) Summary() string {
	s := d.Stack + ": " + signedUSD(d.DeltaUSD) + "/month"
	var parts []string
	for _, g := range d.Groups {
		if g.BaseCount != g.HeadCount && g.Noun != "" {
			n := g.HeadCount - g.BaseCount
			parts = append(parts, fmt.Sprintf("%+d %s", n, nounFor(n, g.Noun)))
			continue
		}
		parts = append(parts, g.Group+" "+signedUSD(g.DeltaUSD))
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	s += fmt.Sprintf("; app serving %.1f → %.1f min, whole up %.1f → %.1f min",
		d.Base.Time.AppServing, d.Head.Time.AppServing, d.Base.Time.WholeUp, d.Head.Time.WholeUp)
	return s
}

func nounFor(n int, noun string) string {
	if n == 1 || n == -1 {
		return noun
	}
	return noun + "s"
}

// signedUSD prints a change of money: whole dollars from $10, cents below.
func signedUSD(v float64) string {
	sign := "+"
	if v < 0 {
		sign, v = "−", -v
	}
	if v >= 10 {
		return fmt.Sprintf("%s$%.0f", sign, v)
	}
	return fmt.Sprintf("%s$%.2f", sign, v)
}

// Markdown is the comparison as a table, for a pull-request comment.
func (d Diff) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", d.Summary())
	fmt.Fprintf(&b, "| | base | head | change |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| app serving (min) | %.1f | %.1f | %+.1f |\n", d.Base.Time.AppServing, d.Head.Time.AppServing, d.DeltaAppServing)
	fmt.Fprintf(&b, "| whole `up` (min) | %.1f | %.1f | %+.1f |\n", d.Base.Time.WholeUp, d.Head.Time.WholeUp, d.DeltaWholeUp)
	fmt.Fprintf(&b, "| monthly cost | %s | %s | %s |\n", usd(d.Base.Money.TotalUSD), usd(d.Head.Money.TotalUSD), signedUSD(d.DeltaUSD))
	for _, g := range d.Groups {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.Group, usd(g.BaseUSD), usd(g.HeadUSD), signedUSD(g.DeltaUSD))
	}
	return b.String()
}
