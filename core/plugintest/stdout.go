package plugintest

import (
	"context"
	"fmt"
	"time"
)

// stdoutSettle lets go-plugin forward what a Go plugin wrote last: its
// stdout reaches the host asynchronously, over the GRPCStdio stream.
const stdoutSettle = 100 * time.Millisecond

// maxQuote is how much of a plugin's stray output a Detail quotes.
const maxQuote = 60

// stdoutClean: the plugin wrote nothing to stdout after the handshake,
// during every call above. The host's Options.Stdout sees both what
// go-plugin forwards (a Go plugin's os.Stdout, redirected by plugin.Serve)
// and what any plugin writes to the raw pipe after the handshake line.
func (r *runner) stdoutClean(ctx context.Context) (Status, string) {
	select {
	case <-time.After(stdoutSettle):
	case <-ctx.Done():
	}
	out := r.stdout.Bytes()
	if len(out) == 0 {
		return Pass, "nothing written after the handshake"
	}
	quote := out
	if len(quote) > maxQuote {
		quote = quote[:maxQuote]
	}
	return Fail, fmt.Sprintf("%s written to stdout after the handshake, which carries nothing else: %q",
		plural(len(out), "byte", "bytes"), quote)
}
