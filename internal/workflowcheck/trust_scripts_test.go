package workflowcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The trust scripts (.github/check-reviewed-pr, detect-drift, report-drift, comment-plan,
// ci-image), run for real with stand-ins for gh and pulumi that log their arguments.

const (
	reviewedSHA = "0123456789abcdef0123456789abcdef01234567"
	otherSHA    = "89abcdef0123456789abcdef0123456789abcdef"
)

// ghStub answers `gh api graphql ...` with $STUB_JSON and `gh issue list ...` with
// $STUB_ISSUES, and appends every call (and the body file's content) to $STUB_LOG.
const ghStub = `printf '%s\n' "gh $*" >>"$STUB_LOG"
prev=
for a in "$@"; do
	if [ "$prev" = "--body-file" ]; then printf 'BODY<<\n%s\n>>BODY\n' "$(cat "$a")" >>"$STUB_LOG"; fi
	prev=$a
done
case "$1 $2" in
"api graphql") printf '%s\n' "$STUB_JSON" ;;
"issue list") printf '%s\n' "${STUB_ISSUES:-[]}" ;;
esac
`

// prJSON is GitHub's GraphQL answer for a pull request.
func prJSON(t *testing.T, mutate func(pr map[string]any)) string {
	t.Helper()
	pr := map[string]any{
		"state": "OPEN", "baseRefName": "main", "headRefOid": reviewedSHA, "isCrossRepository": false,
		"reviewDecision": "APPROVED", "author": map[string]any{"login": "alice"},
		"latestOpinionatedReviews": map[string]any{"nodes": []any{
			map[string]any{"state": "APPROVED", "author": map[string]any{"login": "bob"}, "commit": map[string]any{"oid": reviewedSHA}},
		}},
	}
	if mutate != nil {
		mutate(pr)
	}
	b, err := json.Marshal(map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": pr}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckReviewedPR(t *testing.T) {
	needTools(t, "bash", "jq")
	dir := t.TempDir()
	stub(t, dir, "gh", ghStub)
	log := filepath.Join(dir, "log")
	for _, tc := range []struct {
		name    string
		args    []string
		mutate  func(pr map[string]any)
		code    int
		message string
	}{
		{"head is the reviewed commit, approved there by a code owner", []string{"42", reviewedSHA}, nil, 0, "approved at that commit by: bob"},
		{"pushed to after the review", []string{"42", reviewedSHA}, func(pr map[string]any) { pr["headRefOid"] = otherSHA }, 1, "its head is " + otherSHA},
		{"GitHub's decision is not APPROVED", []string{"42", reviewedSHA}, func(pr map[string]any) { pr["reviewDecision"] = "REVIEW_REQUIRED" }, 1, "review decision is 'REVIEW_REQUIRED'"},
		{"no review decision (branch protection without reviews)", []string{"42", reviewedSHA}, func(pr map[string]any) { pr["reviewDecision"] = nil }, 1, "review decision is 'none'"},
		{"the approval names an older commit", []string{"42", reviewedSHA}, func(pr map[string]any) {
			pr["latestOpinionatedReviews"] = map[string]any{"nodes": []any{map[string]any{"state": "APPROVED", "author": map[string]any{"login": "bob"}, "commit": map[string]any{"oid": otherSHA}}}}
		}, 1, "no approval names commit " + reviewedSHA},
		{"the author approved their own pull request", []string{"42", reviewedSHA}, func(pr map[string]any) {
			pr["latestOpinionatedReviews"] = map[string]any{"nodes": []any{map[string]any{"state": "APPROVED", "author": map[string]any{"login": "alice"}, "commit": map[string]any{"oid": reviewedSHA}}}}
		}, 1, "no approval names commit"},
		{"changes requested", []string{"42", reviewedSHA}, func(pr map[string]any) {
			pr["latestOpinionatedReviews"] = map[string]any{"nodes": []any{map[string]any{"state": "CHANGES_REQUESTED", "author": map[string]any{"login": "bob"}, "commit": map[string]any{"oid": reviewedSHA}}}}
		}, 1, "no approval names commit"},
		{"from a fork", []string{"42", reviewedSHA}, func(pr map[string]any) { pr["isCrossRepository"] = true }, 1, "comes from a fork"},
		{"merged already", []string{"42", reviewedSHA}, func(pr map[string]any) { pr["state"] = "MERGED" }, 1, "is MERGED, not open"},
		{"against another branch", []string{"42", reviewedSHA}, func(pr map[string]any) { pr["baseRefName"] = "release" }, 1, "targets release, not main"},
		{"a short SHA", []string{"42", reviewedSHA[:7]}, nil, 2, "not a full 40-character commit SHA"},
		{"shell in the SHA", []string{"42", "$(touch /tmp/x)"}, nil, 2, "not a full 40-character commit SHA"},
		{"not a number", []string{"4x", reviewedSHA}, nil, 2, "is not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(log)
			env := []string{"STUB_LOG=" + log, "STUB_JSON=" + prJSON(t, tc.mutate), "GITHUB_REPOSITORY=example/flask-eks"}
			out, errOut, code := run(t, dir, env, "check-reviewed-pr", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.message) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", code, tc.code, out, errOut, tc.message)
			}
			calls, _ := os.ReadFile(log)
			if tc.code != 2 && !strings.Contains(string(calls), "gh api graphql") || tc.code != 2 && !strings.Contains(string(calls), "number=42") {
				t.Errorf("gh calls: %s", calls)
			}
		})
	}
}

