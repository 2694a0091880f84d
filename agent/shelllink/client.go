package shelllink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Client is the shell's end of the channel.
type Client struct {
	ws   *websocket.Conn
	stop func() bool
	wmu  sync.Mutex
}

// Dial connects to the agent whose UI origin is uiOrigin (http://127.0.0.1:PORT) with the
// UI token. It sends no Origin header (the agent refuses any). Errors never carry the token.
func Dial(ctx context.Context, uiOrigin, token string) (*Client, error) {
	u, err := url.Parse(uiOrigin)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, errors.New("shelllink: the UI origin must be http://host:port")
	}
	d := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext:   (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ReadBufferSize:   MaxMessage * 2,
		WriteBufferSize:  MaxMessage * 2,
	}
	ws, resp, err := d.DialContext(ctx, "ws://"+u.Host+Path, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("shelllink: the agent at %s refused the shell (HTTP %d): is the token current?", u.Host, resp.StatusCode)
		}
		return nil, fmt.Errorf("shelllink: connect to the agent at %s: %w", u.Host, err)
	}
	ws.SetReadLimit(MaxMessage)
	c := &Client{ws: ws}
	c.stop = context.AfterFunc(ctx, func() { ws.NetConn().Close() })
	return c, nil
}

// Next waits for the agent's next wipe order and returns its id. It answers the agent's
// pings meanwhile. It returns an error when the connection ends (or the context given to
// Dial does); a message that is not a wipe order is skipped.
func (c *Client) Next() (uint64, error) {
	c.ws.SetReadDeadline(time.Now().Add(ReadTimeout))
	c.ws.SetPingHandler(func(data string) error {
		c.ws.SetReadDeadline(time.Now().Add(ReadTimeout))
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return 0, err
		}
		c.ws.SetReadDeadline(time.Now().Add(ReadTimeout))
		if typ != websocket.TextMessage {
			continue
		}
		if m, err := decode(data); err == nil && m.Type == TypeWipe {
			return m.ID, nil
		}
	}
}

// Confirm tells the agent that wipe order id is carried out.
func (c *Client) Confirm(id uint64) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, encode(TypeWiped, id))
}

// Close closes the connection.
func (c *Client) Close() error {
	c.stop()
	return c.ws.Close()
}
