// Package pcscdtest starts a private pcscd for integration tests.
//
// pcscd's socket path (/run/pcscd/pcscd.comm) is fixed, so a test that wants its own pcscd —
// one it can kill and restart — must run in its own mount namespace. testing/scripts/isolated.sh
// (used by `make test-integration` and `make bench`) provides one, with a private network
// namespace so that vpcd's TCP ports are private too, and sets SMARTPATH_ISOLATED=1. Outside
// it, [Start] fails and says how to run the test.
//
// The readers are the ones Debian's vsmartcard-vpcd package configures in
// /etc/reader.conf.d/vpcd: "Virtual PCD 00 00" on TCP port 35963 and "Virtual PCD 00 01" on
// 35964. A virtual card becomes "inserted" by connecting to that port (see testing/vcard).
package pcscdtest
