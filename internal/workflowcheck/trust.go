package workflowcheck

// The trust rules of docs/ci.md, "Who can reach prod": which jobs may name the prod runner or
// a prod environment, how a pull request reaches the prod preview, and who opens pull requests.
// Each rule returns one line per problem; the tests apply them to the repository's workflows and
// to small counter-examples.
//
// These rules keep the repository's own files honest. They are not the fence: a pull request
// can edit its own copy of a workflow (and of this package). The fences are server-side: the
// prod runner group admits only jobs defined in ProdRunnerWorkflows at refs/heads/main, the prod
// environments admit only main, and each OIDC role trusts only its environment's token subject.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ProdRunnerWorkflows are the workflows whose jobs may run on the prod runner. The prod runner
// group is restricted to exactly these files at refs/heads/main (docs/ci.md), and GitHub gives
// the group only to jobs defined directly in them, never to a reusable workflow they call.
var ProdRunnerWorkflows = []string{"deploy.yml", "drift.yml"}

// mainRef is the condition every job that may touch prod starts with.
const mainRef = "github.ref == 'refs/heads/main'"

// MainOnly reports whether a job's `if:` runs the job only on refs/heads/main: the condition is
// `github.ref == 'refs/heads/main'`, alone or as the first of top-level `&&` terms (a top-level
// `||` would let another ref through, as && binds tighter than ||).
func MainOnly(cond string) bool {
	cond = strings.TrimSpace(cond)
	if inner, ok := strings.CutPrefix(cond, "${{"); ok {
		cond = strings.TrimSpace(strings.TrimSuffix(inner, "}}"))
	}
	rest, ok := strings.CutPrefix(cond, mainRef)
	if !ok {
		return false
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return true
	}
	return strings.HasPrefix(rest, "&&") && !topLevelOr(rest)
}

// topLevelOr reports whether expr has a `||` outside parentheses and quotes.
func topLevelOr(expr string) bool {
	depth, quoted := 0, false
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0 && i+1 < len(expr) && expr[i+1] == '|':
			return true
		}
	}
	return false
}

// mainOnlyTriggers lists the ways w can start other than push to main, workflow_dispatch and
// schedule (the last two run a workflow file from a branch the runner chooses: dispatch from any
// branch the caller picks, so the jobs' `if:` still has to check the ref).
func mainOnlyTriggers(w *Workflow) []string {
	var bad []string
	for _, t := range w.Triggers {
		switch t {
		case "workflow_dispatch", "schedule":
		case "push":
			push, _ := w.On["push"].(map[string]any)
			branches, _ := push["branches"].([]any)
			if len(push) != 1 || len(branches) != 1 || branches[0] != "main" {
				bad = append(bad, "push to anything but branches: [main]")
			}
		default:
			bad = append(bad, t)
		}
	}
	return bad
}

var prodRunnerMarkers = []string{"PROD_RUNS_ON", "flask-eks-prod", "self-hosted", `"group"`}

// NamesProdRunner reports whether a job's runs-on can select the prod runner: the
// PROD_RUNS_ON variable, the flask-eks-prod label or group, any self-hosted label, or a group.
func NamesProdRunner(j *Job) bool {
	b, _ := json.Marshal(j.Raw["runs-on"])
	return slices.ContainsFunc(prodRunnerMarkers, func(m string) bool { return strings.Contains(string(b), m) })
}

// ProdRunnerProblems: only main-only jobs of ProdRunnerWorkflows name the prod runner, and
// those workflows start only from main (push, dispatch, schedule) and cannot be called.
func ProdRunnerProblems(s Set) []string {
	var out []string
	eachJob(s, func(w *Workflow, j *Job) {
		if !NamesProdRunner(j) {
			return
		}
		where := fmt.Sprintf("%s job %q", w.File, j.ID)
		if !slices.Contains(ProdRunnerWorkflows, w.File) {
			out = append(out, fmt.Sprintf("%s: names the prod runner (runs-on %v), but only jobs of %v may; the runner group admits no other workflow", where, j.Raw["runs-on"], ProdRunnerWorkflows))
			return
		}
		if bad := mainOnlyTriggers(w); len(bad) > 0 {
			out = append(out, fmt.Sprintf("%s: names the prod runner in a workflow that also starts on %v", where, bad))
		}
		if cond, _ := j.Raw["if"].(string); !MainOnly(cond) {
			out = append(out, fmt.Sprintf("%s: names the prod runner without `if: %s && ...` (has %q)", where, mainRef, cond))
		}
	})
	return out
}

