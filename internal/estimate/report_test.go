package estimate

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestTextMarksAssumptions: the printed report marks every line whose quantity is an assumption
// with *, and every price no offline source confirmed with †, and nothing else.
func TestTextMarksAssumptions(t *testing.T) {
	r, err := Estimate(Input{Stack: "t", Nodes: awsStack(false), Region: "eu-west-1", Usage: testUsage})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.Text(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, l := range r.Money.Lines {
		re := regexp.MustCompile(`(?m)^   (.) ` + regexp.QuoteMeta(l.Item) + ` .*× \$[0-9.]+(†?) `)
		m := re.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("no printed line for %q in:\n%s", l.Item, text)
			continue
		}
		if (m[1] == "*") != l.Assumption || (m[2] == "†") != l.PriceUnverified {
			t.Errorf("%q printed with %q and %q, want assumption=%v unverified=%v", l.Item, m[1], m[2], l.Assumption, l.PriceUnverified)
		}
	}
	for _, want := range []string{"app serving", "whole up", "Critical path of the whole up:", "Total $"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	var j bytes.Buffer
	if err := r.JSON(&j); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || back.Money.TotalUSD != r.Money.TotalUSD || len(back.Time.CriticalPath) != len(r.Time.CriticalPath) {
		t.Errorf("the JSON report does not read back (%v)", err)
	}
}

// TestPriceTables: every region's table is dated, has the same keys as the others, a price for
// every instance type the model knows, and an AWS pricing page for each figure.
func TestPriceTables(t *testing.T) {
	keys := func(tb PriceTable) string {
		var ks []string
		for k := range tb.Prices {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, " ")
	}
	first := ""
	for _, region := range Regions() {
		tb, err := Prices(region)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(tb.AsOf) {
			t.Errorf("%s: date %q", region, tb.AsOf)
		}
		if first == "" {
			first = keys(tb)
		} else if keys(tb) != first {
			t.Errorf("%s has keys %s, want %s", region, keys(tb), first)
		}
		for _, it := range instanceTypes() {
			for _, k := range []string{ec2Key(it), autoModeKey(it)} {
				if _, ok := tb.Prices[k]; !ok {
					t.Errorf("%s has no %s", region, k)
				}
			}
		}
		for k, p := range tb.Prices {
			if !strings.HasPrefix(p.Page, "https://aws.amazon.com/") || p.USD <= 0 || p.Unit == "" {
				t.Errorf("%s %s: %+v, want a positive price with a unit and its AWS pricing page", region, k, p)
			}
		}
	}
}

// TestUsageValidate: bad assumptions are refused with the key's name.
func TestUsageValidate(t *testing.T) {
	if err := DefaultUsage.Validate(); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
	bad := map[string]func(*Usage){
		"natGBPerMonth":  func(u *Usage) { u.NATGBPerMonth = -1 },
		"instanceType":   func(u *Usage) { u.InstanceType = "t3.nano" },
		"spotPriceRatio": func(u *Usage) { u.SpotPriceRatio = 0 },
	}
	for key, mutate := range bad {
		u := DefaultUsage
		mutate(&u)
		if err := u.Validate(); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("bad %s gave %v, want an error naming it", key, err)
		}
	}
}

// TestCompareReportsTime: the comparison carries the time change and prints both sides.
func TestCompareReportsTime(t *testing.T) {
	base := &Report{Stack: "prod", Time: Time{AppServing: 15.6, WholeUp: 18}, Money: Money{TotalUSD: 400, Lines: []Line{{Group: gNAT, USD: 35, Count: 1, Noun: "NAT gateway"}}}}
	head := &Report{Stack: "prod", Time: Time{AppServing: 12, WholeUp: 14.3}, Money: Money{TotalUSD: 470, Lines: []Line{{Group: gNAT, USD: 105, Count: 3, Noun: "NAT gateway"}}}}
	d := Compare(base, head)
	if got, want := d.Summary(), "prod: +$70/month (+2 NAT gateways); app serving 15.6 → 12.0 min, whole up 18.0 → 14.3 min"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	md := d.Markdown()
	for _, want := range []string{"| app serving (min) | 15.6 | 12.0 | -3.6 |", "| monthly cost | $400.00 | $470.00 | +$70 |", "| NAT gateways | $35.00 | $105.00 | +$70 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
