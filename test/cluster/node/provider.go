package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/virtual-kubelet/virtual-kubelet/errdefs"
	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

type providerConfig struct {
	nodeName   string
	hostIP     string
	stateDir   string
	repo       string
	capacity   corev1.ResourceList
	images     *imageMap
	ipam       *ipAllocator
	client     kubernetes.Interface
	restConfig *rest.Config
	configMaps corev1listers.ConfigMapLister
	secrets    corev1listers.SecretLister
	hosts      *hostsTable
}

// provider implements virtual-kubelet's Provider by running pods as process groups.
type provider struct {
	providerConfig
	apiHost, apiPort string

	mu     sync.Mutex
	pods   map[string]*podRun
	notify func(*corev1.Pod)

	// hostsMu serialises writes of pods' hosts files (hosts.go).
	hostsMu sync.Mutex

	dirtyMu sync.Mutex
	dirty   map[*podRun]bool
	wake    chan struct{}
}

func newProvider(cfg providerConfig) *provider {
	p := &provider{providerConfig: cfg, pods: map[string]*podRun{}, dirty: map[*podRun]bool{}, wake: make(chan struct{}, 1)}
	if u, err := url.Parse(cfg.restConfig.Host); err == nil {
		p.apiHost, p.apiPort = u.Hostname(), u.Port()
		if p.apiPort == "" {
			p.apiPort = "443"
		}
	}
	cfg.hosts.onChange = p.refreshHosts
	go p.notifyLoop()
	return p
}

// refreshHosts rewrites the hosts file of every pod of namespace ns on this node that has one.
func (p *provider) refreshHosts(ns string) {
	p.mu.Lock()
	var runs []*podRun
	for key, r := range p.pods {
		if strings.HasPrefix(key, ns+"/") {
			runs = append(runs, r)
		}
	}
	p.mu.Unlock()
	for _, r := range runs {
		r.mu.Lock()
		pod, podNS := r.pod, r.ns
		r.mu.Unlock()
		if podNS != nil {
			p.writeHosts(pod, r.podIP, podNS.hostsFile)
		}
	}
}

func (p *provider) writeHosts(pod *corev1.Pod, podIP, path string) {
	p.hostsMu.Lock()
	defer p.hostsMu.Unlock()
	if err := writeHostsFile(path, p.hosts.render(pod, podIP)); err != nil {
		fmt.Fprintf(os.Stderr, "procnode: writing hosts file of pod %s/%s: %v\n", pod.Namespace, pod.Name, err)
	}
}

// markDirty asks for the pod's current status to be published. One loop publishes, always the
// latest snapshot, so a slow API call can never reorder an old status after a newer one.
func (p *provider) markDirty(r *podRun) {
	p.dirtyMu.Lock()
	p.dirty[r] = true
	p.dirtyMu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *provider) notifyLoop() {
	for range p.wake {
		p.dirtyMu.Lock()
		batch := p.dirty
		p.dirty = map[*podRun]bool{}
		p.dirtyMu.Unlock()
		for r := range batch {
			p.publish(r)
		}
	}
}

func (p *provider) publish(r *podRun) {
	p.mu.Lock()
	cb := p.notify
	p.mu.Unlock()
	if cb != nil {
		cb(r.snapshot())
	}
}

func (p *provider) NotifyPods(_ context.Context, cb func(*corev1.Pod)) {
	p.mu.Lock()
	p.notify = cb
	p.mu.Unlock()
}

func (p *provider) get(ns, name string) *podRun {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pods[containerKey(ns, name)]
}

func (p *provider) CreatePod(_ context.Context, pod *corev1.Pod) error {
	key := containerKey(pod.Namespace, pod.Name)
	p.mu.Lock()
	if old, ok := p.pods[key]; ok {
		p.mu.Unlock()
		if old.pod.UID == pod.UID {
			return nil
		}
		// The old pod of this name is still shutting down; the pod controller retries.
		return fmt.Errorf("pod %s: previous pod with this name is still terminating", key)
	}
	podIP := p.hostIP
	if !pod.Spec.HostNetwork {
		ip, err := p.ipam.allocate()
		if err != nil {
			p.mu.Unlock()
			return err
		}
		podIP = ip
	}
	r := newPodRun(p, pod.DeepCopy(), podIP)
	p.pods[key] = r
	p.mu.Unlock()
	p.markDirty(r)
	go r.run()
	return nil
}

func (p *provider) UpdatePod(_ context.Context, pod *corev1.Pod) error {
	if r := p.get(pod.Namespace, pod.Name); r != nil && r.pod.UID == pod.UID {
		r.updateMeta(pod)
		p.markDirty(r)
	}
	return nil
}

