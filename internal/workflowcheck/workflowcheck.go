// Package workflowcheck checks what GitHub checks when it loads a workflow that calls a
// reusable workflow of the same repository, and actionlint does not: the calling job must
// grant the GITHUB_TOKEN at least every permission a job of the called workflow asks for.
// GitHub refuses such a run at load time, before any `if:` is evaluated, so a job that would
// never run (a PR-only job in a workflow that a deploy calls) still breaks the caller.
//
// The rules, as GitHub applies them to a local call (`uses: ./.github/workflows/x.yml`):
//
//   - The caller grants the calling job's `permissions`, else its workflow's top-level
//     `permissions`, else what its own caller granted (nested calls), else the repository's
//     default token permissions. That default is a repository setting the files cannot show,
//     so the checker treats it as unknown and requires the grant to be written down.
//   - A job of the called workflow asks for its own `permissions`, else the called workflow's
//     top-level `permissions`; with neither it asks for nothing and gets what it is granted.
//     The called workflow's top-level `permissions` must fit too, even when every job
//     overrides them (GitHub does not document that case; fitting them costs nothing).
//   - Levels order none < read < write; `read-all` and `write-all` set every scope, and a
//     map leaves unnamed scopes at none.
//   - A called workflow that calls another one is checked the same way, with the grant
//     inherited along the chain.
//
// Remote reusable workflows (owner/repo/.github/workflows/x.yml@ref) are not checked.
package workflowcheck

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Level is a GITHUB_TOKEN permission level: None < Read < Write.
type Level int

const (
	None Level = iota
	Read
	Write
)

func (l Level) String() string {
	switch l {
	case None:
		return "none"
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Scopes are the GITHUB_TOKEN permission scopes GitHub documents for `permissions`. A scope
// a file names that is not listed here is compared all the same.
var Scopes = []string{
	"actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token",
	"issues", "models", "packages", "pages", "pull-requests", "repository-projects",
	"security-events", "statuses",
}

// Permissions is one parsed `permissions:` value.
type Permissions struct {
	// All is the level of every scope not in Scopes: Read for read-all, Write for write-all,
	// None for a map.
	All    Level
	Scopes map[string]Level
	// Where names the value in messages, e.g. `deploy.yml job "up"`.
	Where string
}

// Level returns the level the permissions give scope.
func (p *Permissions) Level(scope string) Level {
	if l, ok := p.Scopes[scope]; ok {
		return l
	}
	return p.All
}

// ParsePermissions parses the value of a `permissions:` key (as decoded from YAML).
func ParsePermissions(v any, where string) (*Permissions, error) {
	p := &Permissions{Scopes: map[string]Level{}, Where: where}
	switch v := v.(type) {
	case string:
		switch v {
		case "read-all":
			p.All = Read
		case "write-all":
			p.All = Write
		default:
			return nil, fmt.Errorf("%s: permissions %q: want read-all, write-all or a map of scopes", where, v)
		}
	case map[string]any:
		for scope, lv := range v {
			s, _ := lv.(string)
			switch s {
			case "none":
				p.Scopes[scope] = None
			case "read":
				p.Scopes[scope] = Read
			case "write":
				p.Scopes[scope] = Write
			default:
				return nil, fmt.Errorf("%s: permissions %s: %v: want read, write or none", where, scope, lv)
			}
		}
	case nil:
		return nil, fmt.Errorf("%s: permissions without a value: write {} for none", where)
	default:
		return nil, fmt.Errorf("%s: permissions of type %T: want read-all, write-all or a map of scopes", where, v)
	}
	return p, nil
}

// Workflow is the part of a workflow file the checks need.
type Workflow struct {
	// File is the file's name in its directory, e.g. "ci.yml".
	File string
	// Triggers are the event names under `on`, sorted.
	Triggers []string
	// On is the decoded `on:` value of a map form (event -> its settings), nil otherwise.
	On map[string]any
	// Permissions are the top-level permissions, nil when not set.
	Permissions *Permissions
	Jobs        map[string]*Job
}

// Callable reports whether another workflow may call this one (`on: workflow_call`).
func (w *Workflow) Callable() bool { return slices.Contains(w.Triggers, "workflow_call") }

// EntryPoint reports whether an event other than workflow_call starts this workflow.
func (w *Workflow) EntryPoint() bool {
	return slices.ContainsFunc(w.Triggers, func(t string) bool { return t != "workflow_call" })
}

// Job is one job of a workflow.
type Job struct {
	ID string
	// Uses is the reusable workflow a calling job runs, "" for a job with steps.
	Uses string
	// Permissions are the job's own permissions, nil when not set.
	Permissions *Permissions
	Steps       []Step
	// Raw is the job, decoded.
	Raw map[string]any
}

// Step is one step of a job.
type Step struct {
	ID   string
	Uses string
	With map[string]any
	// Run is the step's shell script, "" for a step that uses an action.
	Run string
	Env map[string]any
}

// Parse parses one workflow file; file is its name in the workflows directory.
func Parse(file string, data []byte) (*Workflow, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%s: empty workflow", file)
	}
	w := &Workflow{File: file, Jobs: map[string]*Job{}}

	// YAML 1.1 reads the key `on` as the boolean true; sigs.k8s.io/yaml then names it "true".
	on, ok := raw["on"]
	if !ok {
		on, ok = raw["true"]
	}
	if !ok {
		return nil, fmt.Errorf("%s: no `on:` triggers", file)
	}
	switch on := on.(type) {
	case string:
		w.Triggers = []string{on}
	case []any:
		for _, t := range on {
			s, ok := t.(string)
			if !ok {
				return nil, fmt.Errorf("%s: trigger %v is not an event name", file, t)
			}
			w.Triggers = append(w.Triggers, s)
		}
	case map[string]any:
		w.Triggers = slices.Collect(maps.Keys(on))
		w.On = on
	default:
		return nil, fmt.Errorf("%s: `on:` of type %T", file, on)
	}
	slices.Sort(w.Triggers)

	if v, ok := raw["permissions"]; ok {
		p, err := ParsePermissions(v, file+" top-level")
		if err != nil {
			return nil, err
		}
		w.Permissions = p
	}

	jobs, ok := raw["jobs"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: no jobs", file)
	}
	for id, v := range jobs {
		jr, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: job %q is not a map", file, id)
		}
		j := &Job{ID: id, Raw: jr}
		if u, ok := jr["uses"]; ok {
			if j.Uses, ok = u.(string); !ok {
				return nil, fmt.Errorf("%s: job %q: uses is not a string", file, id)
			}
		}
		if pv, ok := jr["permissions"]; ok {
			p, err := ParsePermissions(pv, fmt.Sprintf("%s job %q", file, id))
			if err != nil {
				return nil, err
			}
			j.Permissions = p
		}
		steps, _ := jr["steps"].([]any)
		for i, sv := range steps {
			sm, ok := sv.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: job %q: step %d is not a map", file, id, i+1)
			}
			s := Step{}
			s.ID, _ = sm["id"].(string)
			s.Uses, _ = sm["uses"].(string)
			s.With, _ = sm["with"].(map[string]any)
			s.Run, _ = sm["run"].(string)
			s.Env, _ = sm["env"].(map[string]any)
			j.Steps = append(j.Steps, s)
		}
		w.Jobs[id] = j
	}
	return w, nil
}