// environment returns the job's environment name (string or {name: ...}), "" without one.
func environment(j *Job) string {
	switch e := j.Raw["environment"].(type) {
	case string:
		return e
	case map[string]any:
		n, _ := e["name"].(string)
		return n
	}
	return ""
}

// ProdEnvironmentProblems: a job that may use a prod environment (prod, prod-preview,
// prod-drift, or an expression that may yield one) runs only from main, in a workflow that starts
// only from main.
func ProdEnvironmentProblems(s Set) []string {
	var out []string
	eachJob(s, func(w *Workflow, j *Job) {
		env := environment(j)
		if !strings.Contains(env, "prod") && !(strings.Contains(env, "${{") && strings.Contains(env, "stack")) {
			return
		}
		where := fmt.Sprintf("%s job %q (environment %s)", w.File, j.ID, env)
		if bad := mainOnlyTriggers(w); len(bad) > 0 {
			out = append(out, fmt.Sprintf("%s: a prod environment in a workflow that also starts on %v", where, bad))
		}
		if cond, _ := j.Raw["if"].(string); !MainOnly(cond) {
			out = append(out, fmt.Sprintf("%s: a prod environment without `if: %s && ...` (has %q)", where, mainRef, cond))
		}
	})
	return out
}

// reviewScript is what a prod preview of a pull request runs first: it fails unless the pull
// request's head is the reviewed SHA and a code owner approved that commit.
const reviewScript = ".github/check-reviewed-pr"

var inputsSHA = regexp.MustCompile(`^\$\{\{\s*inputs\.sha\s*\}\}$`)

// PRPreviewProblems: the prod preview of a pull request (environment prod-preview) is a
// main-only job of deploy.yml, started by hand with the PR number and the reviewed SHA; it needs
// a job that runs .github/check-reviewed-pr on both, and a build of exactly that SHA.
func PRPreviewProblems(s Set) []string {
	var out []string
	n := 0
	eachJob(s, func(w *Workflow, j *Job) {
		if environment(j) != "prod-preview" {
			return
		}
		n++
		where := fmt.Sprintf("%s job %q", w.File, j.ID)
		if w.File != "deploy.yml" {
			out = append(out, where+": the prod preview runs only in deploy.yml, started from main")
			return
		}
		dispatch, _ := w.On["workflow_dispatch"].(map[string]any)
		inputs, _ := dispatch["inputs"].(map[string]any)
		for _, in := range []string{"pr", "sha"} {
			if _, ok := inputs[in]; !ok {
				out = append(out, fmt.Sprintf("%s: workflow_dispatch has no input %q", where, in))
			}
		}
		needs := jobNeeds(j)
		reviewed, built := false, false
		for _, id := range needs {
			nj := w.Jobs[id]
			if nj == nil {
				continue
			}
			for _, st := range nj.Steps {
				if strings.Contains(st.Run, reviewScript) && envRefs(st, "inputs.pr", "inputs.sha") {
					if cond, _ := nj.Raw["if"].(string); MainOnly(cond) {
						reviewed = true
					}
				}
			}
			if with, _ := nj.Raw["with"].(map[string]any); nj.Uses == localPrefix+"build.yml" {
				ref, _ := with["ref"].(string)
				built = inputsSHA.MatchString(strings.TrimSpace(ref))
			}
		}
		if !reviewed {
			out = append(out, fmt.Sprintf("%s: needs no main-only job that runs %s with inputs.pr and inputs.sha (needs %v)", where, reviewScript, needs))
		}
		if !built {
			out = append(out, fmt.Sprintf("%s: does not run a build.yml job with ref: ${{ inputs.sha }} (needs %v)", where, needs))
		}
	})
	if n == 0 {
		out = append(out, "no job uses the prod-preview environment")
	}
	return out
}