// pulumiStub stands in for `pulumi preview`: it logs its arguments, prints $STUB_PLAN and exits
// $STUB_EXIT.
const pulumiStub = `printf '%s\n' "pulumi $*" >>"$STUB_LOG"
printf '%s\n' "$STUB_PLAN"
exit "${STUB_EXIT:-0}"
`

func TestDetectDrift(t *testing.T) {
	needTools(t, "bash")
	dir := t.TempDir()
	stub(t, dir, "pulumi", pulumiStub)
	log := filepath.Join(dir, "log")
	for _, tc := range []struct {
		name, plan, exit, status string
		code                     int
	}{
		{"in line", "Resources:\n    98 unchanged", "0", "clean", 0},
		{"drifted", "~ aws:ec2/securityGroup:SecurityGroup cluster update [diff: ~ingress]\nerror: no changes were expected but changes were proposed", "255", "drift", 1},
		{"credentials expired", "error: failed to load checkpoint: AccessDenied", "255", "error", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(log)
			out := filepath.Join(t.TempDir(), "out")
			env := []string{"STUB_LOG=" + log, "STUB_PLAN=" + tc.plan, "STUB_EXIT=" + tc.exit, "PULUMI_BACKEND_URL=s3://acme-pulumi-state"}
			stdout, stderr, code := run(t, dir, env, "detect-drift", "prod", out)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			status, _ := os.ReadFile(filepath.Join(out, "status"))
			plan, _ := os.ReadFile(filepath.Join(out, "plan.txt"))
			stack, _ := os.ReadFile(filepath.Join(out, "stack"))
			if strings.TrimSpace(string(status)) != tc.status || !strings.Contains(string(plan), tc.plan) || strings.TrimSpace(string(stack)) != "prod" {
				t.Errorf("status %q (want %s), stack %q, plan %q", status, tc.status, stack, plan)
			}
			calls, _ := os.ReadFile(log)
			want := "pulumi preview --stack prod --refresh --expect-no-changes --diff --non-interactive --color never --suppress-progress\n"
			if string(calls) != want {
				t.Errorf("pulumi was run as\n%s\nwant\n%s", calls, want)
			}
			if strings.Contains(string(calls), "show-secrets") {
				t.Error("detect-drift asks for secrets in plain text")
			}
		})
	}
	if _, _, code := run(t, dir, []string{"STUB_LOG=" + log}, "detect-drift", "prod", t.TempDir()); code != 1 {
		t.Errorf("without PULUMI_BACKEND_URL: exit %d, want 1", code)
	}
}

