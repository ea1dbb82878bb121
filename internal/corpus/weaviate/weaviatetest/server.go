// Package weaviatetest runs real Weaviate servers on loopback for tests:
// single nodes and small clusters, each in its own temporary directory on
// free ports, stopped when the test ends, with their logs shown when it
// fails.
package weaviatetest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Version is the server release the tests are written against.
const Version = "v1.39.3"

// Binary returns the weaviate-server to run: $RAGTUNE_WEAVIATE_BIN, else
// one on PATH, else one `go install` put in GOBIN or GOPATH/bin. Without
// one the test is skipped with the command that builds it, unless
// RAGTUNE_REQUIRE_WEAVIATE is set (as CI does), which fails it instead.
func Binary(t testing.TB) string {
	candidates := []string{os.Getenv("RAGTUNE_WEAVIATE_BIN")}
	if p, err := exec.LookPath("weaviate-server"); err == nil {
		candidates = append(candidates, p)
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			candidates = append(candidates, filepath.Join(lines[0], "weaviate-server"), filepath.Join(lines[1], "bin", "weaviate-server"))
		}
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c
		}
	}
	msg := "weaviate-server not found: build it with `make weaviate` (go install github.com/weaviate/weaviate/cmd/weaviate-server@" +
		Version + ", about 5 minutes) or set RAGTUNE_WEAVIATE_BIN"
	if os.Getenv("RAGTUNE_REQUIRE_WEAVIATE") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Node is one running (or stopped) server.
