package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var durationType = reflect.TypeFor[time.Duration]()

// decoder walks a yaml.Node tree against the Config struct's yaml tags. It never stops at
// the first problem, and it remembers on which line every key was set so that validation
// errors can name it.
type decoder struct {
	problems
	lines map[string]int // dotted key → line of the key in the file
}

func (d *decoder) line(key string) int {
	if l, ok := d.lines[key]; ok {
		return l
	}
	// A key left out: point at its section, if the section is in the file.
	if i := strings.LastIndexByte(key, '.'); i > 0 {
		return d.line(key[:i])
	}
	return 0
}

func (d *decoder) document(doc *yaml.Node, cfg *Config) {
	if doc.Kind == 0 { // empty file: all defaults
		return
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		doc = doc.Content[0]
	}
	if isNull(doc) {
		return
	}
	d.mapping("", doc, reflect.ValueOf(cfg).Elem())
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// mapping decodes a mapping node into the struct v, whose fields carry yaml tags.
func (d *decoder) mapping(prefix string, n *yaml.Node, v reflect.Value) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if prefix != "" {
			what = prefix
		}
		d.addf(n.Line, prefix, "write "+what+" as `key: value` lines",
			"want a mapping of keys, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Tag.Get("yaml")
		fields[name] = i
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			d.addf(k.Line, prefix, "", "keys must be plain words, got %s", describe(k))
			continue
		}
		key := join(prefix, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.addf(k.Line, key, "remove one of them", "set twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			hint := "known keys here: " + strings.Join(names, ", ")
			if best := closest(k.Value, names); best != "" {
				hint = fmt.Sprintf("did you mean %q? ", best) + hint
			}
			d.addf(k.Line, key, hint, "unknown key")
			continue
		}
		d.lines[key] = k.Line
		d.value(key, val, v.Field(idx))
	}
}

// value decodes one node into the field f.
func (d *decoder) value(key string, n *yaml.Node, f reflect.Value) {
	if f.Kind() == reflect.Struct {
		if isNull(n) { // "portal:" with nothing under it keeps the defaults
			return
		}
		d.mapping(key, n, f)
		return
	}
	switch {
	case f.Type() == durationType:
		s, ok := d.scalar(key, n, "a duration such as 30s or 2m")
		if !ok {
			return
		}
		dur, err := time.ParseDuration(s)
		if err != nil {
			d.addf(n.Line, key, "write a number with a unit: ms, s, m or h (e.g. 30s, 2m)",
				"%q is not a duration", s)
			return
		}
		f.SetInt(int64(dur))
	case f.Kind() == reflect.String:
		s, ok := d.scalar(key, n, "text")
		if !ok {
			return
		}
		if n.ShortTag() != "!!str" {
			d.addf(n.Line, key, "put it in quotes if you mean it", "want text, got %s", describe(n))
			return
		}
		f.SetString(s)
	case f.Kind() == reflect.Int:
		s, ok := d.scalar(key, n, "a whole number")
		if !ok {
			return
		}
		i, err := strconv.Atoi(s)
		if err != nil || n.ShortTag() != "!!int" {
			d.addf(n.Line, key, "", "want a whole number, got %s", describe(n))
			return
		}
		f.SetInt(int64(i))
	case f.Kind() == reflect.Bool:
		s, ok := d.scalar(key, n, "true or false")
		if !ok {
			return
		}
		if n.ShortTag() != "!!bool" || (s != "true" && s != "false") {
			d.addf(n.Line, key, "write true or false", "want true or false, got %s", describe(n))
			return
		}
		f.SetBool(s == "true")
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		if isNull(n) {
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.addf(n.Line, key, "write a list, e.g. [a, b] or one `- item` per line",
				"want a list, got %s", describe(n))
			return
		}
		out := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			item = resolve(item)
			ik := fmt.Sprintf("%s[%d]", key, i)
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
				d.addf(item.Line, ik, "", "want text, got %s", describe(item))
				continue
			}
			out = append(out, item.Value)
		}
		f.Set(reflect.ValueOf(out))
	default:
		// Only reachable if Config grows a field of a new type.
		d.addf(n.Line, key, "", "internal error: cannot decode into %s", f.Type())
	}
}

// scalar returns a non-null scalar's text, or records an error naming want.
func (d *decoder) scalar(key string, n *yaml.Node, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.addf(n.Line, key, "", "want %s, got %s", want, describe(n))
		return "", false
	}
	if isNull(n) {
		d.addf(n.Line, key, "give a value or remove the line to use the default",
			"has no value")
		return "", false
	}
	return n.Value, true
}

// describe names a node for an error message without repeating long values.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		kind := map[string]string{"!!str": "text", "!!int": "a number", "!!float": "a number",
			"!!bool": "true/false", "!!null": "nothing"}[n.ShortTag()]
		if kind == "" {
			kind = n.ShortTag()
		}
		if kind == "nothing" {
			return kind
		}
		return fmt.Sprintf("%s %q", kind, v)
	}
	return "something else"
}

// closest suggests a known key for a misspelt one (edit distance at most 2).
func closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if dd := distance(s, n); dd < bestD {
			best, bestD = n, dd
		}
	}
	return best
}

func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// syntaxError turns a yaml parse error ("yaml: line 3: …") into an Error with its line.
func (d *decoder) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if l, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = l, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	d.add(line, "", errors.New(msg), "fix the YAML syntax (indent with spaces, `key: value`)")
}