// Set is the workflows of one directory, by file name.
type Set map[string]*Workflow

// Load parses every *.yml and *.yaml file in dir.
func Load(dir string) (Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	s := Set{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || (!strings.HasSuffix(name, ".yml") && !strings.HasSuffix(name, ".yaml")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		w, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		s[name] = w
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("%s: no workflow files", dir)
	}
	return s, nil
}

// eachJob calls f for every job of every workflow, in a stable order.
func eachJob(s Set, f func(w *Workflow, j *Job)) {
	for _, name := range slices.Sorted(maps.Keys(s)) {
		w := s[name]
		for _, id := range slices.Sorted(maps.Keys(w.Jobs)) {
			f(w, w.Jobs[id])
		}
	}
}

// Call is one local reusable-workflow call the checker followed.
type Call struct {
	// Chain is the path of calls from an entry-point workflow to this one, e.g.
	// `deploy.yml job "test" -> ci.yml`.
	Chain string
	// Caller is the calling workflow's file, Job the calling job and Called the called file.
	Caller, Job, Called string
}

// Finding is one problem with a call.
type Finding struct {
	Call
	// CalledJob is the job of the called workflow whose permissions do not fit ("" for the
	// called workflow's top-level permissions and for problems that are not about a scope).
	CalledJob string
	// Scope, Need and Grant describe a permission shortfall; Scope is "" otherwise.
	Scope string
	Need  Level
	// Grant is what the caller grants the scope; meaningless when GrantUnknown.
	Grant Level
	// GrantUnknown: nothing in the chain sets permissions, so the grant is the repository's
	// default, which the files cannot show.
	GrantUnknown bool
	// Message says it all in one line.
	Message string
}

func (f Finding) String() string { return f.Message }

// Report is the result of Check.
type Report struct {
	Calls    []Call
	Findings []Finding
}

// maxDepth bounds the chain of nested calls (GitHub allows a handful of levels).
const maxDepth = 10

// Check follows every local reusable-workflow call from every entry-point workflow (one an
// event other than workflow_call starts) and reports the calls GitHub would refuse.
func (s Set) Check() Report {
	var r Report
	for _, name := range slices.Sorted(maps.Keys(s)) {
		if w := s[name]; w.EntryPoint() {
			s.walk(w, nil, nil, &r)
		}
	}
	return r
}

// CheckDir loads dir and checks it.
func CheckDir(dir string) (Report, error) {
	s, err := Load(dir)
	if err != nil {
		return Report{}, err
	}
	return s.Check(), nil
}

const localPrefix = "./.github/workflows/"

// walk checks the local calls of w's jobs; inherited is what w's own caller granted (nil:
// unknown, for an entry point), chain the calls that led to w.
func (s Set) walk(w *Workflow, inherited *Permissions, chain []string, r *Report) {
	for _, id := range slices.Sorted(maps.Keys(w.Jobs)) {
		j := w.Jobs[id]
		if !strings.HasPrefix(j.Uses, "./") {
			continue
		}
		link := fmt.Sprintf("%s job %q", w.File, id)
		call := Call{Caller: w.File, Job: id}
		links := append(slices.Clone(chain), link)
		fail := func(f Finding) {
			f.Call = call
			f.Message = call.Chain + ": " + f.Message
			r.Findings = append(r.Findings, f)
		}
		rel, ok := strings.CutPrefix(j.Uses, localPrefix)
		if !ok || strings.Contains(rel, "/") || strings.Contains(rel, "@") {
			call.Chain = strings.Join(links, " -> ")
			fail(Finding{Message: fmt.Sprintf("uses %q: a local reusable workflow is %s<file>.yml, without @ref", j.Uses, localPrefix)})
			continue
		}
		call.Called = rel
		call.Chain = strings.Join(append(slices.Clone(links), rel), " -> ")
		r.Calls = append(r.Calls, call)

		c, ok := s[rel]
		if !ok {
			fail(Finding{Message: fmt.Sprintf("%s is not in the workflows directory", rel)})
			continue
		}
		if !c.Callable() {
			fail(Finding{Message: fmt.Sprintf("%s has no `on: workflow_call` trigger, so no workflow may call it", rel)})
		}
		if slices.ContainsFunc(links, func(l string) bool { return strings.HasPrefix(l, rel+" job ") }) || len(links) > maxDepth {
			fail(Finding{Message: "the calls loop or nest too deep"})
			continue
		}

		grant := inherited
		if w.Permissions != nil {
			grant = w.Permissions
		}
		if j.Permissions != nil {
			grant = j.Permissions
		}

		if c.Permissions != nil {
			for _, f := range shortfalls(grant, c.Permissions) {
				f.Message = fmt.Sprintf("%s's top-level permissions ask for %s", rel, f.Message)
				fail(f)
			}
		}
		for _, cid := range slices.Sorted(maps.Keys(c.Jobs)) {
			need := c.Jobs[cid].Permissions
			if need == nil {
				need = c.Permissions
			}
			if need == nil || need == c.Permissions {
				continue // asks for nothing, or for the top-level permissions checked above
			}
			for _, f := range shortfalls(grant, need) {
				f.CalledJob = cid
				f.Message = fmt.Sprintf("job %q asks for %s", cid, f.Message)
				fail(f)
			}
		}
		s.walk(c, grant, links, r)
	}
}

// shortfalls lists the scopes need asks for above what grant gives; a nil grant is unknown.
// Each Finding's Message is the tail of a sentence: "<scope>: <need>, but ...".
func shortfalls(grant, need *Permissions) []Finding {
	scopes := slices.Clone(Scopes)
	for _, p := range []*Permissions{grant, need} {
		if p == nil {
			continue
		}
		for sc := range p.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	slices.Sort(scopes)
	var out []Finding
	for _, sc := range scopes {
		n := need.Level(sc)
		if n == None {
			continue
		}
		f := Finding{Scope: sc, Need: n}
		if grant == nil {
			f.GrantUnknown = true
			f.Message = fmt.Sprintf("%s: %s (%s), but no permissions are set at the calling job, its workflow or up the chain, "+
				"so the caller grants the repository's default token permissions, which the files cannot show: "+
				"grant %s: %s at the calling job", sc, n, need.Where, sc, n)
		} else if g := grant.Level(sc); g < n {
			f.Grant = g
			f.Message = fmt.Sprintf("%s: %s (%s), but the caller grants %s: %s (%s)", sc, n, need.Where, sc, g, grant.Where)
		} else {
			continue
		}
		out = append(out, f)
	}
	return out
}

// String renders the permissions as a sorted, compact list, e.g. "contents: read, id-token: write".
func (p *Permissions) String() string {
	if p == nil {
		return "(not set)"
	}
	var parts []string
	switch p.All {
	case Read:
		parts = append(parts, "read-all")
	case Write:
		parts = append(parts, "write-all")
	}
	for _, sc := range slices.Sorted(maps.Keys(p.Scopes)) {
		parts = append(parts, sc+": "+p.Scopes[sc].String())
	}
	if len(parts) == 0 {
		return "{}"
	}
	return strings.Join(parts, ", ")
}
