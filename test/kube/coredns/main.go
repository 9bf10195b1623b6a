// CoreDNS with only the plugins the local cluster's DNS uses (scripts/local-cluster.mjs): the kubernetes plugin
// answers for cluster.local from the API, nothing is forwarded (pods have no way out of the machine anyway). A custom
// build as CoreDNS documents it: the plugins are imported and named in dnsserver.Directives, in their order.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
)

func init() {
	dnsserver.Directives = []string{"bind", "errors", "loadbalance", "cache", "kubernetes"}
}

func main() {
	coremain.Run()
}
