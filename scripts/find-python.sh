#!/usr/bin/env bash
# Prints the path of a Python 3.12+ interpreter, or explains what to install and fails.
set -u
candidates=()
# First the interpreter pyenv selects here through .python-version, then any other 3.12+.
if command -v pyenv >/dev/null 2>&1; then
  selected=$(pyenv which python 2>/dev/null) && candidates+=("$selected")
  for version in $(pyenv versions --bare 2>/dev/null | sort -rV); do
    candidates+=("$(pyenv root)/versions/$version/bin/python")
  done
fi
candidates+=(python3.14 python3.13 python3.12 python3)
for python in "${candidates[@]}"; do
  if command -v "$python" >/dev/null 2>&1 &&
     "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    command -v "$python"
    exit 0
  fi
done
echo "No Python 3.12 or newer found. Django 6 needs it: install python3.12 (or newer) and run make again." >&2
exit 1
