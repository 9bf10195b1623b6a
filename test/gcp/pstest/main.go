// Test equipment, never shipped: Google's own Pub/Sub fake (cloud.google.com/go/pubsub/v2/pstest) as a process, with
// a small IAMPolicy service beside it, because pstest answers IAM calls UNIMPLEMENTED and the GCP provider sets topic
// and subscription IAM (publisher/subscriber bindings per service). Built by `node scripts/gcp-fakes.mjs build`.
//
// It listens on localhost at the given port (0: any free port) and prints one line, "listening 127.0.0.1:PORT", once
// the server accepts connections; it stops on SIGTERM or SIGINT (the harness also starts it with setpriv --pdeathsig).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	iampb "cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// iamFake keeps one policy per topic or subscription, with an etag that changes on every write, so a
// read-modify-write with a stale etag is refused as Google's IAM refuses it (ABORTED).
type iamFake struct {
	iampb.UnimplementedIAMPolicyServer
	mu       sync.Mutex
	policies map[string]*iampb.Policy
	server   *pstest.Server
}

// exists asks pstest itself, so a policy on a topic or subscription that is not there is NOT_FOUND, as on Pub/Sub.
func (f *iamFake) exists(ctx context.Context, resource string) error {
	var err error
	switch {
	case strings.Contains(resource, "/topics/"):
		_, err = f.server.GServer.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: resource})
	case strings.Contains(resource, "/subscriptions/"):
		_, err = f.server.GServer.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: resource})
	default:
		err = status.Errorf(codes.InvalidArgument, "the fake's IAMPolicy knows topics and subscriptions only, not %q", resource)
	}
	return err
}

func etagOf(p *iampb.Policy) []byte {
	copy := proto.Clone(p).(*iampb.Policy)
	copy.Etag = nil
	bytes, _ := proto.Marshal(copy)
	sum := sha256.Sum256(bytes)
	return sum[:8]
}

func (f *iamFake) GetIamPolicy(ctx context.Context, req *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	if err := f.exists(ctx, req.GetResource()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.policies[req.GetResource()]; ok {
		return proto.Clone(p).(*iampb.Policy), nil
	}
	empty := &iampb.Policy{Version: 1}
	empty.Etag = etagOf(empty)
	return empty, nil
}

func (f *iamFake) SetIamPolicy(ctx context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	if err := f.exists(ctx, req.GetResource()); err != nil {
		return nil, err
	}
	if req.GetPolicy() == nil {
		return nil, status.Error(codes.InvalidArgument, "policy is required")
	}
	for _, b := range req.GetPolicy().GetBindings() {
		if !strings.HasPrefix(b.GetRole(), "roles/") {
			return nil, status.Errorf(codes.InvalidArgument, "role %q is not a role name (roles/...)", b.GetRole())
		}
		for _, m := range b.GetMembers() {
			if !strings.Contains(m, ":") {
				return nil, status.Errorf(codes.InvalidArgument, "member %q has no type prefix (serviceAccount:, user:, group:...)", m)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	current, ok := f.policies[req.GetResource()]
	if len(req.GetPolicy().GetEtag()) > 0 && ok && !bytes.Equal(current.GetEtag(), req.GetPolicy().GetEtag()) {
		return nil, status.Error(codes.Aborted, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.")
	}
	next := proto.Clone(req.GetPolicy()).(*iampb.Policy)
	next.Etag = etagOf(next)
	f.policies[req.GetResource()] = next
	return proto.Clone(next).(*iampb.Policy), nil
}

func (f *iamFake) TestIamPermissions(ctx context.Context, req *iampb.TestIamPermissionsRequest) (*iampb.TestIamPermissionsResponse, error) {
	if err := f.exists(ctx, req.GetResource()); err != nil {
		return nil, err
	}
	// The caller of a fake holds every permission it asks about.
	return &iampb.TestIamPermissionsResponse{Permissions: req.GetPermissions()}, nil
}

func main() {
	port := flag.Int("port", 0, "port on localhost (0: any free port)")
	flag.Parse()

	iam := &iamFake{policies: map[string]*iampb.Policy{}}
	server := pstest.NewServerWithCallback(*port, func(g *grpc.Server) { iampb.RegisterIAMPolicyServer(g, iam) })
	iam.server = server
	// pstest listens on "localhost:PORT"; the harness connects to 127.0.0.1, which is what localhost resolves to here.
	addr := server.Addr
	if host, p, ok := strings.Cut(addr, ":"); ok && (host == "localhost" || host == "") {
		addr = "127.0.0.1:" + p
	}
	fmt.Printf("listening %s\n", addr)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	_ = server.Close()
}
