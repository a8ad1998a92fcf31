package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/rpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The ui-server's own limit for what it receives from the frontend.
const maxMessageBytes = 64 * 1024 * 1024

// frontendProxy forwards every gRPC call, whatever its service and method, to
// the frontend unchanged but for its metadata: the caller's authorization, or
// else 'Bearer <API key>'. Messages pass through as bytes, never decoded.
type frontendProxy struct {
	target  string
	dir     string
	server  *grpc.Server
	backend *grpc.ClientConn
}

func startFrontendProxy(address string, tlsSettings *config.TLS, apiKeyFile string) (*frontendProxy, error) {
	if _, err := readAPIKey(apiKeyFile); err != nil {
		return nil, err
	}
	// The ui-server's own TLS code, so the config's tls block means what it means to the stock server.
	tlsConfig, err := rpc.CreateTLSConfig(address, tlsSettings)
	if err != nil {
		return nil, fmt.Errorf("the tls settings for %s: %w", address, err)
	}
	transport := insecure.NewCredentials()
	if tlsConfig != nil {
		transport = credentials.NewTLS(tlsConfig)
	}
	backend, err := grpc.NewClient("passthrough:///"+address,
		grpc.WithTransportCredentials(transport),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.ForceCodecV2(rawCodec{})),
	)
	if err != nil {
		return nil, fmt.Errorf("a connection to %s: %w", address, err)
	}

	// A fresh directory (mode 0700) in the temporary directory: a short socket path, closed to other users.
	dir, err := os.MkdirTemp("", "temporal-ui-")
	if err != nil {
		_ = backend.Close()
		return nil, err
	}
	socket := filepath.Join(dir, "frontend.sock")
	listener, err := net.Listen("unix", socket)
	if err != nil {
		_ = backend.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}

	proxy := &frontendProxy{target: "unix://" + socket, dir: dir, backend: backend}
	proxy.server = grpc.NewServer(
		grpc.ForceServerCodecV2(rawCodec{}),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error { return proxy.forward(stream, apiKeyFile) }),
	)
	go func() { _ = proxy.server.Serve(listener) }()
	return proxy, nil
}

func (p *frontendProxy) stop() {
	p.server.Stop()
	_ = p.backend.Close()
	_ = os.RemoveAll(p.dir)
}

func (p *frontendProxy) forward(in grpc.ServerStream, apiKeyFile string) error {
	method, ok := grpc.MethodFromServerStream(in)
	if !ok {
		return status.Error(codes.Internal, "frontend proxy: a call without a method name")
	}
	md, err := outgoingMetadata(in.Context(), apiKeyFile)
	if err != nil {
		return status.Error(codes.Unauthenticated, err.Error())
	}
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(in.Context(), md))
	defer cancel()
	out, err := p.backend.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, method)
	if err != nil {
		return err
	}

	// Requests: caller to frontend, until the caller closes its side.
	go func() {
		for {
			var frame []byte
			if err := in.RecvMsg(&frame); err != nil {
				if errors.Is(err, io.EOF) {
					_ = out.CloseSend()
				} else {
					cancel()
				}
				return
			}
			// A failed send ends the call; the frontend's status comes from RecvMsg below.
			if err := out.SendMsg(&frame); err != nil {
				return
			}
		}
	}()

	// Responses: frontend to caller, then its status and trailers.
	headerSent := false
	for {
		var frame []byte
		err := out.RecvMsg(&frame)
		if !headerSent {
			headerSent = true
			if header, headerErr := out.Header(); headerErr == nil {
				_ = in.SendHeader(header)
			}
		}
		if err != nil {
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := in.SendMsg(&frame); err != nil {
			return err
		}
	}
}

// outgoingMetadata is the caller's metadata without what belongs to its own
// hop (pseudo-headers, content-type, user-agent, grpc-*), with the caller's
// authorization if it sent one (a signed-in user's token), else the API key.
func outgoingMetadata(ctx context.Context, apiKeyFile string) (metadata.MD, error) {
	incoming, _ := metadata.FromIncomingContext(ctx)
	md := metadata.MD{}
	for key, values := range incoming {
		if strings.HasPrefix(key, ":") || strings.HasPrefix(key, "grpc-") || key == "content-type" || key == "user-agent" || key == "te" {
			continue
		}
		md[key] = append([]string(nil), values...)
	}
	if len(md.Get("authorization")) == 0 {
		key, err := readAPIKey(apiKeyFile)
		if err != nil {
			return nil, err
		}
		md.Set("authorization", "Bearer "+key)
	}
	return md, nil
}

func readAPIKey(path string) (string, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the API key file: %w", err)
	}
	key := strings.TrimSpace(string(content))
	if key == "" {
		return "", fmt.Errorf("the API key file %s is empty", path)
	}
	return key, nil
}

// rawCodec passes messages through as the bytes they arrived as.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	frame, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("frontend proxy: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*frame)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	frame, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("frontend proxy: cannot unmarshal into %T", v)
	}
	*frame = data.Materialize()
	return nil
}

// Name is the content subtype the frontend is told: the messages are protobuf.
func (rawCodec) Name() string { return "proto" }
