#!/usr/bin/env bash
# Runs every fuzz target in the module briefly: FUZZTIME executions (or a duration) each.
set -euo pipefail
t=${1:-20000x}
n=0
for dir in $(go list -f '{{.Dir}}' ./...); do
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $target in ${dir#$PWD/} for $t"
    (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$t" -timeout 5m .)
    n=$((n+1))
  done
done
echo "fuzz: $n targets ran"
