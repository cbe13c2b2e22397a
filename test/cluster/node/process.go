package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// proc is one container instance: a process group whose leader is the container's command.
type proc struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}

	exitCode int
	reason   string
}

// lookPath resolves a command against the container's PATH, not the node's.
func lookPath(name, pathEnv string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s: no such executable", name)
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// startProc starts argv in its own process group, inside the pod's namespaces when ns is set,
// with stdout and stderr going into log. The pipes are plain *os.File so Wait does not wait on copying; the pumps end when every process
// holding the pipes has exited.
func startProc(argv, env []string, dir string, ns *podNamespaces, log *containerLog) (*proc, error) {
	path, err := lookPath(argv[0], envValue(env, "PATH"))
	if err != nil {
		return nil, err
	}
	var cloneflags uintptr
	if ns != nil {
		if path, argv, cloneflags, err = ns.wrap(path, argv); err != nil {
			return nil, err
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   argv,
		Env:    env,
		Dir:    dir,
		Stdout: outW,
		Stderr: errW,
		// The whole group is signalled on deletion, so children die with the container; the
		// leader is killed if this node dies without cleaning up.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: cloneflags},
	}
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{outR, outW, errR, errW} {
			f.Close()
		}
		return nil, err
	}
	outW.Close()
	errW.Close()
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	var pumps sync.WaitGroup
	pumps.Add(2)
	go log.pump(outR, &pumps)
	go log.pump(errR, &pumps)
	go func() {
		waitErr := cmd.Wait()
		// A container ends with its main process: whatever it left running goes too, as the
		// runtime would kill the rest of the container's cgroup.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		pumps.Wait()
		log.finish()
		p.exitCode, p.reason = exitStatus(waitErr)
		close(p.done)
	}()
	return p, nil
}

func exitStatus(err error) (int, string) {
	if err == nil {
		return 0, "Completed"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), "Error"
		}
		return ee.ExitCode(), "Error"
	}
	return 128, "Error"
}

// signal sends sig to the instance's process group.
func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.pid, sig)
	}
}

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}
