package pcsc_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"smartpath/pcsc"
)

// pinCard is a tiny in-process card: it refuses every PIN with two tries left.
type pinCard struct{}

func (pinCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	return []byte{0x63, 0xC2}, nil
}

func ExampleTransport_Do() {
	tr := pcsc.NewTransport(pinCard{}, pcsc.TransportOptions{})
	pin := []byte("123456\xff\xff")
	_, err := tr.Do(context.Background(), pcsc.Command{INS: 0x20, P2: 0x80, Data: pin})
	var wrong *pcsc.WrongPINError
	if errors.As(err, &wrong) {
		fmt.Println("tries left:", wrong.Retries)
	}
	fmt.Println(tr.Stats().APDUs, "APDU sent")
	// Output:
	// tries left: 2
	// 1 APDU sent
}

func ExampleMonitor() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan pcsc.Event)
	m := pcsc.NewMonitor(pcsc.MonitorOptions{})
	go func() {
		for ev := range events {
			switch ev.Kind {
			case pcsc.CardInserted:
				conn, err := pcsc.Connect(ctx, ev.Reader, pcsc.ConnectOptions{})
				if err != nil {
					log.Print(err)
					continue
				}
				// … run the session over pcsc.NewTransport(conn, …), then:
				_ = conn.CloseReset()
			case pcsc.ServiceLost:
				log.Print("pcscd is gone; waiting for it to come back")
			}
		}
	}()
	_ = m.Run(ctx, events) // blocks until ctx is done
	close(events)
}
