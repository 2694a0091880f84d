package shelllink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"smartpath/agent/strictjson"
)

const (
	// Path is where the agent serves the channel on its UI listener.
	Path = "/shell"
	// Version is the protocol version every message carries as "v".
	Version = 1
	// MaxMessage bounds one message in bytes, both ways.
	MaxMessage = 256
	// TypeWipe is the agent's order, TypeWiped the shell's confirmation.
	TypeWipe  = "wipe"
	TypeWiped = "wiped"
	// PingInterval is how often each side pings; ReadTimeout how long it waits for anything
	// (a message or a pong) before it drops the peer.
	PingInterval = 10 * time.Second
	ReadTimeout  = 3 * PingInterval
	// writeTimeout bounds one write.
	writeTimeout = 5 * time.Second
)

// Message is one message of the channel.
type Message struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	ID   uint64 `json:"id"`
}

func encode(typ string, id uint64) []byte {
	b, _ := json.Marshal(Message{V: Version, Type: typ, ID: id})
	return b
}

// decode parses one message strictly: a JSON object with exactly v, type and id, v equal
// to Version, a known type and an id above 0. Errors never quote the input.
func decode(data []byte) (Message, error) {
	if len(data) > MaxMessage {
		return Message{}, fmt.Errorf("message longer than %d bytes", MaxMessage)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil || keys == nil {
		return Message{}, errors.New("not a JSON object")
	}
	if len(keys) != 3 || keys["v"] == nil || keys["type"] == nil || keys["id"] == nil {
		return Message{}, errors.New(`want exactly the fields "v", "type" and "id"`)
	}
	if err := strictjson.CheckKeys(data); err != nil {
		return Message{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return Message{}, errors.New("a field has the wrong type")
	}
	switch {
	case m.V != Version:
		return Message{}, errors.New("unsupported protocol version")
	case m.Type != TypeWipe && m.Type != TypeWiped:
		return Message{}, errors.New("unknown type")
	case m.ID == 0:
		return Message{}, errors.New("id must be above 0")
	}
	return m, nil
}