func TestReportDrift(t *testing.T) {
	needTools(t, "bash", "jq")
	dir := t.TempDir()
	stub(t, dir, "gh", ghStub)
	log := filepath.Join(dir, "log")
	results := func(t *testing.T, status, plan string) string {
		d := t.TempDir()
		for f, v := range map[string]string{"stack": "prod\n", "status": status + "\n", "plan.txt": plan} {
			if err := os.WriteFile(filepath.Join(d, f), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	open := `[{"number":7,"title":"Drift in the prod stack"},{"number":8,"title":"Drift in the dev stack"}]`
	env := func(issues string) []string {
		return []string{"STUB_LOG=" + log, "STUB_ISSUES=" + issues, "GITHUB_REPOSITORY=example/flask-eks", "GITHUB_RUN_ID=99"}
	}
	plan := "~ aws:ec2/securityGroup:SecurityGroup cluster update\n    password: [secret]\n"
	for _, tc := range []struct {
		name, status, issues string
		want, not            []string
	}{
		{"new drift opens the issue", "drift", "[]",
			[]string{"gh label create drift", `gh issue create --repo example/flask-eks --title Drift in the prod stack --label drift --body-file`, "password: [secret]", "actions/runs/99"},
			[]string{"gh issue edit", "gh issue close"}},
		{"known drift updates the open issue", "drift", open,
			[]string{"gh issue edit 7 --repo example/flask-eks --body-file", "security"},
			[]string{"gh issue create", "gh issue edit 8"}},
		{"back in line closes the issue", "clean", open,
			[]string{"gh issue close 7 --repo example/flask-eks --comment"},
			[]string{"gh issue create", "gh issue edit", "gh issue close 8"}},
		{"in line, nothing open", "clean", "[]", nil, []string{"gh issue create", "gh issue edit", "gh issue close"}},
		{"a failed check leaves the issue alone", "error", open, nil, []string{"gh issue create", "gh issue edit", "gh issue close"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(log)
			out, errOut, code := run(t, dir, env(tc.issues), "report-drift", results(t, tc.status, plan))
			calls, _ := os.ReadFile(log)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(calls), w) {
					t.Errorf("gh calls lack %q:\n%s", w, calls)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(calls), n) {
					t.Errorf("gh calls have %q:\n%s", n, calls)
				}
			}
		})
	}
	t.Run("a long plan is cut to fit an issue", func(t *testing.T) {
		os.Remove(log)
		if _, errOut, code := run(t, dir, env("[]"), "report-drift", results(t, "drift", strings.Repeat("x", 100_000))); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		calls, _ := os.ReadFile(log)
		body := string(calls)[strings.Index(string(calls), "BODY<<"):]
		if len(body) > 65_536 || !strings.Contains(body, "artifact drift-prod") {
			t.Errorf("body of %d bytes, want at most 65536 and a pointer to the artifact", len(body))
		}
	})
}

func TestCommentPlan(t *testing.T) {
	needTools(t, "bash")
	dir := t.TempDir()
	stub(t, dir, "gh", ghStub)
	log := filepath.Join(dir, "log")
	plan := filepath.Join(dir, "plan.txt")
	if err := os.WriteFile(plan, []byte("+ kubernetes:core/v1:Secret app create\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"STUB_LOG=" + log, "GITHUB_REPOSITORY=example/flask-eks", "GITHUB_RUN_ID=5"}
	if _, errOut, code := run(t, dir, env, "comment-plan", "prod", "42", reviewedSHA, plan); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	calls, _ := os.ReadFile(log)
	for _, w := range []string{"gh pr comment 42 --repo example/flask-eks --body-file", "of " + reviewedSHA + " against prod", "Secret app create", "actions/runs/5"} {
		if !strings.Contains(string(calls), w) {
			t.Errorf("comment lacks %q:\n%s", w, calls)
		}
	}
	if _, _, code := run(t, dir, env, "comment-plan", "prod", "42", "main", plan); code != 2 {
		t.Errorf("a ref instead of a SHA: exit %d, want 2", code)
	}
}

func TestCIImage(t *testing.T) {
	needTools(t, "bash", "sed")
	out, errOut, code := run(t, t.TempDir(), nil, "ci-image")
	if code != 0 || !strings.HasPrefix(out, "image=golang:1.26-bookworm@sha256:") {
		t.Errorf("the repository's .ci/image/Dockerfile: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		file string
		code int
	}{
		"by tag only":     {"FROM golang:1.26-bookworm\n", 1},
		"by digest only":  {"FROM golang@sha256:" + strings.Repeat("a", 64) + "\n", 1},
		"two stages":      {"FROM golang:1.26-bookworm@sha256:" + strings.Repeat("a", 64) + "\nFROM debian:bookworm@sha256:" + strings.Repeat("b", 64) + "\n", 1},
		"tag and digest":  {"# comment\nFROM golang:1.26-bookworm@sha256:" + strings.Repeat("c", 64) + "\n", 0},
		"no such file":    {"", 1},
		"shell in a line": {"FROM golang:1.26-bookworm@sha256:" + strings.Repeat("d", 64) + ";id\n", 1},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if tc.file != "" {
			if err := os.WriteFile(f, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, errOut, code := run(t, dir, nil, "ci-image", f); code != tc.code {
			t.Errorf("%s: exit %d, want %d (%s)", name, code, tc.code, errOut)
		}
	}
}
