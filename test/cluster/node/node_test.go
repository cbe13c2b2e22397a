package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node/api"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestExpandVars(t *testing.T) {
	env := map[string]string{"A": "1", "B": "two"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := map[string]string{
		"$(A)-$(B)":   "1-two",
		"$(MISSING)":  "$(MISSING)",
		"$$(A)":       "$(A)",
		"cost $5":     "cost $5",
		"open $(A":    "open $(A",
		"trailing $":  "trailing $",
		"no vars":     "no vars",
		"$(A)$(A)$$$": "11$$",
	}
	for in, want := range cases {
		if got := expandVars(in, lookup); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestImageArgv(t *testing.T) {
	m := &imageMap{entries: map[string]imageEntry{
		"ghcr.io/kubetune/trainer": {Entrypoint: []string{"kubetune-trainer"}, Args: []string{"--default"}},
		"localhost:5000/x":         {Entrypoint: []string{"x"}},
	}}
	check := func(image string, command, args, want []string) {
		t.Helper()
		got, err := m.argv(image, command, args)
		if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("argv(%s, %v, %v) = %v, %v; want %v", image, command, args, got, err, want)
		}
	}
	check("ghcr.io/kubetune/trainer:1.0", nil, []string{"--lr", "0.1"}, []string{"kubetune-trainer", "--lr", "0.1"})
	check("ghcr.io/kubetune/trainer@sha256:abc", nil, nil, []string{"kubetune-trainer", "--default"})
	check("ghcr.io/kubetune/trainer", []string{"python"}, []string{"-V"}, []string{"python", "-V"})
	check("localhost:5000/x:tag", nil, nil, []string{"x"})
	check("unmapped", []string{"sh"}, nil, []string{"sh"})
	if _, err := m.argv("unmapped:1", nil, []string{"a"}); err == nil || !strings.Contains(err.Error(), "no entrypoint mapping") {
		t.Errorf("unmapped image without command: err = %v", err)
	}
}

func TestIPAllocatorSkipsAndReleases(t *testing.T) {
	a, err := newIPAllocator("127.5.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for range 3 {
		ip, err := a.allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip)
	}
	if strings.Join(got, ",") != "127.5.0.1,127.5.0.2,127.5.0.3" {
		t.Fatalf("allocated %v", got)
	}
	if _, err := a.allocate(); err == nil {
		t.Fatal("expected exhaustion")
	}
	a.release("127.5.0.2")
	if ip, _ := a.allocate(); ip != "127.5.0.2" {
		t.Fatalf("after release got %s", ip)
	}
	if _, err := newIPAllocator("10.0.0.0/8"); err == nil {
		t.Fatal("non-loopback range accepted")
	}
}

func TestContainerLogFollowTailLimit(t *testing.T) {
	l, err := newContainerLog(filepath.Join(t.TempDir(), "c.log"))
	if err != nil {
		t.Fatal(err)
	}
	l.writeLine([]byte("one\n"))
	l.writeLine([]byte("two"))

	read := func(opts api.ContainerLogOpts) string {
		rc, err := l.open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b)
	}
	if got := read(api.ContainerLogOpts{}); got != "one\ntwo\n" {
		t.Errorf("all = %q", got)
	}
	if got := read(api.ContainerLogOpts{Tail: 1}); got != "two\n" {
		t.Errorf("tail = %q", got)
	}
	if got := read(api.ContainerLogOpts{LimitBytes: 5}); got != "one\nt" {
		t.Errorf("limit = %q", got)
	}
	if got := read(api.ContainerLogOpts{Timestamps: true}); !strings.HasSuffix(strings.Split(got, "\n")[0], "Z one") {
		t.Errorf("timestamps = %q", got)
	}

	rc, err := l.open(context.Background(), api.ContainerLogOpts{Follow: true, Tail: 1})
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10)
	go func() {
		b, _ := io.ReadAll(rc)
		lines <- string(b)
	}()
	time.Sleep(50 * time.Millisecond)
	l.writeLine([]byte("three\n"))
	l.finish()
	select {
	case got := <-lines:
		if got != "two\nthree\n" {
			t.Errorf("follow = %q", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("follow did not end when the container finished")
	}
}

// The limiter is drained without sleeping: with client-go's defaults only the burst of 10 (plus
// what refills meanwhile, 5 a second) is granted, so this fails however slow the machine is.
func TestAPIRateLimitsAllowBursts(t *testing.T) {
	client, err := kubernetes.NewForConfig(withAPIRateLimits(&rest.Config{Host: "https://127.0.0.1:1"}))
	if err != nil {
		t.Fatal(err)
	}
	limiter := client.CoreV1().RESTClient().GetRateLimiter()
	granted := 0
	for i := 0; i < 200; i++ {
		if limiter.TryAccept() {
			granted++
		}
	}
	if granted < 200 {
		t.Errorf("the node's API client granted %d of 200 requests at once; want all (burst %d)", granted, apiBurst)
	}
}
