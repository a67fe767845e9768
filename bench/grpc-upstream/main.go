// Command grpc-upstream is the gRPC upstream of bench/protocols.ts: every unary call, on any method,
// is answered with the request's message echoed back and grpc-status 0. It uses a pass-through codec
// and an unknown-service handler, so it needs no generated code and does no protobuf work: the upstream
// must cost less than either proxy in front of it.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// rawCodec passes message bytes through unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

func echo(_ any, stream grpc.ServerStream) error {
	var msg []byte
	if err := stream.RecvMsg(&msg); err != nil {
		return err
	}
	return stream.SendMsg(&msg)
}

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on (h2c)")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The harness reads the port from this line.
	fmt.Printf("listening %s\n", lis.Addr())
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(echo), grpc.MaxConcurrentStreams(1000))
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
