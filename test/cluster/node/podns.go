package main

import (
	"fmt"
	"os"
	"syscall"
)

// podInitCommand, as procnode's first argument, makes it the first process of a container that
// has its own namespaces (see hosts.go): it bind-mounts the pod's hosts file on /etc/hosts, sets
// the pod's hostname and then becomes the container's command. Go cannot run code between fork
// and exec, so the set-up runs in a fresh procnode instead.
const podInitCommand = "procnode-pod-init"

// podNamespaces is what a container of a pod with its own names runs in.
type podNamespaces struct {
	hostsFile string
	hostname  string
}

// wrap returns the program, argv and clone flags that start argv (resolved to path) inside the
// pod's namespaces.
func (n *podNamespaces) wrap(path string, argv []string) (string, []string, uintptr, error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, 0, err
	}
	wrapped := append([]string{"procnode", podInitCommand, n.hostsFile, n.hostname, path}, argv...)
	return self, wrapped, syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS, nil
}

// podInit runs in the new namespaces: args are hostsFile, hostname, path, argv... It only
// returns on failure, which the container's log then explains.
func podInit(args []string) error {
	if len(args) < 4 {
		return fmt.Errorf("%s: want HOSTS_FILE HOSTNAME PATH ARGV0 [ARGS...], got %q", podInitCommand, args)
	}
	hostsFile, hostname, path, argv := args[0], args[1], args[2], args[3:]
	// Without this, the bind mount would propagate back to the host's shared mount tree.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the pod's mount namespace private: %w (procnode needs CAP_SYS_ADMIN, i.e. root, to give pods their own /etc/hosts)", err)
	}
	if err := syscall.Mount(hostsFile, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s on /etc/hosts: %w", hostsFile, err)
	}
	if err := syscall.Sethostname([]byte(hostname)); err != nil {
		return fmt.Errorf("setting hostname %q: %w", hostname, err)
	}
	return syscall.Exec(path, argv, os.Environ())
}
