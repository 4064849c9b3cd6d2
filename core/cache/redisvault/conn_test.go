package redisvault

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx/authx/core/cache"
	"github.com/authx/authx/core/config"
)

// resolver resolves the references of refs, as core/secret would.
func resolver(refs map[string]string) Resolve {
	return func(_ context.Context, ref string) (string, error) {
		if v, ok := refs[ref]; ok {
			return v, nil
		}
		return "", errors.New(ref + " is not set")
	}
}

// keyRefs holds the sealing key of every store of these tests, env:KEY.
func keyRefs() map[string]string {
	return map[string]string{"env:KEY": base64.StdEncoding.EncodeToString(testKey(7))}
}

func fromConfig(t *testing.T, st config.SharedStore, refs map[string]string) *Vault {
	t.Helper()
	st.Type, st.Key = "redis", "env:KEY"
	v, err := FromConfig(context.Background(), "fleet", st, resolver(refs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// lockWait is Lock, called in one place.
func lockWait(v *Vault, account string, ttl, wait time.Duration) (*Lock, error) {
	return v.Lock(context.Background(), account, ttl, wait)
}

// roundTrip writes an entry through a and reads it through b, then takes
// the entry's lock through a while b waits for it, and releases it.
func roundTrip(t *testing.T, a, b *Vault) {
	t.Helper()
	if err := a.SetUntil("work.1", []byte("token-1"), time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("SetUntil: %v", err)
	}
	if got, err := b.Get("work.1"); err != nil || string(got) != "token-1" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	la, err := a.TryLock("work.1", 10*time.Second)
	if err != nil || la == nil {
		t.Fatalf("TryLock = %v, %v", la, err)
	}
	got := make(chan error, 1)
	go func() {
		lb, err := lockWait(b, "work.1", 10*time.Second, 20*time.Second)
		if err == nil {
			err = lb.Unlock()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := la.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("the waiter: %v", err)
	}
}

// unavailable fails t unless err says Redis cannot be used and holds none
// of secrets.
func unavailable(t *testing.T, what string, err error, secrets ...string) {
	t.Helper()
	if !errors.Is(err, cache.ErrVaultUnavailable) {
		t.Fatalf("%s: %v, want ErrVaultUnavailable", what, err)
	}
	oneLineWithout(t, what, err, secrets...)
}

// refused checks that err is Redis refusing authx's user: not an outage
// (no store falls back from it), one line, no secret, saying what to
// check.
func refused(t *testing.T, what string, err error, secrets ...string) {
	t.Helper()
	if err == nil || errors.Is(err, cache.ErrVaultUnavailable) || !strings.Contains(err.Error(), "check the store's username, password") {
		t.Fatalf("%s: %v, want a refusal that is not ErrVaultUnavailable", what, err)
	}
	oneLineWithout(t, what, err, secrets...)
}

func oneLineWithout(t *testing.T, what string, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("%s: the error %q holds a secret", what, err)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("%s: the error %q is not one line", what, err)
	}
}

// aclRules are what authx needs of a Redis ACL user (docs/stores.md).
var aclRules = []string{"~authx:*", "&authx:*", "-@all", "+ping", "+hello", "+auth",
	"+get", "+getrange", "+set", "+del", "+pexpire", "+eval", "+evalsha", "+publish", "+subscribe", "+unsubscribe", "+scan"}

// A Redis whose default user is off and whose ACL user authx may use the
// keys authx: only: username and password (a secret reference) open it;
// a wrong password or no user is a refusal (not an outage: no store
// falls back from it) whose error holds no password.
func TestACLUserAndPassword(t *testing.T) {
	const pw, wrong = "s3cret-Redis-pass", "wr0ng-Redis-pass"
	s := startRedis(t, append([]string{"--user", "default", "off", "--user", "authx", "on", ">" + pw}, aclRules...)...)
	refs := keyRefs()
	refs["env:REDIS_PASSWORD"] = pw
	st := config.SharedStore{URL: s.URL(), Username: "authx", Password: "env:REDIS_PASSWORD"}
	roundTrip(t, fromConfig(t, st, refs), fromConfig(t, st, refs))

	refs["env:REDIS_PASSWORD"] = wrong
	_, err := fromConfig(t, st, refs).Get("work.1")
	refused(t, "a wrong password", err, wrong, pw)

	refs["env:REDIS_PASSWORD"] = pw
	_, err = fromConfig(t, config.SharedStore{URL: s.URL(), Password: "env:REDIS_PASSWORD"}, refs).Get("work.1")
	refused(t, "the password without the user", err, pw)

	// The user and password of the URL work too, and the user of the
	// config replaces the URL's.
	u := fmt.Sprintf("redis://nobody:%s@%s", pw, s.Addr)
	if _, err := fromConfig(t, config.SharedStore{URL: u, Username: "authx"}, refs).Get("work.1"); err != nil {
		t.Fatalf("the URL's password with username: authx: %v", err)
	}

	_, err = FromConfig(context.Background(), "fleet", config.SharedStore{Type: "redis", URL: s.URL(), Key: "env:KEY", Password: "env:UNSET"}, resolver(refs))
	if err == nil || !strings.HasPrefix(err.Error(), "stores.fleet.password: env:UNSET is not set") {
		t.Fatalf("an unset password reference: %v", err)
	}
}

// pki is a private CA, a server certificate it signed for redis.test
// (not for 127.0.0.1), a client certificate it signed, and another CA.
type pki struct{ dir, ca, otherCA, serverCert, serverKey, clientCert, clientKey string }

func newPKI(t *testing.T) pki {
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(0)
	cert := func(tmpl *x509.Certificate, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(crand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, der
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	p := pki{dir: dir}
	caKey := newKey()
	ca, der := cert(caTmpl("authx test CA"), caKey, nil, nil)
	p.ca = write("ca.pem", "CERTIFICATE", der)
	_, der = cert(caTmpl("another CA"), newKey(), nil, nil)
	p.otherCA = write("other-ca.pem", "CERTIFICATE", der)
	srvKey := newKey()
	_, der = cert(&x509.Certificate{Subject: pkix.Name{CommonName: "redis.test"}, DNSNames: []string{"redis.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, srvKey, ca, caKey)
	p.serverCert, p.serverKey = write("server.pem", "CERTIFICATE", der), write("server.key", "PRIVATE KEY", keyDER(srvKey))
	cliKey := newKey()
	_, der = cert(&x509.Certificate{Subject: pkix.Name{CommonName: "authx"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, cliKey, ca, caKey)
	p.clientCert, p.clientKey = write("client.pem", "CERTIFICATE", der), write("client.key", "PRIVATE KEY", keyDER(cliKey))
	return p
}

// startTLSRedis starts a redis-server that speaks TLS only, with p's
// server certificate, and asks for a client certificate p's CA signed.
func startTLSRedis(t *testing.T, p pki) *server {
	port := strconv.Itoa(freePort(t))
	pair, err := tls.LoadX509KeyPair(p.clientCert, p.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	b, _ := os.ReadFile(p.ca)
	roots.AppendCertsFromPEM(b)
	dial := func(addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: time.Second}
		return tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "redis.test", Certificates: []tls.Certificate{pair}})
	}
	return runRedis(t, net.JoinHostPort("127.0.0.1", port), dial, "--port", "0", "--tls-port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "warning",
		"--tls-cert-file", p.serverCert, "--tls-key-file", p.serverKey, "--tls-ca-cert-file", p.ca, "--tls-auth-clients", "yes")
}

// TLS with a private CA: verified against ca_file (instead of the system's
// roots) under server_name, with a client certificate; a wrong CA, the
// wrong name or no client certificate is an unavailable store.
func TestTLSWithAPrivateCA(t *testing.T) {
	p := newPKI(t)
	s := startTLSRedis(t, p)
	url := "rediss://" + s.Addr
	good := config.StoreTLS{CAFile: p.ca, CertFile: p.clientCert, KeyFile: p.clientKey, ServerName: "redis.test"}
	st := config.SharedStore{URL: url, TLS: &good}
	roundTrip(t, fromConfig(t, st, keyRefs()), fromConfig(t, st, keyRefs()))

	for what, tc := range map[string]config.StoreTLS{
		"another CA":            {CAFile: p.otherCA, CertFile: p.clientCert, KeyFile: p.clientKey, ServerName: "redis.test"},
		"the system's roots":    {CertFile: p.clientCert, KeyFile: p.clientKey, ServerName: "redis.test"},
		"no server_name":        {CAFile: p.ca, CertFile: p.clientCert, KeyFile: p.clientKey},
		"no client certificate": {CAFile: p.ca, ServerName: "redis.test"},
	} {
		_, err := fromConfig(t, config.SharedStore{URL: url, TLS: &tc}, keyRefs()).Get("work.1")
		unavailable(t, what, err)
	}
	_, err := fromConfig(t, config.SharedStore{URL: "redis://" + s.Addr}, keyRefs()).Get("work.1")
	unavailable(t, "redis:// to a TLS port", err)
}

// The files of tls: are read and checked when the Vault is built; errors
// name the field and never quote a key.
func TestTLSFileErrors(t *testing.T) {
	p := newPKI(t)
	key, _ := os.ReadFile(p.clientKey)
	keyLine := string(bytes.Split(key, []byte("\n"))[1])
	for _, c := range []struct {
		tls  config.StoreTLS
		want string
	}{
		{config.StoreTLS{CAFile: filepath.Join(p.dir, "none.pem")}, "stores.fleet.tls.ca_file: " + filepath.Join(p.dir, "none.pem") + ": cannot read it"},
		{config.StoreTLS{CAFile: p.clientKey}, "stores.fleet.tls.ca_file: " + p.clientKey + " holds no PEM certificate"},
		{config.StoreTLS{CAFile: p.dir}, "stores.fleet.tls.ca_file: " + p.dir + ": not a regular file"},
		{config.StoreTLS{CertFile: p.clientCert, KeyFile: p.serverKey}, "stores.fleet.tls.cert_file, key_file: "},
		{config.StoreTLS{CertFile: p.clientKey, KeyFile: p.clientCert}, "stores.fleet.tls.cert_file, key_file: "},
		{config.StoreTLS{CertFile: p.clientCert, KeyFile: filepath.Join(p.dir, "none.key")}, "stores.fleet.tls.key_file: "},
	} {
		_, err := FromConfig(context.Background(), "fleet", config.SharedStore{Type: "redis", URL: "rediss://h:6380", Key: "env:KEY", TLS: &c.tls}, resolver(keyRefs()))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.tls, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), keyLine) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: the error %q quotes the key or is not one line", c.tls, err)
		}
	}
	if _, err := New(Options{URL: "redis://h:6379", TLS: &tls.Config{}, Box: newBox(t)}); err == nil || !strings.Contains(err.Error(), "rediss://") {
		t.Errorf("TLS settings with redis://: %v", err)
	}
}

// poll calls ok every 50 ms until it is true, failing t after within.
func poll(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	defer func(s time.Time) { t.Logf("%s: %v", what, time.Since(s)) }(time.Now())
	for deadline := time.Now().Add(within); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, within)
		}
	}
}

// startSentinel starts a Redis Sentinel monitoring master as mymaster,
// with a quorum of one, asking for sentinelPassword.
func startSentinel(t *testing.T, master *server) *server {
	dir := t.TempDir()
	port := strconv.Itoa(freePort(t))
	host, mport, _ := net.SplitHostPort(master.Addr)
	conf := filepath.Join(dir, "sentinel.conf")
	os.WriteFile(conf, []byte("port "+port+"\nbind 127.0.0.1\ndir "+dir+"\nloglevel warning\n"+
		"sentinel monitor mymaster "+host+" "+mport+" 1\n"+
		"sentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 10000\n"+
		"requirepass "+sentinelPassword+"\n"), 0o600)
	return runRedis(t, net.JoinHostPort("127.0.0.1", port), nil, conf, "--sentinel")
}

const sentinelPassword = "s3cret-Sentinel-pass"

// Sentinel: the Vault finds the master through the sentinel (its password
// a secret reference), and after a failover (the former master then
// killed) reads and writes on the new master, the former replica. A wrong
// sentinel password is an unavailable store whose error holds neither.
func TestSentinel(t *testing.T) {
	master := startRedis(t, "--repl-diskless-sync-delay", "0")
	replica := startRedis(t, "--replicaof", strings.Replace(master.Addr, ":", " ", 1))
	poll(t, 20*time.Second, "the replica in sync", func() bool {
		out, _ := replica.TryCLI(t, "INFO", "replication")
		return strings.Contains(out, "master_link_status:up")
	})
	sentinel := startSentinel(t, master)
	masterAddr := func() string {
		out, _ := sentinel.TryCLI(t, "--pass", sentinelPassword, "--no-auth-warning", "SENTINEL", "get-master-addr-by-name", "mymaster")
		return strings.Join(strings.Fields(out), ":")
	}
	refs := keyRefs()
	refs["env:SENTINEL_PASSWORD"] = "wrong-" + sentinelPassword
	st := config.SharedStore{Sentinel: &config.StoreSentinel{Master: "mymaster", Addrs: []string{sentinel.Addr}, Password: "env:SENTINEL_PASSWORD"}}
	_, err := fromConfig(t, st, refs).Get("work.1")
	refused(t, "a wrong sentinel password", err, sentinelPassword)
	refs["env:SENTINEL_PASSWORD"] = sentinelPassword
	a, b := fromConfig(t, st, refs), fromConfig(t, st, refs)
	roundTrip(t, a, b)
	if out, _ := master.TryCLI(t, "EXISTS", a.entryKey("work.1")); strings.TrimSpace(out) != "1" {
		t.Fatalf("the entry is not on the master: %q", out)
	}

	// A failover: the replica, which has the entry, becomes the master.
	poll(t, 20*time.Second, "the entry on the replica", func() bool {
		out, _ := replica.TryCLI(t, "EXISTS", a.entryKey("work.1"))
		return strings.TrimSpace(out) == "1"
	})
	poll(t, 30*time.Second, "the sentinel's failover", func() bool {
		out, _ := sentinel.TryCLI(t, "--pass", sentinelPassword, "--no-auth-warning", "SENTINEL", "FAILOVER", "mymaster")
		return strings.HasPrefix(out, "OK")
	})
	poll(t, 30*time.Second, "the replica promoted", func() bool { return masterAddr() == replica.Addr })
	master.Kill() // gone: no write can land on it any more
	poll(t, 20*time.Second, "a write after the failover", func() bool {
		return a.SetUntil("work.2", []byte("token-2"), time.Now().Add(time.Minute)) == nil
	})
	for _, account := range []string{"work.1", "work.2"} {
		if _, err := b.Get(account); err != nil {
			t.Fatalf("Get(%s) after the failover: %v", account, err)
		}
	}
	if out, _ := replica.TryCLI(t, "EXISTS", a.entryKey("work.2")); strings.TrimSpace(out) != "1" {
		t.Fatalf("the entry written after the failover is not on the new master: %q", out)
	}
}

// clusterACLRules are what authx needs of an ACL user on a Redis Cluster
// (docs/stores.md).
var clusterACLRules = append(append([]string{}, aclRules...), "+cluster|slots")

const clusterPassword = "s3cret-Cluster-pass"

// startCluster starts a Redis Cluster of three masters, each with the ACL
// user authx (password clusterPassword) besides the default user.
func startCluster(t *testing.T) []*server {
	nodes := make([]*server, 3)
	args := []string{"--cluster-create"}
	for i := range nodes {
		nodes[i] = startRedis(t, append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(freePort(t)), "--cluster-node-timeout", "5000",
			"--user", "authx", "on", ">" + clusterPassword}, clusterACLRules...)...)
		args = append(args, nodes[i].Addr)
	}
	args[0] = "create"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireTool(t, "redis-cli"), append([]string{"--cluster"}, append(args, "--cluster-yes")...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v: %s", err, out)
	}
	for _, n := range nodes {
		poll(t, 30*time.Second, "cluster_state:ok on "+n.Addr, func() bool {
			out, _ := n.TryCLI(t, "CLUSTER", "INFO")
			return strings.Contains(out, "cluster_state:ok") && strings.Contains(out, "cluster_known_nodes:3")
		})
	}
	return nodes
}

