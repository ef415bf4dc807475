// Package iampolicy evaluates AWS IAM policy documents for tests: does a principal get to make a
// request, given its identity policies, its permissions boundary and the resource's policy
// (a key policy, a bucket policy, a secret's resource policy)?
//
// It follows AWS's evaluation logic for requests within one account
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
// an explicit Deny in any policy wins; otherwise an identity-policy Allow counts only if the
// permissions boundary (when there is one) allows the request too; a resource-policy Allow that
// names the principal counts on its own. KMS is the exception AWS documents: a key policy must
// allow the request, directly or by trusting the account (its root principal) so that identity
// policies apply (https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html).
//
// Only what this repository's policies use is implemented: Action/NotAction, Resource/NotResource,
// AWS principals, and the condition operators String(Not)Equals, String(Not)Like, Arn(Not)Like,
// Arn(Not)Equals, Bool and Null, each with IfExists and the ForAnyValue:/ForAllValues: set
// prefixes. Anything else is an error, never a silent match: a test of a policy this package
// cannot read fails.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Policy is one policy document.
type Policy struct {
	Version   string      `json:"Version"`
	ID        string      `json:"Id,omitempty"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid          string                     `json:"Sid,omitempty"`
	Effect       string                     `json:"Effect"`
	Principal    *Principal                 `json:"Principal,omitempty"`
	NotPrincipal *Principal                 `json:"NotPrincipal,omitempty"`
	Action       List                       `json:"Action,omitempty"`
	NotAction    List                       `json:"NotAction,omitempty"`
	Resource     List                       `json:"Resource,omitempty"`
	NotResource  List                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string]List `json:"Condition,omitempty"`
}

// List is a JSON string or list of strings.
type List []string

// UnmarshalJSON accepts "x" and ["x", "y"].
func (l *List) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = List{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*l = many
	return nil
}

// Principal is a statement's Principal: "*" or {"AWS": ..., "Service": ..., "Federated": ...}.
type Principal struct {
	Any       bool
	AWS       List `json:"AWS,omitempty"`
	Service   List `json:"Service,omitempty"`
	Federated List `json:"Federated,omitempty"`
}

// UnmarshalJSON accepts "*" and the map form.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "*" {
			return fmt.Errorf("principal %q: want \"*\" or a map", s)
		}
		p.Any = true
		return nil
	}
	type plain Principal
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var q plain
	if err := dec.Decode(&q); err != nil {
		return fmt.Errorf("principal %s: %w", b, err)
	}
	*p = Principal(q)
	return nil
}

// Parse reads a policy document and rejects fields, effects and operators this package does
// not evaluate.
func Parse(doc []byte) (*Policy, error) {
	// Policy's own fields decode the document (omitempty only shapes encoding).
	var raw Policy
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if raw.Version != "2012-10-17" {
		return nil, fmt.Errorf("policy: Version %q, want 2012-10-17", raw.Version)
	}
	p := &Policy{Version: raw.Version, ID: raw.ID}
	for i, s := range raw.Statement {
		where := fmt.Sprintf("statement %d (%s)", i, s.Sid)
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, fmt.Errorf("%s: Effect %q", where, s.Effect)
		}
		if (len(s.Action) == 0) == (len(s.NotAction) == 0) {
			return nil, fmt.Errorf("%s: want exactly one of Action and NotAction", where)
		}
		if len(s.Resource) > 0 && len(s.NotResource) > 0 {
			return nil, fmt.Errorf("%s: both Resource and NotResource", where)
		}
		if s.NotPrincipal != nil {
			return nil, fmt.Errorf("%s: NotPrincipal is not evaluated here", where)
		}
		for op := range s.Condition {
			if _, _, _, err := parseOperator(op); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		p.Statement = append(p.Statement, s)
	}
	if len(p.Statement) == 0 {
		return nil, fmt.Errorf("policy has no statements")
	}
	return p, nil
}

// MustParse is Parse for tests' literals.
func MustParse(doc string) *Policy {
	p, err := Parse([]byte(doc))
	if err != nil {
		panic(err)
	}
	return p
}

// Request is one API call: who makes it, the action ("s3:GetObject"), the resource ARN, and
// the condition keys of its request context (multi-valued keys have several values).
type Request struct {
	Principal string
	Action    string
	Resource  string
	Context   map[string][]string
}

// Effect of a policy on a request.
type Effect int

const (
	// NotApplicable: no statement matches.
	NotApplicable Effect = iota
	Allow
	Deny
)

func (e Effect) String() string {
	return [...]string{"not applicable", "allow", "deny"}[e]
}

// Decide returns Deny if any statement denies the request, else Allow if one allows it, else
// NotApplicable. forResource: the policy is a resource policy, whose statements must name the
// principal; identity policies and boundaries have no Principal.
func (p *Policy) Decide(r Request, forResource bool) Effect {
	out := NotApplicable
	for _, s := range p.Statement {
		if !s.matches(r, forResource) {
			continue
		}
		if s.Effect == "Deny" {
			return Deny
		}
		out = Allow
	}
	return out
}

// Matching returns the Sids of the statements that match the request, for messages.
func (p *Policy) Matching(r Request, forResource bool) []string {
	var out []string
	for _, s := range p.Statement {
		if s.matches(r, forResource) {
			out = append(out, s.Effect+":"+s.Sid)
		}
	}
	return out
}

func (s Statement) matches(r Request, forResource bool) bool {
	if forResource {
		if s.Principal == nil || !s.Principal.matches(r.Principal) {
			return false
		}
	}
	if len(s.Action) > 0 && !anyMatch(s.Action, r.Action, true) {
		return false
	}
	if len(s.NotAction) > 0 && anyMatch(s.NotAction, r.Action, true) {
		return false
	}
	if len(s.Resource) > 0 && !anyMatch(s.Resource, r.Resource, false) {
		return false
	}
	if len(s.NotResource) > 0 && anyMatch(s.NotResource, r.Resource, false) {
		return false
	}
	for op, kv := range s.Condition {
		for key, values := range kv {
			if !condition(op, key, values, r.Context) {
				return false
			}
		}
	}
	return true
}

func (p *Principal) matches(arn string) bool {
	if p.Any {
		return true
	}
	for _, a := range p.AWS {
		if a == "*" || a == arn {
			return true
		}
		// "arn:aws:iam::<account>:root" (or the bare account ID) trusts the account: the
		// identity policies of its principals decide (trustsAccount), it names none of them.
	}
	return false
}

// trustsAccount reports whether a resource policy statement allows the request for any
// principal of account through the account's root (delegating to identity policies).
func (p *Policy) trustsAccount(r Request, account string) bool {
	for _, s := range p.Statement {
		if s.Effect != "Allow" || s.Principal == nil {
			continue
		}
		root := false
		for _, a := range s.Principal.AWS {
			if a == "arn:aws:iam::"+account+":root" || a == account {
				root = true
			}
		}
		if !root {
			continue
		}
		s2 := s
		s2.Principal = &Principal{Any: true}
		if s2.matches(r, true) {
			return true
		}
	}
	return false
}

// Subject is everything that decides what one principal may do.
type Subject struct {
	// ARN is the principal's ARN (a role's, not its session's).
	ARN string
	// Identity are its identity policies; Boundary its permissions boundary, nil for none.
	Identity []*Policy
	Boundary *Policy
}

// Allowed evaluates r.Principal = sub.ARN against sub's policies and the resource's policy
// (nil for none), following the package comment. kms: the resource is a KMS key and resource is
// its key policy.
func Allowed(sub Subject, resource *Policy, kms bool, r Request) bool {
	r.Principal = sub.ARN
	// aws:PrincipalArn is in every request's context: the role's ARN for a role session.
	ctx := map[string][]string{"aws:PrincipalArn": {sub.ARN}}
	for k, v := range r.Context {
		ctx[k] = v
	}
	r.Context = ctx
	all := append([]*Policy{}, sub.Identity...)
	if sub.Boundary != nil {
		all = append(all, sub.Boundary)
	}
	for _, p := range all {
		if p.Decide(r, false) == Deny {
			return false
		}
	}
	if resource != nil && resource.Decide(r, true) == Deny {
		return false
	}
	identity := false
	for _, p := range sub.Identity {
		if p.Decide(r, false) == Allow {
			identity = true
		}
	}
	if identity && sub.Boundary != nil && sub.Boundary.Decide(r, false) != Allow {
		identity = false
	}
	direct := resource != nil && resource.Decide(r, true) == Allow
	if kms {
		if resource == nil {
			return false
		}
		return direct || (identity && resource.trustsAccount(r, account(sub.ARN)))
	}
	return identity || direct
}

func account(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its set prefix, base operator and
// IfExists flag.
func parseOperator(op string) (set, base string, ifExists bool, err error) {
	base = op
	if s, rest, ok := strings.Cut(op, ":"); ok {
		if s != "ForAnyValue" && s != "ForAllValues" {
			return "", "", false, fmt.Errorf("condition operator %q", op)
		}
		set, base = s, rest
	}
	base, ifExists = strings.CutSuffix(base, "IfExists")
	switch base {
	case "StringEquals", "StringNotEquals", "StringLike", "StringNotLike",
		"ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals", "Bool", "Null":
		return set, base, ifExists, nil
	}
	return "", "", false, fmt.Errorf("condition operator %q is not evaluated here", op)
}

// condition evaluates one operator/key pair against the request context.
func condition(op, key string, values List, ctx map[string][]string) bool {
	set, base, ifExists, err := parseOperator(op)
	if err != nil {
		return false // Parse refuses such policies; unreachable for parsed ones.
	}
	got, present := lookup(ctx, key)
	if base == "Null" {
		want := values[0] == "true"
		return want != present
	}
	if !present {
		// A missing key: IfExists conditions hold; negated operators hold too (AWS evaluates
		// "not equal to any" of nothing as true); ForAllValues holds over the empty set.
		return ifExists || set == "ForAllValues" || strings.Contains(base, "Not")
	}
	one := func(v string) bool {
		switch base {
		case "StringEquals", "ArnEquals", "Bool":
			return contains(values, v, false)
		case "StringNotEquals", "ArnNotEquals":
			return !contains(values, v, false)
		case "StringLike", "ArnLike":
			return contains(values, v, true)
		case "StringNotLike", "ArnNotLike":
			return !contains(values, v, true)
		}
		return false
	}
	switch set {
	case "ForAllValues":
		for _, v := range got {
			if !one(v) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, v := range got {
			if one(v) {
				return true
			}
		}
		return false
	}
	// A single-valued key.
	return len(got) == 1 && one(got[0])
}

func lookup(ctx map[string][]string, key string) ([]string, bool) {
	for k, v := range ctx {
		// Condition key names are case-insensitive; values are not.
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func contains(patterns List, v string, wildcard bool) bool {
	for _, p := range patterns {
		if wildcard && globMatch(p, v, false) || !wildcard && p == v {
			return true
		}
	}
	return false
}

func anyMatch(patterns List, v string, fold bool) bool {
	for _, p := range patterns {
		if globMatch(p, v, fold) {
			return true
		}
	}
	return false
}

// globMatch matches IAM wildcards: * any run of characters (slashes and colons included),
// ? one character. Actions compare case-insensitively, everything else exactly.
func globMatch(pattern, v string, fold bool) bool {
	var b strings.Builder
	b.WriteString("^")
	if fold {
		b.WriteString("(?i)")
	}
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()).MatchString(v)
}
