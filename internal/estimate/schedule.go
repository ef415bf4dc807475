package estimate

import (
	"fmt"
	"sort"
	"strings"
)

// The scheduling model, as Pulumi's engine runs a program (https://www.pulumi.com/docs/iac/concepts/resources/options/dependson/):
//
//   - A resource starts when everything it waits for has finished, and parallelism is unbounded
//     (the engine's default; this program declares well under a thousand resources).
//   - It waits for its dependencies (dependsOn and the resources its inputs came from). A
//     dependency on a component means the component and every resource under it.
//   - It waits for its provider, and so for what the provider waits for (the Kubernetes provider
//     for the cluster, through its kubeconfig).
//   - It waits for its parent's registration: a child registers with its parent's URN, which
//     resolves once the parent, and so the parent's own dependencies, are registered.
//   - Components take no time of their own; their children do.
//
// One wait is not in the graph, because it happens inside the cluster: pods that mount a Secret
// made by an ExternalSecret start only once the Secret exists. A Helm release whose values name
// such a Secret finishes no earlier than the ExternalSecret plus PodStart (a "gate").

// Reasons a resource waits for another, as the critical path shows them.
const (
	viaDependency = "dependency"
	viaComponent  = "dependency on component %s"
	viaProvider   = "provider"
	viaParent     = "parent"
	viaGate       = "its pods mount Secret %s"
	// viaNotAwaited marks a chart's link that lasts until its pods are ready, though the `up`
	// does not wait for them (skipAwait).
	viaNotAwaited = " (until its pods are ready; not awaited)"
)

// wait is one resource another waits for, and why.
type wait struct {
	urn, via string
}

// gate is a finish-time floor from inside the cluster: the node cannot finish before urn has
// finished plus tail minutes.
type gate struct {
	urn, via string
	tail     float64
}

// schedule is the modeled timeline of a cold `up`.
type schedule struct {
	g        *graph
	duration map[string]float64
	gates    map[string][]gate
	start    map[string]float64
	finish   map[string]float64
	// last is what the node waited for last (its start), or the gate that set its finish.
	last     map[string]wait
	lastGate map[string]gate
	state    map[string]int // 1 visiting, 2 done
}

