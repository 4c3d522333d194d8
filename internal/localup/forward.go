package localup

import (
	"io"
	"net"
	"sync"
	"time"
)

// forwarder relays TCP connections from one address to one of several
// others; TLS passes through untouched. With one target it lets the node
// reach kube-apiserver, which listens on loopback only, at the host end of
// its veth pair. With several it balances like a Service with several
// endpoints: kube-apiserver reaches the kruise-apiserver replicas through
// it. Each connection goes to the next target in turn; a target that
// refuses the connection (a stopped or killed replica) is skipped, and a
// connection no target accepts is closed.
type forwarder struct {
	listener net.Listener
	targets  []string

	mu     sync.Mutex
	next   int
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// dialTimeout bounds a connection attempt to one target; on loopback a
// stopped target refuses at once.
const dialTimeout = 2 * time.Second

func startForwarder(listen string, targets ...string) (*forwarder, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	f := &forwarder{listener: l, targets: targets, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

// dial connects to the targets round-robin, starting after the one the
// previous connection went to, and returns the first that accepts.
func (f *forwarder) dial() (net.Conn, error) {
	f.mu.Lock()
	start := f.next
	f.next = (f.next + 1) % len(f.targets)
	f.mu.Unlock()
	var err error
	for i := range f.targets {
		var out net.Conn
		if out, err = net.DialTimeout("tcp", f.targets[(start+i)%len(f.targets)], dialTimeout); err == nil {
			return out, nil
		}
	}
	return nil, err
}

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		in, err := f.listener.Accept()
		if err != nil {
			return
		}
		if !f.track(in) {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			out, err := f.dial()
			if err != nil {
				f.untrack(in)
				return
			}
			if !f.track(out) {
				f.untrack(in)
				return
			}
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if tcp, ok := dst.(*net.TCPConn); ok {
					_ = tcp.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(out, in)
			go pipe(in, out)
			<-done
			<-done
			f.untrack(in, out)
		}()
	}
}

func (f *forwarder) track(conns ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		f.conns[c] = true
	}
	return true
}

func (f *forwarder) untrack(conns ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(f.conns, c)
	}
}

// Close stops listening and closes every relayed connection.
func (f *forwarder) Close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.listener.Close()
	f.wg.Wait()
}