func gracePeriod(pod *corev1.Pod) time.Duration {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

// DeletePod stops the pod's processes; once they are gone the terminal status is published
// (which lets the pod controller remove the pod from the API) and the sandbox and IP are freed.
func (p *provider) DeletePod(_ context.Context, pod *corev1.Pod) error {
	r := p.get(pod.Namespace, pod.Name)
	if r == nil || r.pod.UID != pod.UID {
		return errdefs.NotFoundf("pod %s/%s is not on this node", pod.Namespace, pod.Name)
	}
	if pod.DeletionTimestamp != nil {
		r.updateMeta(pod)
	}
	r.deleteOnce.Do(func() {
		r.terminate(gracePeriod(pod))
		go func() {
			<-r.done
			p.publish(r)
			p.removeFromAPI(r)
			p.mu.Lock()
			if p.pods[containerKey(pod.Namespace, pod.Name)] == r {
				delete(p.pods, containerKey(pod.Namespace, pod.Name))
			}
			p.mu.Unlock()
			if r.podIP != p.hostIP {
				p.ipam.release(r.podIP)
			}
			r.mu.Lock()
			sb := r.sb
			r.mu.Unlock()
			if sb != nil {
				sb.remove()
			}
		}()
	})
	return nil
}

// removeFromAPI does what the kubelet does once a deleted pod's containers are gone: record
// the final status and delete the pod object with no further grace. The pod controller would
// only do so when the grace period ends, which would hold up Job deletion and rescheduling.
func (p *provider) removeFromAPI(r *podRun) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	final := r.snapshot()
	pods := p.client.CoreV1().Pods(final.Namespace)
	_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(ctx, final.Name, metav1.GetOptions{})
		if err != nil || cur.UID != final.UID {
			return nil
		}
		cur.Status = final.Status
		_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	zero := int64(0)
	uid := final.UID
	err := pods.Delete(ctx, final.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		fmt.Fprintf(os.Stderr, "procnode: deleting pod %s/%s: %v\n", final.Namespace, final.Name, err)
	}
}

func (p *provider) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	r := p.get(ns, name)
	if r == nil {
		return nil, errdefs.NotFoundf("pod %s/%s is not on this node", ns, name)
	}
	return r.snapshot(), nil
}

func (p *provider) GetPodStatus(ctx context.Context, ns, name string) (*corev1.PodStatus, error) {
	pod, err := p.GetPod(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return &pod.Status, nil
}

func (p *provider) GetPods(context.Context) ([]*corev1.Pod, error) {
	p.mu.Lock()
	runs := make([]*podRun, 0, len(p.pods))
	for _, r := range p.pods {
		runs = append(runs, r)
	}
	p.mu.Unlock()
	out := make([]*corev1.Pod, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.snapshot())
	}
	return out, nil
}

func (p *provider) GetContainerLogs(ctx context.Context, ns, name, container string, opts api.ContainerLogOpts) (io.ReadCloser, error) {
	r := p.get(ns, name)
	if r == nil {
		return nil, errdefs.NotFoundf("pod %s/%s is not on this node", ns, name)
	}
	r.mu.Lock()
	c := r.container(container)
	if c == nil {
		r.mu.Unlock()
		return nil, errdefs.NotFoundf("container %q is not in pod %s/%s", container, ns, name)
	}
	idx := len(c.logs) - 1
	if opts.Previous {
		idx--
	}
	var log *containerLog
	if idx >= 0 {
		log = c.logs[idx]
	}
	r.mu.Unlock()
	if log == nil {
		if opts.Previous {
			return nil, errdefs.InvalidInputf("previous terminated container %q in pod %q not found", container, name)
		}
		return nil, errdefs.InvalidInputf("container %q in pod %q is waiting to start", container, name)
	}
	return log.open(ctx, opts)
}

// shutdown stops every pod's processes when the node itself stops.
func (p *provider) shutdown(timeout time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	runs := make([]*podRun, 0, len(p.pods))
	for _, r := range p.pods {
		runs = append(runs, r)
	}
	p.mu.Unlock()
	for _, r := range runs {
		r.terminate(min(gracePeriod(r.pod), timeout))
	}
	deadline := time.After(timeout + time.Second)
	for _, r := range runs {
		select {
		case <-r.done:
		case <-deadline:
			return
		}
	}
}

func (p *provider) GetStatsSummary(context.Context) (*statsv1alpha1.Summary, error) {
	return &statsv1alpha1.Summary{Node: statsv1alpha1.NodeStats{NodeName: p.nodeName}}, nil
}

func (p *provider) GetMetricsResource(context.Context) ([]*dto.MetricFamily, error) {
	return nil, nil
}

func (p *provider) AttachToContainer(context.Context, string, string, string, api.AttachIO) error {
	return errdefs.InvalidInput("attach is not supported by procnode; use logs -f or exec")
}

// PortForward connects the stream to the pod's loopback IP.
func (p *provider) PortForward(ctx context.Context, ns, name string, port int32, stream io.ReadWriteCloser) error {
	r := p.get(ns, name)
	if r == nil {
		return errdefs.NotFoundf("pod %s/%s is not on this node", ns, name)
	}
	defer stream.Close()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(r.podIP, fmt.Sprint(port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	errc := make(chan error, 2)
	go func() { _, err := io.Copy(conn, stream); errc <- err }()
	go func() { _, err := io.Copy(stream, conn); errc <- err }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	return err
}
