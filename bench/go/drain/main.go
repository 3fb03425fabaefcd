// Command drain opens N connections to 127.0.0.1:PORT and reads them until
// they close or SECONDS pass, so a writer can be timed against readers that
// are always waiting (see bench/write_floor.ts). It prints "connected" once
// every connection is open.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: drain PORT N SECONDS")
		os.Exit(2)
	}
	port := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	secs, _ := strconv.Atoi(os.Args[3])
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			os.Exit(1)
		}
		go func(c net.Conn) {
			buf := make([]byte, 65536)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}(c)
	}
	fmt.Println("connected")
	time.Sleep(time.Duration(secs) * time.Second)
}
