package proxy

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkHop is the cost of the proxy itself per small request: the
// extra hop, the scope check and applying a credential, without a cache
// or a plugin behind the source.
func BenchmarkHop(b *testing.B) {
	up, _ := upstream(b, nil)
	px := start(b, up, &fakeSource{}, nil, nil)
	for _, bc := range []struct{ name, base string }{{"straight", up.URL}, {"proxy", px.URL}} {
		b.Run(bc.name, func(b *testing.B) {
			base := bc.base
			c := &http.Client{}
			for b.Loop() {
				resp, err := c.Get(base + "/api/x")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
