// Package config loads the kiosk agent's one configuration file (default
// /etc/smartpath/kiosk.yaml).
//
// # Strict decoding
//
// The file is parsed into a yaml.Node tree and walked against the [Config] schema, so that
// every problem names the file, the line and the dotted key, and says what to do:
//
//	kiosk.yaml:12: portal.ca_file: open /etc/x.pem: no such file or directory; set it to the council's CA bundle
//
// An unknown key, a value of the wrong type, a bad URL or duration, a missing CA bundle, two
// listeners on one port or a listener that is not on loopback are all errors. [Load] and
// [Parse] report every problem they find at once: the returned error is an [errors.Join] of
// [*Error] values.
//
// # Defaults
//
// Every setting has a default ([Default]); a key left out of the file keeps it. The defaults
// and the meaning of each key are documented in docs/configuration.md, and
// testing/config/kiosk.example.yaml is a complete commented example.
package config
