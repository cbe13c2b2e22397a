package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerRun is the node's record of one container across its restarts.
type containerRun struct {
	spec   corev1.Container
	status corev1.ContainerStatus
	logs   []*containerLog // one per instance; index = restart number
	cur    *proc
	argv   []string
	env    []string
	dir    string
}

// podRun drives one pod: prepare the sandbox, run init containers in order, run the app
// containers under the restart policy, and keep a status the pod controller publishes.
type podRun struct {
	prov *provider

	mu          sync.Mutex
	pod         *corev1.Pod
	podIP       string
	started     metav1.Time
	sb          *sandbox
	ns          *podNamespaces // nil: the container runs in the node's namespaces
	inits       []*containerRun
	apps        []*containerRun
	prepared    bool
	initialized bool
	phase       corev1.PodPhase
	reason      string
	message     string
	terminating bool

	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{}
	deleteOnce sync.Once
}

func newPodRun(prov *provider, pod *corev1.Pod, podIP string) *podRun {
	ctx, cancel := context.WithCancel(context.Background())
	r := &podRun{prov: prov, pod: pod, podIP: podIP, started: metav1.Now(), phase: corev1.PodPending,
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	waiting := func(c corev1.Container) *containerRun {
		return &containerRun{spec: c, status: corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "process://" + imageRepository(c.Image),
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}},
		}}
	}
	for _, c := range pod.Spec.InitContainers {
		r.inits = append(r.inits, waiting(c))
	}
	for _, c := range pod.Spec.Containers {
		r.apps = append(r.apps, waiting(c))
	}
	return r
}

func (r *podRun) update(fn func()) {
	r.mu.Lock()
	fn()
	r.mu.Unlock()
	r.prov.markDirty(r)
}

func (r *podRun) run() {
	defer close(r.done)
	if !r.prepare() {
		r.finish()
		return
	}
	for _, c := range r.inits {
		if !r.runContainer(c, true) {
			r.finish()
			return
		}
	}
	r.update(func() { r.initialized = true; r.phase = corev1.PodRunning })
	var wg sync.WaitGroup
	for _, c := range r.apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runContainer(c, false)
		}()
	}
	wg.Wait()
	r.finish()
}

// finish sets the terminal phase: Succeeded only if every app container exited 0.
func (r *podRun) finish() {
	r.update(func() {
		if r.phase == corev1.PodFailed && r.reason != "" {
			return
		}
		r.phase = corev1.PodSucceeded
		for _, c := range append(append([]*containerRun{}, r.inits...), r.apps...) {
			t := c.status.State.Terminated
			if t == nil || t.ExitCode != 0 {
				r.phase = corev1.PodFailed
			}
		}
	})
}

