// What the flags turn into: the origins' addresses and the log handler.

package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"

	"smartpath/testing/portal"
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

// logHandler makes the log handler the flags ask for, writing to w.
func logHandler(level, format string, w io.Writer) (slog.Handler, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	hopts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.NewTextHandler(w, hopts), nil
	case "json":
		return slog.NewJSONHandler(w, hopts), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// originAddrs is where the three origins listen: the SSO and static origins default to
// the two ports after the portal's.
func originAddrs(listen, sso, static string) (portal.Addrs, error) {
	addrs := portal.Addrs{Portal: listen, SSO: sso, Static: static}
	var err error
	if addrs.SSO == "" {
		if addrs.SSO, err = nextPort(listen, 1); err != nil {
			return addrs, err
		}
	}
	if addrs.Static == "" {
		addrs.Static, err = nextPort(listen, 2)
	}
	return addrs, err
}
