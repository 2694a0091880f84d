package config

import (
	"fmt"
	"strconv"
)

// Error is one problem in a configuration file. Load and Parse return every Error they find,
// joined with errors.Join; use errors.As to get the first, or Unwrap() []error for all.
type Error struct {
	File string // the file's name as given to Load or Parse
	Line int    // 1-based; 0 when the key is not in the file (a default is wrong)
	Key  string // dotted key, e.g. "portal.ca_file"; empty for the document itself
	Err  error  // what is wrong
	Hint string // what to do about it; may be empty
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Key != "" {
		s += e.Key + ": "
	}
	s += e.Err.Error()
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// problems collects Errors for one file.
type problems struct {
	file string
	errs []error
}

func (p *problems) add(line int, key string, err error, hint string) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: key, Err: err, Hint: hint})
}

func (p *problems) addf(line int, key, hint, format string, args ...any) {
	p.add(line, key, fmt.Errorf(format, args...), hint)
}
