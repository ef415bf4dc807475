package workflowcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The repository's CI rules (docs/ci.md), checked on the workflow files themselves.

const workflowsDir = "../../.github/workflows"

func repoWorkflows(t *testing.T) Set {
	t.Helper()
	s, err := Load(workflowsDir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	usesLine = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(?:#\s*(.*))?$`)
	pinned   = regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	release  = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
)

// Every third-party action and remote reusable workflow is pinned by a full commit SHA, with
// the release it was taken from in a comment (`@<sha> # v1.2.3`), so a moved tag cannot change
// what runs with a cloud role, and Dependabot can move pin and comment together.
func TestActionsArePinnedBySHA(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			m := usesLine.FindStringSubmatch(line)
			if m == nil || strings.HasPrefix(m[1], "./") || strings.HasPrefix(m[1], "docker://") {
				continue
			}
			n++
			where := fmt.Sprintf("%s:%d: %s", filepath.Base(file), i+1, strings.TrimSpace(line))
			if !pinned.MatchString(m[1]) {
				t.Errorf("%s: not pinned by a 40-hex commit SHA", where)
			}
			if !release.MatchString(strings.TrimSpace(m[2])) {
				t.Errorf("%s: the comment must name the release tag of the SHA (# vX.Y.Z)", where)
			}
		}
	}
	if n == 0 {
		t.Error("no third-party uses: found; the pattern is broken")
	}
}

// actions/checkout leaves no token in .git/config for later steps (and the code they run).
func TestCheckoutPersistsNoCredentials(t *testing.T) {
	n := 0
	eachJob(repoWorkflows(t), func(w *Workflow, j *Job) {
		for _, s := range j.Steps {
			if !strings.HasPrefix(s.Uses, "actions/checkout@") {
				continue
			}
			n++
			if v, ok := s.With["persist-credentials"]; !ok || v != false {
				t.Errorf("%s job %q: actions/checkout without persist-credentials: false", w.File, j.ID)
			}
		}
	})
	if n == 0 {
		t.Error("no actions/checkout step found")
	}
}

// dev and prod encrypt their secrets with KMS; no workflow hands out a passphrase.
func TestNoPassphraseInWorkflows(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "PULUMI_CONFIG_PASSPHRASE") {
			t.Errorf("%s mentions PULUMI_CONFIG_PASSPHRASE", filepath.Base(file))
		}
	}
}

// pulumiStep returns the job's pulumi/actions step, if any.
func pulumiStep(j *Job) (Step, bool) {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "pulumi/actions@") {
			return s, true
		}
	}
	return Step{}, false
}

func TestPulumiJobs(t *testing.T) {
	ups := 0
	eachJob(repoWorkflows(t), func(w *Workflow, j *Job) {
		step, ok := pulumiStep(j)
		if !ok {
			return
		}
		where := fmt.Sprintf("%s job %q", w.File, j.ID)
		// OIDC roles are per environment: the token's sub names the environment, and the role
		// trusts only that sub.
		if j.Permissions == nil || j.Permissions.Level("id-token") != Write {
			t.Errorf("%s: runs pulumi without id-token: write (OIDC to AWS)", where)
		}
		if env, _ := j.Raw["environment"].(string); env == "" {
			t.Errorf("%s: runs pulumi outside an environment, so its OIDC sub names no environment", where)
		}
		// A stack that can be prod runs where prod's private API endpoint is reachable.
		if stack, _ := step.With["stack-name"].(string); stack != "dev" {
			if runsOn, _ := j.Raw["runs-on"].(string); !strings.Contains(runsOn, "vars.PROD_RUNS_ON") {
				t.Errorf("%s: stack %q may be prod, but runs-on %v does not use vars.PROD_RUNS_ON", where, stack, j.Raw["runs-on"])
			}
		}
		if step.With["command"] != "up" {
			return
		}
		ups++
		if cond, _ := j.Raw["if"].(string); !strings.Contains(cond, "github.ref == 'refs/heads/main'") {
			t.Errorf("%s: `pulumi up` without if: github.ref == 'refs/heads/main'", where)
		}
		c, _ := j.Raw["concurrency"].(map[string]any)
		if group, _ := c["group"].(string); !strings.Contains(group, "inputs.stack") || c["cancel-in-progress"] != false {
			t.Errorf("%s: `pulumi up` needs concurrency {group: deploy-<stack>, cancel-in-progress: false}, has %v", where, j.Raw["concurrency"])
		}
	})
	if ups != 1 {
		t.Errorf("%d jobs run pulumi up, want 1 (deploy.yml)", ups)
	}
}

// Write tokens are rare, and none sits in a job with cloud credentials: each (workflow, job,
// scope) that may write is listed here with the reason.
var writeAllowed = map[[3]string]string{
	{"preview.yml", "comment", "pull-requests"}:  "the dev plan's comment, in a job that runs no pull request code",
	{"deploy.yml", "comment", "pull-requests"}:   "the prod plan's comment, in a job that runs no pull request code",
	{"drift.yml", "report", "issues"}:            "the drift issues, in a job without cloud credentials",
	{"estimate.yml", "comment", "pull-requests"}: "the estimate's comment, in a job that runs no pull request code and has no cloud credentials",
	{"deploy.yml", "up", "id-token"}:             "OIDC",
	{"deploy.yml", "preview", "id-token"}:        "OIDC",
	{"preview.yml", "dev", "id-token"}:           "OIDC",
	{"drift.yml", "detect", "id-token"}:          "OIDC",
}

func TestWriteTokensAreRare(t *testing.T) {
	eachJob(repoWorkflows(t), func(w *Workflow, j *Job) {
		p := j.Permissions
		if p == nil {
			p = w.Permissions
		}
		if p == nil {
			t.Errorf("%s job %q: no permissions at the job or the workflow", w.File, j.ID)
			return
		}
		if p.All != None {
			t.Errorf("%s job %q: %s", w.File, j.ID, p)
		}
		for sc, l := range p.Scopes {
			if l == Write {
				if _, ok := writeAllowed[[3]string{w.File, j.ID, sc}]; !ok {
					t.Errorf("%s job %q: %s: write", w.File, j.ID, sc)
				}
			}
		}
		if p.Level("id-token") == Write && (p.Level("pull-requests") == Write || p.Level("issues") == Write || p.Level("contents") == Write) {
			t.Errorf("%s job %q: a write token next to cloud credentials (%s)", w.File, j.ID, p)
		}
	})
}
