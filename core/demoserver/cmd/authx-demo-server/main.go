// Command authx-demo-server serves the demo API on a loopback address and
// prints its base URL on stdout. The user is DEMO_USER (default alice) and
// the password DEMO_PASSWORD.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/authx/authx/core/demoserver"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback `ADDRESS` to listen on")
	flag.Parse()
	user := os.Getenv("DEMO_USER")
	if user == "" {
		user = "alice"
	}
	pass := os.Getenv("DEMO_PASSWORD")
	if pass == "" {
		fmt.Fprintln(os.Stderr, "authx-demo-server: set DEMO_PASSWORD")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "authx-demo-server:", err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	if err := http.Serve(ln, &demoserver.Server{User: user, Password: pass}); err != nil {
		fmt.Fprintln(os.Stderr, "authx-demo-server:", err)
		os.Exit(1)
	}
}
