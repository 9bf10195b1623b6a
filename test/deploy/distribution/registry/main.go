// Test equipment, never shipped: distribution's registry (cmd/registry of github.com/distribution/distribution/v3)
// with only what the deploy tests use: local filesystem storage and the htpasswd and token access controllers. The
// upstream main also links the Azure, GCS and S3 storage drivers, whose SDKs make a cold build download about
// 1.2 GB of modules; without them the build downloads a fraction of that.
package main

import (
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

func main() {
	// Execute reports its own errors and exits non-zero on them.
	_ = registry.RootCmd.Execute()
}
