// Command procnode is a Kubernetes node for tests: it registers a Node through virtual-kubelet's
// library and runs every container of the pods bound to it as a local process group, because no
// container runtime or image registry is reachable where kubetune's integration tests run.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/node"
	"github.com/virtual-kubelet/virtual-kubelet/node/nodeutil"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// client-go's default client limits (5 requests/s, bursts of 10) throttle pod status updates
// and events once a node churns through more than a pod or two a second, as bench:scale does
// with 200 trials of a few seconds each; the apiserver's own flow control, not the node's
// client, should be what limits a test.
const (
	apiQPS   = 500
	apiBurst = 1000
)

func withAPIRateLimits(cfg *rest.Config) *rest.Config {
	cfg.QPS = apiQPS
	cfg.Burst = apiBurst
	return cfg
}

type options struct {
	name        string
	kubeconfig  string
	stateDir    string
	imageMap    string
	repo        string
	address     string
	kubeletPort int
	podCIDR     string
	cpu         string
	memory      string
	pods        string
	gpus        string
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.name, "name", "kubetune-node-0", "Node name")
	flag.StringVar(&o.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig with rights to manage nodes and pods")
	flag.StringVar(&o.stateDir, "state-dir", "", "directory for pod sandboxes and logs (required)")
	flag.StringVar(&o.imageMap, "image-map", "", "JSON file mapping image repositories to entrypoints")
	flag.StringVar(&o.repo, "repo", "", "repository root: substituted for ${REPO} in the image map; <repo>/node_modules/.bin is put first on PATH")
	flag.StringVar(&o.address, "address", "127.0.0.1", "the Node's InternalIP, where the kubelet API listens")
	flag.IntVar(&o.kubeletPort, "kubelet-port", 10250, "HTTPS port of the kubelet API (logs, exec, port-forward)")
	flag.StringVar(&o.podCIDR, "pod-cidr", "127.1.0.0/16", "loopback range from which pod IPs are allocated")
	flag.StringVar(&o.cpu, "cpu", "8", "cpu capacity")
	flag.StringVar(&o.memory, "memory", "32Gi", "memory capacity")
	flag.StringVar(&o.pods, "pods", "110", "pod capacity")
	flag.StringVar(&o.gpus, "gpus", "4", "nvidia.com/gpu capacity (0 for none)")
	flag.Parse()
	if o.stateDir == "" {
		fmt.Fprintln(os.Stderr, "procnode: --state-dir is required")
		os.Exit(2)
	}
	return o
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == podInitCommand {
		err := podInit(os.Args[2:])
		fmt.Fprintf(os.Stderr, "procnode: %v\n", err)
		os.Exit(128)
	}
	o := parseFlags()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "procnode: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	restCfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(withAPIRateLimits(restCfg))
	if err != nil {
		return err
	}
	images, err := loadImageMap(o.imageMap, o.repo)
	if err != nil {
		return err
	}
	ipam, err := newIPAllocator(o.podCIDR)
	if err != nil {
		return err
	}
	tlsCfg, err := selfSignedTLS(o.name, o.address)
	if err != nil {
		return err
	}
	stateDir, err := filepath.Abs(o.stateDir)
	if err != nil {
		return err
	}

	hosts := newHostsTable(client)
	var prov *provider
	mux := http.NewServeMux()
	n, err := nodeutil.NewNode(o.name,
		func(pc nodeutil.ProviderConfig) (nodeutil.Provider, node.NodeProvider, error) {
			setNodeSpec(pc.Node, o)
			prov = newProvider(providerConfig{
				nodeName:   o.name,
				hostIP:     o.address,
				stateDir:   stateDir,
				repo:       o.repo,
				capacity:   pc.Node.Status.Capacity,
				images:     images,
				ipam:       ipam,
				client:     client,
				restConfig: restCfg,
				configMaps: pc.ConfigMaps,
				secrets:    pc.Secrets,
				hosts:      hosts,
			})
			return prov, nil, nil
		},
		nodeutil.WithClient(client),
		nodeutil.AttachProviderRoutes(mux),
		func(c *nodeutil.NodeConfig) error {
			c.HTTPListenAddr = net.JoinHostPort(o.address, strconv.Itoa(o.kubeletPort))
			c.TLSConfig = tlsCfg
			c.Handler = mux
			c.NumWorkers = 4
			c.InformerResyncPeriod = 30 * time.Second
			// The pod IP is only known once the provider has allocated it, so the provider
			// resolves downward-API references itself instead of letting the library do it early.
			c.SkipDownwardAPIResolution = true
			return nil
		},
	)
	if err != nil {
		return err
	}

	if err := hosts.start(ctx); err != nil {
		return err
	}
	go func() {
		if err := n.Run(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "procnode: node stopped: %v\n", err)
			stop()
		}
	}()
	if err := n.WaitReady(ctx, time.Minute); err != nil {
		return fmt.Errorf("node did not become ready: %w", err)
	}
	fmt.Printf("procnode: node %s ready, kubelet API on https://%s:%d\n", o.name, o.address, o.kubeletPort)
	<-ctx.Done()
	// Pods are process groups of this node; they must not outlive it.
	prov.shutdown(10 * time.Second)
	return nil
}
