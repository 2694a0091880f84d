// Package waitfor is the tests' one way to wait for something that happens on another
// goroutine or in another process: poll a condition until it holds.
//
// A test never sleeps to let something happen, and never fails because something took longer
// than it would on an idle machine. It waits for the condition itself; the timeout is a guard
// against a hang, generous enough for a busy machine (Timeout), not a measurement. How long
// things take is measured in benchmarks (docs/benchmarks.md).
//
//	waitfor.Until(t, waitfor.Timeout, "the connection closed", func() bool { return srv.Conns() == 0 })
//
// Context is the same wait for a caller that wants the error, to say more than Until's
// message when the condition never held. Returns guards a call that must not block.
package waitfor