type Node struct {
	Name string
	URL  string
	bin  string
	dir  string
	log  string
	env  []string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a single-node server and waits until it is ready; env adds
// or overrides server settings (NAME=value).
func Start(t testing.TB, env ...string) *Node {
	bin := Binary(t)
	p := freePorts(t, "127.0.0.1", 6)
	n := newNode(t, bin, "node1", "127.0.0.1", p[0], append([]string{
		"GRPC_PORT=" + strconv.Itoa(p[1]), "RAFT_BOOTSTRAP_EXPECT=1",
		"CLUSTER_GOSSIP_BIND_PORT=" + strconv.Itoa(p[2]), "CLUSTER_DATA_BIND_PORT=" + strconv.Itoa(p[3]),
		"RAFT_PORT=" + strconv.Itoa(p[4]), "RAFT_INTERNAL_RPC_PORT=" + strconv.Itoa(p[5]),
	}, env...))
	n.start(t)
	return n
}

// DataDir is where the node keeps its data (PERSISTENCE_DATA_PATH).
func (n *Node) DataDir() string { return filepath.Join(n.dir, "data") }

// StartCluster runs an n-node cluster (n ≤ 9). Node i listens on its own
// loopback address 127.0.0.i with the same gossip, Raft and HTTP ports as
// the others (Weaviate expects the same Raft port on every node). The
// gRPC port and the cluster data port bind every interface whatever
// CLUSTER_BIND_ADDR says, so each node gets its own: with a shared data
// port only node1 could listen on it, and every node's internal traffic
// (replicated writes, remote reads, node status) went to node1, so node2
// and node3 held no data and answered searches with nothing. Each node
// publishes its data port in its gossip metadata, so they need not match.
func StartCluster(t testing.TB, count int) []*Node {
	bin := Binary(t)
	var hosts, names []string
	for i := 1; i <= count; i++ {
		hosts = append(hosts, "127.0.0."+strconv.Itoa(i))
		names = append(names, "node"+strconv.Itoa(i))
	}
	shared := freePorts(t, hosts[0], 4, hosts...)
	// Ports that bind every interface: count for gRPC, count for data.
	wild := freePorts(t, "0.0.0.0", 2*count)
	var nodes []*Node
	for i := range count {
		env := []string{
			"GRPC_PORT=" + strconv.Itoa(wild[i]), "RAFT_BOOTSTRAP_EXPECT=" + strconv.Itoa(count),
			"RAFT_JOIN=" + strings.Join(names, ","),
			"CLUSTER_GOSSIP_BIND_PORT=" + strconv.Itoa(shared[1]), "CLUSTER_DATA_BIND_PORT=" + strconv.Itoa(wild[count+i]),
			"RAFT_PORT=" + strconv.Itoa(shared[2]), "RAFT_INTERNAL_RPC_PORT=" + strconv.Itoa(shared[3]),
		}
		if i > 0 {
			env = append(env, "CLUSTER_JOIN="+hosts[0]+":"+strconv.Itoa(shared[1]))
		}
		nodes = append(nodes, newNode(t, bin, names[i], hosts[i], shared[0], env))
	}
	// The others join through node1's gossip port, so it must listen first.
	nodes[0].launch(t)
	waitListening(t, net.JoinHostPort(hosts[0], strconv.Itoa(shared[1])), time.Minute)
	for _, n := range nodes[1:] {
		n.launch(t)
	}
	for _, n := range nodes {
		n.waitReady(t, 3*time.Minute)
	}
	for _, n := range nodes {
		n.waitMembers(t, names, time.Minute)
	}
	return nodes
}

// waitMembers waits until the node's /v1/nodes answers for every one of
// names, each by itself: a node whose internal traffic reaches another
// node shows up there under that other node's name.
func (n *Node) waitMembers(t testing.TB, names []string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	var seen []string
	for time.Now().Before(deadline) {
		seen = seen[:0]
		var out struct {
			Nodes []struct{ Name, Status string }
		}
		resp, err := http.Get(n.URL + "/v1/nodes")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
		}
		healthy := map[string]bool{}
		for _, m := range out.Nodes {
			seen = append(seen, m.Name+" "+m.Status)
			if m.Status == "HEALTHY" {
				healthy[m.Name] = true
			}
		}
		if err == nil && len(out.Nodes) == len(names) && len(healthy) == len(names) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	n.showLog(t)
	t.Fatalf("weaviate %s: /v1/nodes answers %v, want each of %v once and healthy", n.Name, seen, names)
}

func newNode(t testing.TB, bin, name, host string, port int, env []string) *Node {
	dir := t.TempDir()
	n := &Node{Name: name, URL: fmt.Sprintf("http://%s:%d", host, port), bin: bin, dir: dir, log: filepath.Join(dir, "weaviate.log"),
		args: []string{"--host", host, "--port", strconv.Itoa(port), "--scheme", "http"}}
	n.env = append(os.Environ(), "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true", "PERSISTENCE_DATA_PATH="+filepath.Join(dir, "data"),
		"DEFAULT_VECTORIZER_MODULE=none", "CLUSTER_HOSTNAME="+name, "CLUSTER_ADVERTISE_ADDR="+host, "CLUSTER_BIND_ADDR="+host,
		"DISABLE_TELEMETRY=true", "GO_PROFILING_DISABLE=true", "LOG_LEVEL=info", "QUERY_DEFAULTS_LIMIT=100")
	n.env = append(n.env, env...)
	t.Cleanup(func() {
		n.Kill()
		if t.Failed() {
			n.showLog(t)
		}
	})
	return n
}

func (n *Node) start(t testing.TB) {
	n.launch(t)
	n.waitReady(t, 2*time.Minute)
}

func (n *Node) launch(t testing.TB) {
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(n.bin, n.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = n.env, logf, logf, n.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", n.bin, err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(n.done) }()
}

func (n *Node) waitReady(t testing.TB, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			n.showLog(t)
			t.Fatalf("weaviate %s exited before it was ready", n.Name)
		default:
		}
		resp, err := http.Get(n.URL + "/v1/.well-known/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	n.showLog(t)
	t.Fatalf("weaviate %s not ready after %s", n.Name, limit)
}

// Kill stops the node with SIGKILL, as a crash would, and waits for it.
func (n *Node) Kill() {
	if n.cmd == nil {
		return
	}
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// Stop shuts the node down with SIGTERM, as an orderly restart would,
// and waits for it to exit; it flushes what it holds in memory first.
func (n *Node) Stop(t testing.TB) {
	if n.cmd == nil {
		return
	}
	syscall.Kill(n.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-n.done:
		n.cmd = nil
	case <-time.After(2 * time.Minute):
		n.Kill()
		t.Fatalf("weaviate %s did not stop within 2 minutes of SIGTERM", n.Name)
	}
}

// Restart starts a stopped or killed node again on the same data and waits for it.
func (n *Node) Restart(t testing.TB) {
	n.start(t)
}

func (n *Node) showLog(t testing.TB) {
	b, _ := os.ReadFile(n.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	t.Logf("last lines of %s's log (%s):\n%s", n.Name, n.log, strings.Join(lines, "\n"))
	if dir := os.Getenv("RAGTUNE_ARTIFACTS"); dir != "" {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+n.Name+".log"), b, 0o644)
	}
}

func waitListening(t testing.TB, addr string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after %s", addr, limit)
}

// freePorts finds count TCP ports free on host, and on every one of also.
func freePorts(t testing.TB, host string, count int, also ...string) []int {
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for len(ports) < count {
		l, err := net.Listen("tcp", host+":0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		ok := true
		for _, h := range also {
			if h == host {
				continue
			}
			l2, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l2)
		}
		if ok {
			ports = append(ports, p)
		}
	}
	return ports
}
