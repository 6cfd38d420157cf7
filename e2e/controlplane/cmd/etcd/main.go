// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 so the
// e2e tests can run a real etcd behind kube-apiserver (see ../../build.sh).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
