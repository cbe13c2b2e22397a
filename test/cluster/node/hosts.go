package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Pods find each other by name the way cluster DNS would let them: a pod with spec.hostname and
// spec.subdomain, in a namespace with a headless Service named after the subdomain, is
// <hostname>.<subdomain>.<namespace>.svc.cluster.local (and <hostname>.<subdomain> through the
// search path). There is no cluster DNS and every pod shares the host's resolver, so a pod that
// asks for a hostname, subdomain or hostAliases gets what a kubelet gives every pod: its own
// /etc/hosts, bind-mounted in a private mount namespace, and its own UTS namespace with its
// hostname. This node writes into that file the records DNS would serve for the pod's namespace
// and rewrites it as peers get IPs, on any node, so the file is the DNS answer at that moment.

const clusterDomain = "cluster.local"

// needsOwnHosts: hostNetwork pods use the host's names, as under a kubelet; other pods keep the
// host's resolver unless they ask for names, so ordinary pods run exactly as before.
func needsOwnHosts(pod *corev1.Pod) bool {
	s := pod.Spec
	return !s.HostNetwork && (s.Hostname != "" || s.Subdomain != "" || len(s.HostAliases) > 0)
}

// podHostname is the pod's hostname as the kubelet sets it: spec.hostname, else the pod name,
// cut to the 63 characters a DNS label allows.
func podHostname(pod *corev1.Pod) string {
	h := pod.Spec.Hostname
	if h == "" {
		h = pod.Name
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// podNames are the names under which DNS would answer for pod: none without a subdomain that
// a headless Service of that name backs.
func podNames(pod *corev1.Pod, headless func(ns, name string) bool) []string {
	sub := pod.Spec.Subdomain
	if pod.Spec.Hostname == "" || sub == "" || !headless(pod.Namespace, sub) {
		return nil
	}
	short := pod.Spec.Hostname + "." + sub
	return []string{fmt.Sprintf("%s.%s.svc.%s", short, pod.Namespace, clusterDomain), short}
}

// renderHosts is the hosts file for self: loopback, self (always, as the kubelet writes it),
// the hostAliases, then every live peer of the namespace that DNS would name, in name order so
// an unchanged set of peers gives identical bytes.
func renderHosts(self *corev1.Pod, selfIP string, peers []*corev1.Pod, headless func(ns, name string) bool) []byte {
	var b bytes.Buffer
	b.WriteString("# Pod hosts file written by procnode (test/cluster/node/hosts.go).\n")
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	selfNames := podNames(self, headless)
	if len(selfNames) == 0 && self.Spec.Subdomain != "" && self.Spec.Hostname != "" {
		// The kubelet writes the FQDN for self even before the Service exists.
		selfNames = []string{fmt.Sprintf("%s.%s.%s.svc.%s", self.Spec.Hostname, self.Spec.Subdomain, self.Namespace, clusterDomain)}
	}
	fmt.Fprintf(&b, "%s\t%s\n", selfIP, strings.Join(append(selfNames, podHostname(self)), " "))
	for _, a := range self.Spec.HostAliases {
		fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, " "))
	}
	var lines []string
	for _, p := range peers {
		if p.UID == self.UID || p.Namespace != self.Namespace || p.Status.PodIP == "" ||
			p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if names := podNames(p, headless); len(names) > 0 {
			lines = append(lines, fmt.Sprintf("%s\t%s\n", p.Status.PodIP, strings.Join(names, " ")))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l)
	}
	return b.Bytes()
}

// hostsTable watches every pod and Service of the cluster (peers may run on other nodes) and
// calls onChange with the namespace whose names may have changed.
type hostsTable struct {
	pods, services cache.SharedIndexInformer
	onChange       func(ns string)
}

func newHostsTable(client kubernetes.Interface) *hostsTable {
	rc := client.CoreV1().RESTClient()
	byNS := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	t := &hostsTable{
		pods:     cache.NewSharedIndexInformer(cache.NewListWatchFromClient(rc, "pods", "", fields.Everything()), &corev1.Pod{}, 0, byNS),
		services: cache.NewSharedIndexInformer(cache.NewListWatchFromClient(rc, "services", "", fields.Everything()), &corev1.Service{}, 0, cache.Indexers{}),
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { t.changed(o) },
		UpdateFunc: func(_, o any) { t.changed(o) },
		DeleteFunc: func(o any) { t.changed(o) },
	}
	_, _ = t.pods.AddEventHandler(h)
	_, _ = t.services.AddEventHandler(h)
	return t
}

func (t *hostsTable) changed(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	if m, ok := o.(interface{ GetNamespace() string }); ok && t.onChange != nil {
		t.onChange(m.GetNamespace())
	}
}

// start runs the informers and waits for their first lists, so the first hosts file a pod gets
// already names the peers that exist.
func (t *hostsTable) start(ctx context.Context) error {
	go t.pods.Run(ctx.Done())
	go t.services.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), t.pods.HasSynced, t.services.HasSynced) {
		return fmt.Errorf("listing pods and services for pod name resolution did not finish")
	}
	return nil
}

func (t *hostsTable) headless(ns, name string) bool {
	o, ok, _ := t.services.GetStore().GetByKey(ns + "/" + name)
	return ok && o.(*corev1.Service).Spec.ClusterIP == corev1.ClusterIPNone
}

func (t *hostsTable) render(self *corev1.Pod, selfIP string) []byte {
	objs, _ := t.pods.GetIndexer().ByIndex(cache.NamespaceIndex, self.Namespace)
	peers := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		peers = append(peers, o.(*corev1.Pod))
	}
	return renderHosts(self, selfIP, peers, t.headless)
}

// writeHostsFile rewrites path in place when its content changed: the running processes see
// it through a bind mount of this inode, which a rename would leave behind.
func writeHostsFile(path string, data []byte) error {
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		return nil
	}
	return os.WriteFile(path, data, 0o644)
}
