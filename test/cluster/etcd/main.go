// Command etcd is upstream etcd's server entry point, built from its Go module because no
// release binaries can be downloaded here and Debian's etcd is too old for Kubernetes 1.34.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
