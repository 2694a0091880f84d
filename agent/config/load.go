package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds the configuration file; a kiosk.yaml is a few kilobytes.
const MaxFileSize = 1 << 20

// Load reads and validates the configuration file at path. Relative file names inside it
// (portal.ca_file) are taken relative to the file's directory.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err,
			Hint: "create it (see docs/configuration.md) or pass the right path with -config"}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Parse(path, data)
}

// Parse decodes and validates a configuration whose file name is name (used in errors and
// to resolve relative paths). Every key not in data keeps its [Default]. The error, if any,
// joins one [*Error] per problem found.
func Parse(name string, data []byte) (*Config, error) {
	d := &decoder{problems: problems{file: name}, lines: map[string]int{}}
	if len(data) > MaxFileSize {
		d.addf(0, "", "a kiosk configuration is a few kilobytes; check the path",
			"file is larger than %d bytes", MaxFileSize)
		return nil, errors.Join(d.errs...)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		d.syntaxError(err)
		return nil, errors.Join(d.errs...)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		d.addf(extra.Line, "", "keep one YAML document in the file (remove the ---)", "more than one document")
		return nil, errors.Join(d.errs...)
	}
	cfg := Default()
	d.document(&doc, cfg)
	// Validate even after decoding problems, so that one run reports everything; a key that
	// failed to decode kept its default, so its validation result would only confuse.
	decoded := len(d.errs)
	failed := map[string]bool{}
	for _, err := range d.errs {
		failed[err.(*Error).Key] = true
	}
	validate(name, cfg, d)
	kept := d.errs[:decoded]
	for _, err := range d.errs[decoded:] {
		if !failed[err.(*Error).Key] {
			kept = append(kept, err)
		}
	}
	d.errs = kept
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return cfg, nil
}

// String is for logs: the whole configuration (it holds no secrets).
func (c *Config) String() string { return fmt.Sprintf("%+v", *c) }