func jobNeeds(j *Job) []string {
	switch n := j.Raw["needs"].(type) {
	case string:
		return []string{n}
	case []any:
		var out []string
		for _, v := range n {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// envRefs reports whether the step's env passes every one of the expressions (inputs reach a
// script through env, never through ${{ }} inside `run:`, where they would be shell code).
func envRefs(st Step, exprs ...string) bool {
	var vals []string
	for _, v := range st.Env {
		s, _ := v.(string)
		vals = append(vals, strings.ReplaceAll(s, " ", ""))
	}
	for _, e := range exprs {
		if !slices.Contains(vals, "${{"+e+"}}") {
			return false
		}
	}
	return !strings.Contains(st.Run, "${{")
}

var appTokenOutput = regexp.MustCompile(`^\$\{\{\s*steps\.([\w-]+)\.outputs\.token\s*\}\}$`)

// AppTokenProblems: pull requests are opened with a GitHub App's installation token (from
// actions/create-github-app-token in the same job), never with the workflow's GITHUB_TOKEN, so
// the repository setting "Allow GitHub Actions to create and approve pull requests" stays off
// and the pull request's own workflows run.
func AppTokenProblems(s Set) []string {
	var out []string
	n := 0
	eachJob(s, func(w *Workflow, j *Job) {
		for _, st := range j.Steps {
			if !strings.HasPrefix(st.Uses, "peter-evans/create-pull-request@") {
				continue
			}
			n++
			where := fmt.Sprintf("%s job %q", w.File, j.ID)
			tok, _ := st.With["token"].(string)
			m := appTokenOutput.FindStringSubmatch(strings.TrimSpace(tok))
			if m == nil {
				out = append(out, fmt.Sprintf("%s: create-pull-request with token %q, want ${{ steps.<id>.outputs.token }} of actions/create-github-app-token", where, tok))
				continue
			}
			ok := slices.ContainsFunc(j.Steps, func(o Step) bool {
				return o.ID == m[1] && strings.HasPrefix(o.Uses, "actions/create-github-app-token@")
			})
			if !ok {
				out = append(out, fmt.Sprintf("%s: step %q is not actions/create-github-app-token", where, m[1]))
			}
		}
	})
	if n == 0 {
		out = append(out, "no peter-evans/create-pull-request step found")
	}
	return out
}

// ContainerProblems: every job container comes from .ci/image/Dockerfile (a tag and digest
// that Dependabot moves), through the output of a job that runs .github/ci-image.
func ContainerProblems(s Set) []string {
	var out []string
	n := 0
	eachJob(s, func(w *Workflow, j *Job) {
		c, ok := j.Raw["container"]
		if !ok {
			return
		}
		n++
		where := fmt.Sprintf("%s job %q", w.File, j.ID)
		image, _ := c.(string)
		if m, ok := c.(map[string]any); ok {
			image, _ = m["image"].(string)
		}
		re := regexp.MustCompile(`^\$\{\{\s*needs\.([\w-]+)\.outputs\.image\s*\}\}$`)
		mm := re.FindStringSubmatch(strings.TrimSpace(image))
		if mm == nil {
			out = append(out, fmt.Sprintf("%s: container %q, want ${{ needs.<job>.outputs.image }} from .github/ci-image", where, image))
			return
		}
		src := w.Jobs[mm[1]]
		if src == nil || !slices.Contains(jobNeeds(j), mm[1]) ||
			!slices.ContainsFunc(src.Steps, func(st Step) bool { return strings.Contains(st.Run, ".github/ci-image") }) {
			out = append(out, fmt.Sprintf("%s: container from job %q, which it does not need or which does not run .github/ci-image", where, mm[1]))
		}
	})
	if n == 0 {
		out = append(out, "no job runs in a container")
	}
	return out
}

// detectScript runs `pulumi preview --refresh --expect-no-changes` for one stack; reportScript
// opens, updates or closes that stack's drift issue.
const (
	detectScript = ".github/detect-drift"
	reportScript = ".github/report-drift"
)

// DriftProblems: a scheduled workflow runs detectScript for every stack, from main, in the
// stack's read-only `<stack>-drift` environment, with a token that writes nothing; a second job,
// the only one that may write issues and the one without cloud credentials, runs reportScript.
// No workflow shows secrets in plain text.
func DriftProblems(s Set, stacks []string) []string {
	var out []string
	eachJob(s, func(w *Workflow, j *Job) {
		for _, st := range j.Steps {
			if strings.Contains(st.Run, "--show-secrets") || st.With["show-secrets"] != nil {
				out = append(out, fmt.Sprintf("%s job %q: shows secrets", w.File, j.ID))
			}
		}
	})
	detected, reported := map[string]bool{}, false
	for _, w := range s {
		if !slices.Contains(w.Triggers, "schedule") {
			continue
		}
		for _, j := range w.Jobs {
			where := fmt.Sprintf("%s job %q", w.File, j.ID)
			p := j.Permissions
			if p == nil {
				p = w.Permissions
			}
			runs := func(script string) bool {
				return slices.ContainsFunc(j.Steps, func(st Step) bool { return strings.Contains(st.Run, script) })
			}
			switch {
			case runs(detectScript):
				if cond, _ := j.Raw["if"].(string); !MainOnly(cond) {
					out = append(out, where+": detects drift without `if: "+mainRef+"`")
				}
				if env := environment(j); env != "${{ matrix.stack }}-drift" {
					out = append(out, fmt.Sprintf("%s: environment %q, want ${{ matrix.stack }}-drift (a read-only role per stack)", where, env))
				}
				if p == nil || p.Level("id-token") != Write {
					out = append(out, where+": detects drift without id-token: write (OIDC to AWS)")
				} else {
					for _, sc := range sortedScopes(p) {
						if sc != "id-token" && p.Level(sc) == Write {
							out = append(out, fmt.Sprintf("%s: %s: write next to cloud credentials", where, sc))
						}
					}
				}
				strategy, _ := j.Raw["strategy"].(map[string]any)
				matrix, _ := strategy["matrix"].(map[string]any)
				list, _ := matrix["stack"].([]any)
				for _, v := range list {
					if st, ok := v.(string); ok {
						detected[st] = true
					}
				}
			case runs(reportScript):
				reported = true
				if p == nil || p.Level("issues") != Write || p.Level("id-token") != None {
					out = append(out, fmt.Sprintf("%s: reports drift with permissions %v, want issues: write and no id-token", where, p))
				}
				if !slices.ContainsFunc(jobNeeds(j), func(id string) bool {
					d := w.Jobs[id]
					return d != nil && slices.ContainsFunc(d.Steps, func(st Step) bool { return strings.Contains(st.Run, detectScript) })
				}) {
					out = append(out, where+": does not need the job that detects drift")
				}
			}
		}
	}
	for _, st := range stacks {
		if !detected[st] {
			out = append(out, fmt.Sprintf("no scheduled job runs %s for stack %s", detectScript, st))
		}
	}
	if !reported {
		out = append(out, "no scheduled job runs "+reportScript)
	}
	return out
}

func sortedScopes(p *Permissions) []string {
	scopes := slices.Clone(Scopes)
	for sc := range p.Scopes {
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	slices.Sort(scopes)
	return scopes
}

// PreviewRefreshProblems: the preview roles (environments <stack>-preview) have no Kubernetes
// Secret access, so their previews must not refresh (a refresh reads every object, Secrets
// included): pulumi/actions with `refresh: false`, and no `--refresh` in a script.
func PreviewRefreshProblems(s Set) []string {
	var out []string
	n := 0
	eachJob(s, func(w *Workflow, j *Job) {
		if !strings.HasSuffix(environment(j), "-preview") {
			return
		}
		for _, st := range j.Steps {
			if strings.HasPrefix(st.Uses, "pulumi/actions@") {
				n++
				if st.With["refresh"] != false {
					out = append(out, fmt.Sprintf("%s job %q: pulumi/actions without refresh: false (has %v)", w.File, j.ID, st.With["refresh"]))
				}
			}
			if strings.Contains(st.Run, "--refresh") {
				out = append(out, fmt.Sprintf("%s job %q: a preview role refreshes", w.File, j.ID))
			}
		}
	})
	if n == 0 {
		out = append(out, "no preview job found")
	}
	return out
}
