package cli_test

import (
	"bufio"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// connectProxy is an HTTP proxy that only tunnels: it answers CONNECT by opening a connection to
// target (whatever host the client asked for) and records what it was asked, so a test sees
// which requests went through it and that it never saw one in the clear.
type connectProxy struct {
	target string
	mu     sync.Mutex
	asked  []string // "CONNECT example.com:443", or the method and URL of a request not tunnelled
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.asked = append(p.asked, r.Method+" "+r.Host)
	p.mu.Unlock()
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels", http.StatusMethodNotAllowed)
		return
	}
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() {
		defer upstream.Close()
		_, _ = io.Copy(upstream, bufio.NewReader(buf))
	}()
	go func() {
		defer conn.Close()
		_, _ = io.Copy(conn, upstream)
	}()
}

func (p *connectProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

// TestProxyAndCustomCAFromTheEnvironment holds baton to what helper/README.md says about proxies
// and custom CAs: its transport takes HTTPS_PROXY and NO_PROXY from the environment (Go's
// http.ProxyFromEnvironment) and tunnels through the proxy with CONNECT, and it trusts the CAs
// SSL_CERT_FILE or SSL_CERT_DIR name (Go's crypto/x509 on Linux), with no switch to turn
// verification off.
func TestProxyAndCustomCAFromTheEnvironment(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SSL_CERT_FILE and SSL_CERT_DIR are read by Go on Linux and other Unix systems, not on macOS or Windows")
	}
	cfg, err := simulator.ParseConfig([]byte(simConfig))
	require.NoError(t, err)
	sim := simulator.New(cfg)
	// httptest's certificate names example.com: baton asks for https://example.com, and only the
	// proxy knows that it leads to this server, so nothing can reach it without the proxy.
	api := httptest.NewTLSServer(sim)
	t.Cleanup(api.Close)

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})
	require.NoError(t, os.WriteFile(caFile, caPEM, 0o600))
	caDir := filepath.Join(dir, "certs")
	require.NoError(t, os.Mkdir(caDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(caDir, "ca.pem"), caPEM, 0o600))
	emptyDir := t.TempDir()

	tests := []struct {
		name        string
		host        string // default https://example.com, which only the proxy leads to
		env         []string
		wantCode    int
		wantProxied bool
		wantStderr  string
	}{
		{
			name:        "a trigger goes through HTTPS_PROXY and trusts the CA in SSL_CERT_FILE",
			env:         []string{"HTTPS_PROXY={proxy}", "SSL_CERT_FILE=" + caFile, "SSL_CERT_DIR=" + emptyDir},
			wantProxied: true,
		},
		{
			name:        "lower-case https_proxy works too, and SSL_CERT_DIR names a folder of CAs",
			env:         []string{"https_proxy={proxy}", "SSL_CERT_FILE=" + filepath.Join(emptyDir, "none.pem"), "SSL_CERT_DIR=" + caDir},
			wantProxied: true,
		},
		{
			name:        "a proxy given as host:port is taken as http://host:port",
			env:         []string{"HTTPS_PROXY={proxy-hostport}", "SSL_CERT_FILE=" + caFile},
			wantProxied: true,
		},
		{
			name:        "without the CA the server's certificate is refused and nothing is sent",
			env:         []string{"HTTPS_PROXY={proxy}", "SSL_CERT_FILE=" + filepath.Join(emptyDir, "none.pem"), "SSL_CERT_DIR=" + emptyDir},
			wantCode:    5,
			wantProxied: true,
			wantStderr:  "certificate signed by unknown authority",
		},
		{
			// .invalid never resolves (RFC 6761), so without the proxy the name cannot be found,
			// on a machine with a network too.
			name:       "NO_PROXY naming the host's domain bypasses the proxy",
			host:       "https://api.circleci.invalid",
			env:        []string{"HTTPS_PROXY={proxy}", "NO_PROXY=circleci.invalid", "SSL_CERT_FILE=" + caFile},
			wantCode:   5,
			wantStderr: "api.circleci.invalid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim.Reset()
			proxy := &connectProxy{target: api.Listener.Addr().String()}
			proxySrv := httptest.NewServer(proxy)
			t.Cleanup(proxySrv.Close)
			env := make([]string, 0, len(tt.env)+1)
			for _, e := range tt.env {
				switch {
				case e == "HTTPS_PROXY={proxy}" || e == "https_proxy={proxy}":
					e = e[:len(e)-len("{proxy}")] + proxySrv.URL
				case e == "HTTPS_PROXY={proxy-hostport}":
					e = "HTTPS_PROXY=" + proxySrv.Listener.Addr().String()
				}
				env = append(env, e)
			}
			host := "https://example.com"
			if tt.host != "" {
				host = tt.host
			}
			w := &world{t: t, sim: sim, url: host}
			r := w.baton(env, "trigger", "--project", "gh/acme/deploy", "--param", "replicas=3",
				"--retries", "0", "--request-timeout", "10s")

			require.Equal(t, tt.wantCode, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.wantStderr)
			if tt.wantProxied {
				asked := proxy.requests()
				require.NotEmpty(t, asked, "the request did not go through the proxy")
				for _, a := range asked {
					assert.Equal(t, "CONNECT example.com:443", a, "every request is tunnelled, so the proxy never sees the token")
				}
			} else {
				assert.Empty(t, proxy.requests(), "NO_PROXY names the host, so the proxy is not asked")
			}
			if tt.wantCode == 0 {
				assert.Len(t, sim.Requests(), 1)
			} else {
				assert.Empty(t, sim.Requests(), "nothing reached the API")
			}
		})
	}
}
