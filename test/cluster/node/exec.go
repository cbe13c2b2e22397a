package main

import (
	"context"
	"os/exec"
	"syscall"

	"github.com/virtual-kubelet/virtual-kubelet/errdefs"
	"github.com/virtual-kubelet/virtual-kubelet/node/api"
)

// RunInContainer runs cmd as `kubectl exec` would: with the container's env and working
// directory, in its own process group that is killed when the stream ends.
func (p *provider) RunInContainer(ctx context.Context, ns, name, container string, cmd []string, attach api.AttachIO) error {
	r := p.get(ns, name)
	if r == nil {
		return errdefs.NotFoundf("pod %s/%s is not on this node", ns, name)
	}
	r.mu.Lock()
	c := r.container(container)
	var env []string
	var dir string
	if c != nil {
		env, dir = c.env, c.dir
	}
	r.mu.Unlock()
	if c == nil || env == nil {
		return errdefs.InvalidInputf("container %q in pod %s/%s is not running", container, ns, name)
	}
	if len(cmd) == 0 {
		return errdefs.InvalidInput("no command")
	}
	path, err := lookPath(cmd[0], envValue(env, "PATH"))
	if err != nil {
		return err
	}
	x := exec.CommandContext(ctx, path, cmd[1:]...)
	x.Args[0] = cmd[0]
	x.Env, x.Dir = env, dir
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	x.Cancel = func() error { return syscall.Kill(-x.Process.Pid, syscall.SIGKILL) }
	if in := attach.Stdin(); in != nil {
		x.Stdin = in
	}
	if out := attach.Stdout(); out != nil {
		defer out.Close()
		x.Stdout = out
	}
	if errw := attach.Stderr(); errw != nil {
		defer errw.Close()
		x.Stderr = errw
	}
	return x.Run()
}
