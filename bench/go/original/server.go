// Command server is a reproduction of the goFastIMSystem chat server, written
// from its description for FastIM's benchmarks. It keeps the original's design
// on purpose, including its limits:
//
//   - one goroutine per connection, plus one writer goroutine per user;
//   - a global unbuffered Message channel read by a single broadcaster
//     goroutine, which hands every message to every user's own unbuffered
//     channel in turn (so one slow reader stalls everyone);
//   - one conn.Write per message line;
//   - one message per conn.Read into a 4096-byte buffer, trailing "\n" cut off;
//   - a 60 s inactivity timeout.
//
// Only the flags are new: -host, -port (0 = ephemeral) and -timeout (0 = off).
// When ready it prints "listening on HOST:PORT" on stderr.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// User is one connected client.
type User struct {
	Name   string
	Addr   string
	C      chan string
	conn   net.Conn
	server *Server
}

// Server holds the online map and the global message channel.
type Server struct {
	OnlineMap map[string]*User
	mapLock   sync.RWMutex
	Message   chan string
	timeout   time.Duration
}

func NewServer(timeout time.Duration) *Server {
	return &Server{
		OnlineMap: make(map[string]*User),
		Message:   make(chan string),
		timeout:   timeout,
	}
}

func NewUser(conn net.Conn, server *Server) *User {
	addr := conn.RemoteAddr().String()
	user := &User{Name: addr, Addr: addr, C: make(chan string), conn: conn, server: server}
	go user.ListenMessage()
	return user
}

// ListenMessage writes every message of the user's channel to its connection.
func (u *User) ListenMessage() {
	for msg := range u.C {
		u.conn.Write([]byte(msg + "\n"))
	}
}

// SendMsg writes straight to this user's connection.
func (u *User) SendMsg(msg string) {
	u.conn.Write([]byte(msg))
}

func (u *User) Online() {
	u.server.mapLock.Lock()
	u.server.OnlineMap[u.Name] = u
	u.server.mapLock.Unlock()
	u.server.BroadCast(u, "online")
}

func (u *User) Offline() {
	u.server.mapLock.Lock()
	delete(u.server.OnlineMap, u.Name)
	u.server.mapLock.Unlock()
	u.server.BroadCast(u, "offline")
}

// DoMessage handles one request line.
func (u *User) DoMessage(msg string) {
	if msg == "who" {
		u.server.mapLock.RLock()
		for _, user := range u.server.OnlineMap {
			u.SendMsg("[" + user.Addr + "]," + user.Name + ":online\n")
		}
		u.server.mapLock.RUnlock()
	} else if len(msg) > 7 && msg[:7] == "rename|" {
		newName := strings.Split(msg, "|")[1]
		u.server.mapLock.Lock()
		if _, ok := u.server.OnlineMap[newName]; ok {
			u.server.mapLock.Unlock()
			u.SendMsg("this name is already used\n")
			return
		}
		delete(u.server.OnlineMap, u.Name)
		u.server.OnlineMap[newName] = u
		u.server.mapLock.Unlock()
		u.Name = newName
		u.SendMsg("You renamed to " + newName + "\n")
	} else if len(msg) > 4 && msg[:3] == "to|" {
		parts := strings.SplitN(msg, "|", 3)
		if len(parts) < 3 {
			u.SendMsg("Invalid message format. Use: to|<receiver_name>|<message_content>\n")
			return
		}
		if parts[1] == "" {
			u.SendMsg("Please input valid receiver name\n")
			return
		}
		u.server.mapLock.RLock()
		remote, ok := u.server.OnlineMap[parts[1]]
		u.server.mapLock.RUnlock()
		if !ok {
			u.SendMsg("the receiver is not online\n")
			return
		}
		if parts[2] == "" {
			u.SendMsg("Please input valid content\n")
			return
		}
		remote.SendMsg(u.Name + " sent you a message: " + parts[2] + "\n")
	} else {
		u.server.BroadCast(u, msg)
	}
}

// BroadCast queues a public line on the global unbuffered channel.
func (s *Server) BroadCast(user *User, msg string) {
	s.Message <- "[" + user.Addr + "], " + user.Name + ":" + msg
}

// ListenMessager is the single broadcaster: each message goes to every
// user's unbuffered channel in turn, under the map lock.
func (s *Server) ListenMessager() {
	for msg := range s.Message {
		s.mapLock.RLock()
		for _, user := range s.OnlineMap {
			user.C <- msg
		}
		s.mapLock.RUnlock()
	}
}

// Handler serves one connection until it closes or idles out.
func (s *Server) Handler(conn net.Conn) {
	user := NewUser(conn, s)
	user.Online()
	isLive := make(chan bool)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if n == 0 {
				user.Offline()
				return
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "conn read error:", err)
				return
			}
			// The original assumes one whole message per Read.
			msg := string(buf[:n-1])
			user.DoMessage(msg)
			isLive <- true
		}
	}()
	for {
		if s.timeout <= 0 {
			<-isLive
			continue
		}
		select {
		case <-isLive:
		case <-time.After(s.timeout):
			user.SendMsg("You are timeout due to inactivity for long time\n")
			close(user.C)
			conn.Close()
			return
		}
	}
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8888, "TCP port to listen on (0 = ephemeral)")
	timeout := flag.Duration("timeout", 60*time.Second, "inactivity timeout (0 = off)")
	flag.Parse()

	listener, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "net.Listen err:", err)
		os.Exit(1)
	}
	defer listener.Close()
	fmt.Fprintln(os.Stderr, "listening on", listener.Addr().String())

	s := NewServer(*timeout)
	go s.ListenMessager()
	for {
		conn, err := listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "listener accept err:", err)
			continue
		}
		go s.Handler(conn)
	}
}
