package main

import (
	"fmt"
	"net"
	"strconv"
)

// nextPort returns addr with its port increased by n (a zero port stays zero: any free port).
func nextPort(addr string, n int) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--listen %q: want HOST:PORT", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p+n > 65535 {
		return "", fmt.Errorf("--listen %q: the port must be a number below %d", addr, 65535-n)
	}
	if p == 0 {
		return addr, nil
	}
	return net.JoinHostPort(host, strconv.Itoa(p+n)), nil
}