// prepare builds the sandbox and resolves every container's process, retrying transient
// failures (a ServiceAccount or ConfigMap not created yet) as the kubelet does. It returns false
// if the pod can never start or was deleted meanwhile.
func (r *podRun) prepare() bool {
	for attempt := 0; ; attempt++ {
		err, permanent := r.tryPrepare()
		if err == nil {
			r.update(func() { r.prepared = true })
			return true
		}
		if permanent {
			r.update(func() {
				r.phase, r.reason, r.message = corev1.PodFailed, "ErrImagePull", err.Error()
				for _, c := range append(append([]*containerRun{}, r.inits...), r.apps...) {
					c.status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: err.Error()}}
				}
			})
			return false
		}
		r.update(func() {
			for _, c := range append(append([]*containerRun{}, r.inits...), r.apps...) {
				c.status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}}
			}
		})
		select {
		case <-r.ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

type permanentError struct{ error }

func (r *podRun) tryPrepare() (error, bool) {
	p := r.prov
	r.mu.Lock()
	pod := r.pod.DeepCopy()
	r.mu.Unlock()

	// Images first: a pod that can never run should say so at once.
	for _, c := range append(append([]*containerRun{}, r.inits...), r.apps...) {
		if _, err := p.images.argv(c.spec.Image, c.spec.Command, c.spec.Args); err != nil {
			return err, true
		}
	}
	sb, err := newSandbox(p.stateDir, pod)
	if err != nil {
		return err, false
	}
	if err := sb.prepareVolumes(r.ctx, p.client, pod); err != nil {
		return err, false
	}
	kubeconfig, err := writeServiceAccountKubeconfig(r.ctx, p.client, p.restConfig, pod, sb)
	if err != nil {
		return err, false
	}
	res := &envResolver{client: p.client, pod: pod, podIP: r.podIP, hostIP: p.hostIP, capacity: p.capacity}
	for _, c := range append(append([]*containerRun{}, r.inits...), r.apps...) {
		env := p.baseEnv(pod, r.podIP, sb)
		if kubeconfig != "" {
			env.set("KUBECONFIG", kubeconfig)
		}
		if err := sb.mountFor(&c.spec, env); err != nil {
			return err, false
		}
		if err := res.resolve(r.ctx, &c.spec, env); err != nil {
			return err, false
		}
		expand := func(xs []string) []string {
			out := make([]string, len(xs))
			for i, x := range xs {
				out[i] = expandVars(x, env.lookup)
			}
			return out
		}
		argv, err := p.images.argv(c.spec.Image, expand(c.spec.Command), expand(c.spec.Args))
		if err != nil {
			return err, true
		}
		dir, err := sb.workingDir(&c.spec)
		if err != nil {
			return err, false
		}
		r.mu.Lock()
		c.argv, c.env, c.dir = argv, env.list(), dir
		r.mu.Unlock()
	}
	var ns *podNamespaces
	if needsOwnHosts(pod) {
		ns = &podNamespaces{hostsFile: filepath.Join(sb.dir, "hosts"), hostname: podHostname(pod)}
	}
	r.mu.Lock()
	r.sb, r.ns = sb, ns
	r.mu.Unlock()
	// Written only after r.ns is set: a peer's change that arrives while this file is being
	// rendered then rewrites it (refreshHosts skips pods without r.ns), so no update is lost.
	if ns != nil {
		p.writeHosts(pod, r.podIP, ns.hostsFile)
	}
	return nil, false
}

// runContainer runs one container until it may not be restarted; true if it last exited 0.
func (r *podRun) runContainer(c *containerRun, isInit bool) bool {
	policy := r.pod.Spec.RestartPolicy
	if isInit && policy == corev1.RestartPolicyAlways {
		policy = corev1.RestartPolicyOnFailure // init containers must complete
	}
	backoff := time.Second
	for instance := 0; ; instance++ {
		ok, started := r.runInstance(c, instance)
		if !started {
			return false
		}
		restart := policy == corev1.RestartPolicyAlways || (policy == corev1.RestartPolicyOnFailure && !ok)
		if !restart || r.ctx.Err() != nil {
			return ok
		}
		r.update(func() {
			c.status.LastTerminationState = c.status.State
			c.status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "CrashLoopBackOff", Message: fmt.Sprintf("back-off %s restarting container %s", backoff, c.spec.Name)}}
			c.status.RestartCount++
		})
		select {
		case <-r.ctx.Done():
			return ok
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// runInstance starts the container once and waits for it. started is false when the pod was
// deleted before the process could start.
func (r *podRun) runInstance(c *containerRun, instance int) (ok, started bool) {
	logPath := filepath.Join(r.sb.dir, "logs", fmt.Sprintf("%s-%d.log", c.spec.Name, instance))
	log, err := newContainerLog(logPath)
	if err != nil {
		log = nil
	}
	r.mu.Lock()
	if r.terminating {
		r.mu.Unlock()
		return false, false
	}
	var p *proc
	if log != nil {
		c.logs = append(c.logs, log)
		p, err = startProc(c.argv, c.env, c.dir, r.ns, log)
	}
	now := metav1.Now()
	if err != nil {
		if log != nil {
			log.writeLine([]byte("procnode: " + err.Error()))
			log.finish()
		}
		c.status.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now}}
		c.status.Started = boolPtr(false)
		r.mu.Unlock()
		r.prov.markDirty(r)
		return false, true
	}
	c.cur = p
	c.status.ContainerID = fmt.Sprintf("process://%d", p.pid)
	c.status.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	c.status.Started = boolPtr(true)
	c.status.Ready = true
	r.mu.Unlock()
	r.prov.markDirty(r)

	<-p.done
	r.update(func() {
		c.cur = nil
		c.status.Ready = false
		c.status.Started = boolPtr(false)
		c.status.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: int32(p.exitCode), Reason: p.reason, StartedAt: now, FinishedAt: metav1.Now(),
			ContainerID: c.status.ContainerID}}
	})
	return p.exitCode == 0, true
}