// Cluster: entries spread over the masters are written and read through a
// Vault that knows one node and one that knows all, as the ACL user authx;
// the lock works and its waiter is woken (pub/sub) across nodes.
func TestCluster(t *testing.T) {
	nodes := startCluster(t)
	refs := keyRefs()
	refs["env:REDIS_PASSWORD"] = clusterPassword
	cluster := func(addrs ...string) config.SharedStore {
		return config.SharedStore{Cluster: &config.StoreCluster{Addrs: addrs}, Username: "authx", Password: "env:REDIS_PASSWORD"}
	}
	a := fromConfig(t, cluster(nodes[0].Addr), refs)
	b := fromConfig(t, cluster(nodes[0].Addr, nodes[1].Addr, nodes[2].Addr), refs)
	roundTrip(t, a, b)
	for i := range 10 {
		account := fmt.Sprintf("p%d.%d", i, i)
		if err := a.SetUntil(account, []byte(account), time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("SetUntil(%s): %v", account, err)
		}
		if got, err := b.Get(account); err != nil || string(got) != account {
			t.Fatalf("Get(%s) = %q, %v", account, got, err)
		}
	}
	for _, v := range []*Vault{a, b} {
		if got, err := v.List("p"); err != nil || len(got) != 10 {
			t.Fatalf("List over the cluster: %q, %v; want the 10 entries of every node", got, err)
		}
	}
	holding := 0
	for _, n := range nodes {
		if out, _ := n.TryCLI(t, "DBSIZE"); strings.TrimSpace(out) != "0" {
			holding++
		}
	}
	if holding < 2 {
		t.Fatalf("the entries are on %d node(s) of 3", holding)
	}
	// Routed by the key's slot alone: no COMMAND lookup, which the ACL
	// user may not run (and go-redis would bound by 5 s, not the timeout).
	for _, n := range nodes {
		if out, _ := n.TryCLI(t, "INFO", "commandstats"); strings.Contains(out, "cmdstat_command:") {
			t.Fatalf("COMMAND was sent to %s", n.Addr)
		}
	}

	// The waiter polls first after a minute: it takes the lock released
	// at 1 s within the test only if the release woke it (pub/sub).
	w := fromConfig(t, cluster(nodes[1].Addr), refs)
	w.pollFirst, w.pollMax = time.Minute, time.Minute
	la, err := a.TryLock("work.9", 30*time.Second)
	if err != nil || la == nil {
		t.Fatal(la, err)
	}
	time.AfterFunc(time.Second, func() { la.Unlock() })
	start := time.Now()
	lw, err := lockWait(w, "work.9", 10*time.Second, 50*time.Second)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	defer lw.Unlock()
	if took > 30*time.Second {
		t.Fatalf("the waiter took the lock after %v: not woken by the release at 1 s", took)
	}
}