// newSchedule runs the model over the graph.
func newSchedule(g *graph) (*schedule, error) {
	d, err := durationsFor(g.nodes)
	if err != nil {
		return nil, err
	}
	s := &schedule{g: g, duration: d, gates: secretGates(g), start: map[string]float64{}, finish: map[string]float64{},
		last: map[string]wait{}, lastGate: map[string]gate{}, state: map[string]int{}}
	for _, n := range g.nodes {
		if _, err := s.visit(n.URN); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// waits lists what a node waits for before it starts.
func (s *schedule) waits(n *Node) []wait {
	var out []wait
	for _, d := range n.Dependencies {
		if _, ok := s.g.byURN[d]; ok {
			out = append(out, wait{d, viaDependency})
		}
		if kids := s.g.descendants(d); len(kids) > 0 {
			via := fmt.Sprintf(viaComponent, s.name(d))
			for _, k := range kids {
				out = append(out, wait{k, via})
			}
		}
	}
	if _, ok := s.g.byURN[n.Provider]; ok {
		out = append(out, wait{n.Provider, viaProvider})
	}
	if _, ok := s.g.byURN[n.Parent]; ok {
		out = append(out, wait{n.Parent, viaParent})
	}
	return out
}

func (s *schedule) name(urn string) string {
	if n, ok := s.g.byURN[urn]; ok {
		return n.Name
	}
	return urn
}

// visit computes a node's start and finish from what it waits for.
func (s *schedule) visit(urn string) (float64, error) {
	switch s.state[urn] {
	case 2:
		return s.finish[urn], nil
	case 1:
		return 0, fmt.Errorf("the graph has a cycle through %s", urn)
	}
	s.state[urn] = 1
	n := s.g.byURN[urn]
	start := 0.0
	for _, w := range s.waits(n) {
		f, err := s.visit(w.urn)
		if err != nil {
			return 0, err
		}
		if f > start || (f == start && s.last[urn].urn == "") {
			start, s.last[urn] = f, w
		}
	}
	finish := start + s.duration[urn]
	for _, gt := range s.gates[urn] {
		f, err := s.visit(gt.urn)
		if err != nil {
			return 0, err
		}
		if f+gt.tail > finish {
			finish, s.lastGate[urn] = f+gt.tail, gt
		}
	}
	s.start[urn], s.finish[urn], s.state[urn] = start, finish, 2
	return finish, nil
}

// secretGates finds Helm releases and charts whose values name a Secret that an ExternalSecret
// in their namespace makes.
func secretGates(g *graph) map[string][]gate {
	out := map[string][]gate{}
	for _, es := range g.ofType(typeExternalSecret) {
		target := str(es.Inputs, "spec.target.name")
		if target == "" {
			target = str(es.Inputs, "metadata.name")
		}
		ns := str(es.Inputs, "metadata.namespace")
		for _, typ := range []string{typeRelease, typeChart} {
			for _, r := range g.ofType(typ) {
				if str(r.Inputs, "namespace") == ns && mentions(r.Inputs["values"], target) {
					out[r.URN] = append(out[r.URN], gate{es.URN, fmt.Sprintf(viaGate, target), PodStart.Minutes})
				}
			}
		}
	}
	return out
}

// mentions reports whether a string value equal to s occurs anywhere in v.
func mentions(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case map[string]any:
		for _, e := range x {
			if mentions(e, s) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if mentions(e, s) {
				return true
			}
		}
	}
	return false
}

// Link is one resource on a critical path: when it started and finished on the model, its own
// time, and why it waited for the link before it.
type Link struct {
	Type    string  `json:"type"`
	Name    string  `json:"name"`
	Via     string  `json:"via,omitempty"`
	Start   float64 `json:"start"`
	Minutes float64 `json:"minutes"`
	Finish  float64 `json:"finish"`
}

// path is the chain of waits that ends in urn, earliest first. Links that take no time
// (components, providers) are left out and named in the reason of the next link.
func (s *schedule) path(urn string) []Link {
	type step struct {
		urn, via string // via: how this step waited for the one before it
		gate     *gate
	}
	var chain []step
	for cur := urn; cur != ""; {
		if gt, ok := s.lastGate[cur]; ok {
			chain = append(chain, step{urn: cur, via: gt.via, gate: &gt})
			cur = gt.urn
			continue
		}
		w := s.last[cur]
		chain = append(chain, step{urn: cur, via: w.via})
		cur = w.urn
	}
	var out []Link
	var folded []string
	for i := len(chain) - 1; i >= 0; i-- {
		st := chain[i]
		n := s.g.byURN[st.urn]
		l := Link{Type: n.Type, Name: n.Name, Via: st.via, Start: s.start[st.urn], Minutes: s.duration[st.urn]}
		if st.gate != nil {
			l.Start, l.Minutes = s.finish[st.urn]-st.gate.tail, st.gate.tail
		}
		l.Finish = l.Start + l.Minutes
		if l.Minutes == 0 {
			folded = append(folded, shortType(n.Type)+" "+n.Name)
			continue
		}
		if len(out) == 0 {
			l.Via = ""
		} else if len(folded) > 0 {
			l.Via += " (through " + strings.Join(folded, ", ") + ")"
		}
		folded = nil
		out = append(out, l)
	}
	return out
}

// ready is when a node's pods are ready: its finish, or, for a chart Pulumi does not await,
// its start plus the awaited install's time (or its finish, should that come later).
func (s *schedule) ready(urn string) float64 {
	n := s.g.byURN[urn]
	if !notAwaited(n) {
		return s.finish[urn]
	}
	return max(s.finish[urn], s.start[urn]+awaitedDuration(n).Minutes)
}

// latestReady returns the URN among urns that is ready last (the first in order on a tie).
func (s *schedule) latestReady(urns []string) string {
	best := ""
	for _, u := range urns {
		if best == "" || s.ready(u) > s.ready(best) {
			best = u
		}
	}
	return best
}

// readyPath is path(urn), its last link lasting until the node is ready.
func (s *schedule) readyPath(urn string) []Link {
	out := s.path(urn)
	if r := s.ready(urn); r > s.finish[urn] && len(out) > 0 {
		l := &out[len(out)-1]
		if l.Name == s.g.byURN[urn].Name {
			l.Minutes, l.Finish = r-l.Start, r
			l.Via += viaNotAwaited
		}
	}
	return out
}

// latest returns the URN among urns that finishes last (the first in order on a tie).
func (s *schedule) latest(urns []string) string {
	best := ""
	for _, u := range urns {
		if best == "" || s.finish[u] > s.finish[best] {
			best = u
		}
	}
	return best
}

// whole is the URN that finishes last of all: the end of the `up`.
func (s *schedule) whole() string {
	urns := make([]string, 0, len(s.g.nodes))
	for _, n := range s.g.nodes {
		urns = append(urns, n.URN)
	}
	sort.Strings(urns)
	return s.latest(urns)
}

// shortType is the last part of a type token: "kubernetes" for "pulumi:providers:kubernetes".
func shortType(typ string) string {
	return typ[strings.LastIndex(typ, ":")+1:]
}