func boolPtr(b bool) *bool { return &b }

// terminate stops restarts, sends SIGTERM to every process group and SIGKILL after grace.
func (r *podRun) terminate(grace time.Duration) {
	r.mu.Lock()
	r.terminating = true
	r.cancel()
	var procs []*proc
	for _, c := range append(append([]*containerRun{}, r.inits...), r.apps...) {
		if c.cur != nil {
			procs = append(procs, c.cur)
		}
	}
	r.mu.Unlock()
	for _, p := range procs {
		p.signal(syscall.SIGTERM)
	}
	go func() {
		select {
		case <-r.done:
		case <-time.After(grace):
			for _, p := range procs {
				p.signal(syscall.SIGKILL)
			}
		}
	}()
}

func (r *podRun) container(name string) *containerRun {
	for _, c := range append(append([]*containerRun{}, r.inits...), r.apps...) {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

// snapshot is the pod as the pod controller should publish it. Conditions that other
// components own (PodScheduled, DisruptionTarget) are kept as they came from the API.
func (r *podRun) snapshot() *corev1.Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	pod := r.pod.DeepCopy()
	st := &pod.Status
	st.Phase, st.Reason, st.Message = r.phase, r.reason, r.message
	st.HostIP, st.HostIPs = r.prov.hostIP, []corev1.HostIP{{IP: r.prov.hostIP}}
	st.PodIP, st.PodIPs = r.podIP, []corev1.PodIP{{IP: r.podIP}}
	started := r.started
	st.StartTime = &started

	allReady := len(r.apps) > 0
	st.InitContainerStatuses, st.ContainerStatuses = nil, nil
	for _, c := range r.inits {
		st.InitContainerStatuses = append(st.InitContainerStatuses, *c.status.DeepCopy())
	}
	for _, c := range r.apps {
		st.ContainerStatuses = append(st.ContainerStatuses, *c.status.DeepCopy())
		allReady = allReady && c.status.Ready
	}
	terminal := r.phase == corev1.PodSucceeded || r.phase == corev1.PodFailed
	readyReason := ""
	if terminal {
		allReady, readyReason = false, "PodCompleted"
	} else if !allReady {
		readyReason = "ContainersNotReady"
	}
	setCondition(st, corev1.PodReadyToStartContainers, r.prepared && !terminal, "")
	setCondition(st, corev1.PodInitialized, r.initialized || (terminal && len(r.inits) == 0), "")
	setCondition(st, corev1.ContainersReady, allReady, readyReason)
	setCondition(st, corev1.PodReady, allReady, readyReason)
	return pod
}

func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, ok bool, reason string) {
	status := corev1.ConditionFalse
	if ok {
		status, reason = corev1.ConditionTrue, ""
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != status {
				st.Conditions[i].Status = status
				st.Conditions[i].LastTransitionTime = metav1.Now()
			}
			st.Conditions[i].Reason = reason
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: metav1.Now()})
}

// baseEnv is what every container starts with before its own env: a PATH that finds the
// repository's npm binaries, the apiserver's address as the service env would give it, and
// where the sandbox is.
func (p *provider) baseEnv(pod *corev1.Pod, podIP string, sb *sandbox) *orderedEnv {
	env := newOrderedEnv()
	path := os.Getenv("PATH")
	if p.repo != "" {
		path = filepath.Join(p.repo, "node_modules", ".bin") + string(os.PathListSeparator) + path
	}
	env.set("PATH", path)
	for _, k := range []string{"HOME", "LANG", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env.set(k, v)
		}
	}
	env.set("HOSTNAME", pod.Name)
	if p.apiHost != "" {
		env.set("KUBERNETES_SERVICE_HOST", p.apiHost)
		env.set("KUBERNETES_SERVICE_PORT", p.apiPort)
		env.set("KUBERNETES_SERVICE_PORT_HTTPS", p.apiPort)
	}
	env.set("KUBETUNE_POD_IP", podIP)
	env.set("KUBETUNE_SANDBOX", sb.dir)
	return env
}

// updateMeta takes metadata and spec changes from the API (labels, deletion timestamps) while
// keeping the status this node owns.
func (r *podRun) updateMeta(pod *corev1.Pod) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.pod.Status
	r.pod = pod.DeepCopy()
	r.pod.Status = st
}

func containerKey(ns, name string) string { return ns + "/" + name }
