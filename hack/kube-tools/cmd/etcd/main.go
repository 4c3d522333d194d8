// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 at the
// version hack/kube-tools/go.mod pins. etcd's own main package lives in the
// go.etcd.io/etcd/v3 root module, which is not meant to be required; it does
// nothing but call etcdmain.Main, and neither does this.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
