#!/bin/sh
# What help2man reads as "netmodels --help": the binary's own top-level help, then each
# subcommand's --help under a heading of its own ("Serve:" becomes the man page's SERVE
# section, cmake/Man.cmake turns help2man's subsection into a section). Nothing here is written
# by hand: the pages follow the binary's options.
set -e
bin=$1
shift
if [ "$1" = --version ]; then
  exec "$bin" --version
fi
"$bin" --help | sed 's|^Usage: [^ ]*/netmodels|Usage: netmodels|'
for cmd in serve ftp bench passwd; do
  heading=$(printf '%s' "$cmd" | cut -c1 | tr a-z A-Z)$(printf '%s' "$cmd" | cut -c2-)
  printf '\n%s:\n' "$heading"
  "$bin" "$cmd" --help | sed -e 's|^Usage: [^ ]*/netmodels|Usage: netmodels|' -e '1,/^$/ s/^\(.\)/  \1/'
done
