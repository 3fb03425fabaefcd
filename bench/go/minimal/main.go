// Command minimal is the floor reference of FastIM's benchmarks: the least a
// Go broadcast chat server can do. A reader goroutine per connection splits
// lines and hands each to every connection's writer (a buffered channel per
// connection, a writer goroutine draining it into the socket); nothing else:
// no names, no presence, no commands, no limits. A connection whose channel is
// full is skipped for that line (it would otherwise stall everyone).
//
// Flags: -host, -port (0 = ephemeral). When ready it prints
// "listening on HOST:PORT" on stderr.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
)

type client struct {
	out chan []byte
}

type hub struct {
	mu      sync.RWMutex
	clients map[*client]struct{}
}

func (h *hub) broadcast(line []byte) {
	h.mu.RLock()
	for c := range h.clients {
		select {
		case c.out <- line:
		default:
		}
	}
	h.mu.RUnlock()
}

func (h *hub) serve(conn net.Conn) {
	c := &client{out: make(chan []byte, 1024)}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	go func() {
		for line := range c.out {
			if _, err := conn.Write(line); err != nil {
				break
			}
		}
		conn.Close()
	}()
	r := bufio.NewReaderSize(conn, 64*1024)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break
		}
		h.broadcast(line)
	}
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	close(c.out)
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8888, "TCP port to listen on (0 = ephemeral)")
	flag.Parse()
	listener, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "net.Listen err:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "listening on", listener.Addr().String())
	h := &hub{clients: make(map[*client]struct{})}
	for {
		conn, err := listener.Accept()
		if err != nil {
			continue
		}
		go h.serve(conn)
	}
}
