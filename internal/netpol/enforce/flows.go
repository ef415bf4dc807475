package enforce

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Flow is one row of the contract (internal/netpol/contract/flows.yaml; its header documents
// the fields).
type Flow struct {
	ID     string     `json:"id"`
	Flow   string     `json:"flow"`
	From   []Endpoint `json:"from"`
	To     Endpoint   `json:"to"`
	Ports  []string   `json:"ports"`
	Expect string     `json:"expect"`
	Stacks []string   `json:"stacks"`
	Cite   string     `json:"cite"`
}

// Endpoint is a source or destination of a flow.
type Endpoint struct {
	Namespace  string            `json:"namespace,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Namespaces []string          `json:"namespaces,omitempty"`
	Address    string            `json:"address,omitempty"`
	IP         string            `json:"ip,omitempty"`
	Kind       string            `json:"kind,omitempty"`
	Service    *ServiceRef       `json:"service,omitempty"`
}

// ServiceRef names a Service.
type ServiceRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// The values of Flow.Expect, and the destination kind of the API server.
const (
	Allow     = "allow"
	Refuse    = "refuse"
	APIServer = "api-server"
)

// ReadFlows reads and checks the contract: unique ids, a known expectation, stacks, an https
// citation, and exactly one form of destination.
func ReadFlows(path string) ([]Flow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var flows []Flow
	if err := yaml.UnmarshalStrict(b, &flows); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, f := range flows {
		switch {
		case f.ID == "" || seen[f.ID]:
			return nil, fmt.Errorf("flow %q: empty or duplicate id", f.ID)
		case f.Expect != Allow && f.Expect != Refuse:
			return nil, fmt.Errorf("flow %s: expect %q, accepted: allow or refuse", f.ID, f.Expect)
		case len(f.Stacks) == 0 || len(f.From) == 0 || len(f.Ports) == 0 || f.Flow == "":
			return nil, fmt.Errorf("flow %s: flow, from, ports and stacks are required", f.ID)
		case !strings.HasPrefix(f.Cite, "https://"):
			return nil, fmt.Errorf("flow %s: cite %q is not an https URL", f.ID, f.Cite)
		}
		seen[f.ID] = true
		forms := 0
		for _, set := range []bool{f.To.Kind != "", f.To.Address != "", f.To.IP != "", f.To.Service != nil, f.To.Namespace != ""} {
			if set {
				forms++
			}
		}
		if forms != 1 || (f.To.Kind != "" && f.To.Kind != APIServer) {
			return nil, fmt.Errorf("flow %s: the destination must be one of kind api-server, address, ip, service or pods", f.ID)
		}
	}
	return flows, nil
}

// source is a place a flow starts from.
type source struct {
	name   string
	addr   netip.Addr
	isPod  bool
	hostIP netip.Addr
}

// check is one packet of a flow, and the pod that receives it (if any) with the port there.
type check struct {
	packet   Packet
	dstPod   *corev1.Pod
	podPort  int32
	describe string
}

// Sources are the places a flow starts from in this cluster. Pods on the host network are left
// out: they send from the node's address, which no NetworkPolicy governs.
func (c *Cluster) Sources(f Flow) ([]source, error) {
	var out []source
	for _, from := range f.From {
		switch {
		case from.Address != "":
			a, err := c.address(from.Address)
			if err != nil {
				return nil, err
			}
			out = append(out, source{name: from.Address, addr: a})
		case len(from.Namespaces) > 0:
			for _, p := range c.Export.Pods {
				if slices.Contains(from.Namespaces, p.Namespace) && !p.Spec.HostNetwork {
					out = append(out, podSource(p))
				}
			}
		case from.Namespace != "":
			pods := c.pods(from.Namespace, from.Labels)
			if len(pods) == 0 {
				return nil, fmt.Errorf("no pod in %s has labels %v", from.Namespace, from.Labels)
			}
			for _, p := range pods {
				if !p.Spec.HostNetwork {
					out = append(out, podSource(*p))
				}
			}
		default:
			return nil, fmt.Errorf("a source names no pods and no address")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the flow has no source in this stack")
	}
	return out, nil
}

func podSource(p corev1.Pod) source {
	return source{name: p.Namespace + "/" + p.Name, addr: netip.MustParseAddr(p.Status.PodIP), isPod: true,
		hostIP: netip.MustParseAddr(p.Status.HostIP)}
}

// Checks are the packets a flow sends from src.
func (c *Cluster) Checks(f Flow, src netip.Addr) ([]check, error) {
	var out []check
	for _, spec := range f.Ports {
		portName, proto, err := splitPort(spec)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", f.ID, err)
		}
		to := f.To
		switch {
		case to.Kind == APIServer:
			for _, name := range []string{"api-server-service", "api-server-endpoint"} {
				a, err := c.address(name)
				if err != nil {
					return nil, err
				}
				n, err := strconv.Atoi(portName)
				if err != nil {
					return nil, fmt.Errorf("flow %s: the API server's port must be a number", f.ID)
				}
				out = append(out, check{packet: Packet{Src: src, Dst: a, Port: int32(n), Protocol: proto}, describe: name})
			}
		case to.Address != "" || to.IP != "":
			a, err := c.address(to.Address)
			if to.IP != "" {
				a, err = netip.ParseAddr(to.IP)
			}
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(portName)
			if err != nil {
				return nil, fmt.Errorf("flow %s: a port to an address must be a number", f.ID)
			}
			out = append(out, check{packet: Packet{Src: src, Dst: a, Port: int32(n), Protocol: proto}, describe: to.Address + to.IP})
		case to.Service != nil:
			svc := c.service(to.Service.Namespace, to.Service.Name)
			if svc == nil {
				return nil, fmt.Errorf("flow %s: no Service %s/%s", f.ID, to.Service.Namespace, to.Service.Name)
			}
			var sp *corev1.ServicePort
			for i := range svc.Spec.Ports {
				if strconv.Itoa(int(svc.Spec.Ports[i].Port)) == portName || svc.Spec.Ports[i].Name == portName {
					sp = &svc.Spec.Ports[i]
				}
			}
			if sp == nil {
				return nil, fmt.Errorf("flow %s: Service %s has no port %s", f.ID, svc.Name, portName)
			}
			backends := c.pods(svc.Namespace, svc.Spec.Selector)
			if len(backends) == 0 {
				return nil, fmt.Errorf("flow %s: Service %s selects no pod", f.ID, svc.Name)
			}
			for _, p := range backends {
				target, err := containerPort(p, sp.TargetPort, proto)
				if err != nil {
					return nil, fmt.Errorf("flow %s: %w", f.ID, err)
				}
				out = append(out, check{packet: Packet{Src: src, Dst: netip.MustParseAddr(svc.Spec.ClusterIP), Port: sp.Port, Protocol: proto},
					dstPod: p, podPort: target, describe: "Service " + svc.Namespace + "/" + svc.Name + " to " + p.Name})
			}
		default:
			pods := c.pods(to.Namespace, to.Labels)
			if len(pods) == 0 {
				return nil, fmt.Errorf("flow %s: no pod in %s has labels %v", f.ID, to.Namespace, to.Labels)
			}
			for _, p := range pods {
				n, err := containerPort(p, intstr.Parse(portName), proto)
				if err != nil {
					return nil, fmt.Errorf("flow %s: %w", f.ID, err)
				}
				out = append(out, check{packet: Packet{Src: src, Dst: netip.MustParseAddr(p.Status.PodIP), Port: n, Protocol: proto},
					dstPod: p, podPort: n, describe: "pod " + p.Namespace + "/" + p.Name})
			}
		}
	}
	return out, nil
}

// Decide runs one packet of a flow through the source's egress and the destination pod's ingress.
func (c *Cluster) Decide(src source, ch check, except Except) (bool, string) {
	if src.isPod {
		if ok, why := c.Egress(ch.packet, except); !ok {
			return false, why
		}
	}
	if ch.dstPod == nil {
		return true, "no pod receives it"
	}
	in := ch.packet
	in.Dst, in.Port = netip.MustParseAddr(ch.dstPod.Status.PodIP), ch.podPort
	return c.Ingress(in, netip.MustParseAddr(ch.dstPod.Status.HostIP), except)
}

func splitPort(spec string) (string, corev1.Protocol, error) {
	port, proto, ok := strings.Cut(spec, "/")
	if !ok || (proto != "TCP" && proto != "UDP") || port == "" {
		return "", "", fmt.Errorf("port %q: accepted: <port or name>/TCP or /UDP", spec)
	}
	return port, corev1.Protocol(proto), nil
}

func (c *Cluster) address(name string) (netip.Addr, error) {
	s, ok := c.Export.Addresses[name]
	if !ok {
		return netip.Addr{}, fmt.Errorf("the export has no address %q", name)
	}
	return netip.ParseAddr(s)
}

func (c *Cluster) pods(namespace string, sel map[string]string) []*corev1.Pod {
	var out []*corev1.Pod
	s := labels.SelectorFromSet(sel)
	for i := range c.Export.Pods {
		p := &c.Export.Pods[i]
		if p.Namespace == namespace && s.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

func (c *Cluster) service(namespace, name string) *corev1.Service {
	for i := range c.Export.Services {
		if s := &c.Export.Services[i]; s.Namespace == namespace && s.Name == name {
			return s
		}
	}
	return nil
}

// containerPort resolves a port number or name against a pod's container ports.
func containerPort(p *corev1.Pod, port intstr.IntOrString, proto corev1.Protocol) (int32, error) {
	if port.Type == intstr.Int {
		return port.IntVal, nil
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == port.StrVal && cp.Protocol == proto {
				return cp.ContainerPort, nil
			}
		}
	}
	return 0, fmt.Errorf("pod %s/%s has no %s port %q", p.Namespace, p.Name, proto, port.StrVal)
}
