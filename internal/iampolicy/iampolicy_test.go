package iampolicy

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	p := MustParse(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/own/*"},
    {"Sid": "NotOthers", "Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::b/own/*", "arn:aws:s3:::b"]},
    {"Sid": "Tagged", "Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/Stack": "dev"}}},
    {"Sid": "OnlyDevTags", "Effect": "Deny", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:RequestTag/Stack": "dev"}}},
    {"Sid": "Aliases", "Effect": "Deny", "Action": "kms:*", "Resource": "*", "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/prod*"}}},
    {"Sid": "Boundary", "Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*", "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": "arn:b"}}}
  ]
}`)
	for _, tc := range []struct {
		action, resource string
		ctx              map[string][]string
		want             Effect
	}{
		{"s3:GetObject", "arn:aws:s3:::b/own/x", nil, Allow},
		{"S3:getobject", "arn:aws:s3:::b/own/x", nil, Allow}, // actions fold case
		{"s3:GetObject", "arn:aws:s3:::b/other/x", nil, Deny},
		{"s3:GetObject", "arn:aws:s3:::b/OWN/x", nil, Deny}, // resources do not
		{"ec2:CreateRoute", "*", map[string][]string{"aws:ResourceTag/Stack": {"dev"}}, Allow},
		{"ec2:CreateRoute", "*", map[string][]string{"aws:ResourceTag/Stack": {"prod"}}, NotApplicable},
		{"ec2:CreateRoute", "*", map[string][]string{"aws:resourcetag/stack": {"dev"}}, Allow}, // key names fold case
		{"ec2:CreateTags", "*", map[string][]string{"aws:ResourceTag/Stack": {"dev"}, "aws:RequestTag/Stack": {"prod"}}, Deny},
		{"ec2:CreateTags", "*", map[string][]string{"aws:ResourceTag/Stack": {"dev"}, "aws:RequestTag/Stack": {"dev"}}, Allow},
		{"ec2:CreateTags", "*", map[string][]string{"aws:ResourceTag/Stack": {"dev"}}, Deny}, // IfExists holds when the key is missing
		{"kms:Decrypt", "k", map[string][]string{"kms:ResourceAliases": {"alias/dev", "alias/prod-x"}}, Deny},
		{"kms:Decrypt", "k", map[string][]string{"kms:ResourceAliases": {"alias/dev"}}, NotApplicable},
		{"kms:Decrypt", "k", nil, NotApplicable}, // ForAnyValue over nothing is false
		{"iam:CreateRole", "r", nil, Deny},       // a negated operator holds when the key is missing
		{"iam:CreateRole", "r", map[string][]string{"iam:PermissionsBoundary": {"arn:b"}}, NotApplicable},
	} {
		if got := p.Decide(Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx}, false); got != tc.want {
			t.Errorf("%s %s %v: %v, want %v (matching %v)", tc.action, tc.resource, tc.ctx, got, tc.want,
				p.Matching(Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx}, false))
		}
	}
}

func TestAllowed(t *testing.T) {
	admin := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	boundary := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	sub := Subject{ARN: "arn:aws:iam::1:role/r", Identity: []*Policy{admin}, Boundary: boundary}
	if !Allowed(sub, nil, false, Request{Action: "s3:GetObject", Resource: "x"}) {
		t.Error("identity and boundary allow, but denied")
	}
	if Allowed(sub, nil, false, Request{Action: "ec2:RunInstances", Resource: "x"}) {
		t.Error("the boundary does not allow ec2, but allowed")
	}
	bucket := MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"x","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::1:role/ok-*"}}},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/reader"},"Action":"s3:GetObject","Resource":"y"}]}`)
	if Allowed(sub, bucket, false, Request{Action: "s3:GetObject", Resource: "x"}) {
		t.Error("the bucket policy denies this principal, but allowed")
	}
	if !Allowed(Subject{ARN: "arn:aws:iam::1:role/ok-1", Identity: []*Policy{admin}}, bucket, false, Request{Action: "s3:GetObject", Resource: "x"}) {
		t.Error("aws:PrincipalArn is not in the context")
	}
	if !Allowed(Subject{ARN: "arn:aws:iam::1:role/reader"}, bucket, false, Request{Action: "s3:GetObject", Resource: "y"}) {
		t.Error("a resource policy naming the principal does not grant on its own")
	}
	key := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/user"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	if Allowed(sub, key, true, Request{Action: "kms:Decrypt", Resource: "k"}) {
		t.Error("a key policy without the account's root lets identity policies grant")
	}
	rootKey := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"kms:*","Resource":"*"}]}`)
	if !Allowed(Subject{ARN: "arn:aws:iam::1:role/r", Identity: []*Policy{admin}}, rootKey, true, Request{Action: "kms:Decrypt", Resource: "k"}) {
		t.Error("a key policy trusting the account does not delegate to identity policies")
	}
	if Allowed(Subject{ARN: "arn:aws:iam::2:role/r", Identity: []*Policy{admin}}, rootKey, true, Request{Action: "kms:Decrypt", Resource: "k"}) {
		t.Error("another account's principal passes a key policy that trusts account 1")
	}
}

func TestParseRefuses(t *testing.T) {
	for doc, want := range map[string]string{
		`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`:                                                    "Version",
		`{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`:                                                    "Effect",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":"1"}}}]}`:          "not evaluated here",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"a":"1"}}}]}`: "condition operator",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`:                                                                 "exactly one of Action",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Unknown":1}]}`:                                        "unknown field",
		`{"Version":"2012-10-17","Statement":[]}`:                                                                                                  "no statements",
	} {
		if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s): %v, want an error containing %q", doc, err, want)
		}
	}
}
