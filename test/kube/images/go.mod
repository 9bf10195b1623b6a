// Test equipment, never shipped: the two small programs of the local cluster's own images (scripts/cluster-images.mjs),
// standard library only. pause/ is the pod sandbox and the workloads' placeholder (what registry.k8s.io/pause is
// upstream); placeholder/ is a workload that answers HTTP, for tests that need a pod to serve.

module encore.test/kube-images

go 1.24