// silent listens on 127.0.0.1 and holds every connection open without a
// word (a hung Redis, a black-holing proxy) until the test ends.
func silent(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return l.Addr().String()
}

// Every kind of connection keeps the bound of the store's timeout: a
// silent server, sentinel or cluster node, or a refused port, is an
// unavailable store within it.
func TestEveryConnectionIsBounded(t *testing.T) {
	quiet, refused := silent(t), "127.0.0.1:"+strconv.Itoa(freePort(t))
	timeout := 300 * time.Millisecond // the default, 2 s, would exceed every limit below
	for what, st := range map[string]config.SharedStore{
		"a silent server":         {URL: "redis://" + quiet},
		"a silent sentinel":       {Sentinel: &config.StoreSentinel{Master: "mymaster", Addrs: []string{quiet}}},
		"a silent cluster node":   {Cluster: &config.StoreCluster{Addrs: []string{quiet}}},
		"a refused sentinel":      {Sentinel: &config.StoreSentinel{Master: "mymaster", Addrs: []string{refused}}},
		"a refused cluster node":  {Cluster: &config.StoreCluster{Addrs: []string{refused}}},
		"a silent server and TLS": {URL: "rediss://" + quiet, TLS: &config.StoreTLS{ServerName: "redis.test"}},
	} {
		t.Run(what, func(t *testing.T) {
			t.Parallel()
			st.Timeout = timeout
			v := fromConfig(t, st, keyRefs())
			limit := time.Second
			bounded(t, "Get", limit, func() error { _, err := v.Get("work.1"); return err })
			bounded(t, "SetUntil", limit, func() error { return v.SetUntil("work.1", []byte("y"), time.Now().Add(time.Minute)) })
			bounded(t, "TryLock", limit, func() error { _, err := v.TryLock("work.1", time.Second); return err })
			bounded(t, "Lock", 2*limit, func() error { _, err := lockWait(v, "work.1", time.Second, 10*time.Second); return err })
		})
	}
}
