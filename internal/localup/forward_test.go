package localup

import (
	"io"
	"net"
	"testing"
	"time"
)

// nameServer accepts connections and writes its name on each.
func nameServer(t *testing.T, name string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(name))
			c.Close()
		}
	}()
	return l
}

func readFrom(t *testing.T, addr string) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	data, err := io.ReadAll(c)
	return string(data), err
}

func TestForwarderBalances(t *testing.T) {
	a, b := nameServer(t, "a"), nameServer(t, "b")
	defer b.Close()
	f, err := startForwarder("127.0.0.1:0", a.Addr().String(), b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	addr := f.listener.Addr().String()

	seen := map[string]int{}
	for i := 0; i < 6; i++ {
		got, err := readFrom(t, addr)
		if err != nil {
			t.Fatal(err)
		}
		seen[got]++
	}
	if seen["a"] != 3 || seen["b"] != 3 {
		t.Fatalf("6 connections went %v, want 3 to each target", seen)
	}

	// A target that refuses connections is skipped.
	a.Close()
	for i := 0; i < 4; i++ {
		if got, err := readFrom(t, addr); err != nil || got != "b" {
			t.Fatalf("with a stopped: got %q, %v; want b", got, err)
		}
	}

	// No target: the connection is closed without data.
	b.Close()
	if got, _ := readFrom(t, addr); got != "" {
		t.Fatalf("with every target stopped: got %q, want a closed connection", got)
	}
}
