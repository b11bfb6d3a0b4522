#!/usr/bin/env bash
# Clean clone → live demo store, timed: git clone, npm ci, npm run demo until it prints "Ready in",
# a request to the store page, then Ctrl-C to the demo's process group. Prints one line of figures.
# Usage: bash scripts/measure-clean-clone.sh [repository path or URL, default: this checkout]
set -u
source_repo="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
dir="$(mktemp -d)/edgerec"
log="$(dirname "$dir")/demo.log"
t0=$(date +%s.%N)
git clone -q "$source_repo" "$dir" || exit 1
cd "$dir"
t1=$(date +%s.%N)
npm ci --no-audit --no-fund >"$(dirname "$dir")/npm-ci.log" 2>&1 || { echo "npm ci failed"; exit 1; }
t2=$(date +%s.%N)
touch "$log"
setsid npm run demo >"$log" 2>&1 &
pid=$!
until grep -q "Ready in" "$log"; do
  if ! kill -0 "$pid" 2>/dev/null; then echo "npm run demo exited:"; tail -20 "$log"; exit 1; fi
  sleep 1
done
t3=$(date +%s.%N)
url=$(grep -o "Store page.*http://127.0.0.1:[0-9]*" "$log" | grep -o "http://127.0.0.1:[0-9]*")
code=$(curl -s -o /dev/null -w "%{http_code}" "$url/")
kill -INT -- "-$pid"
sleep 8
kill -- "-$pid" 2>/dev/null
echo "clone $(echo "$t1 - $t0" | bc) s, npm ci $(echo "$t2 - $t1" | bc) s, npm run demo to Ready $(echo "$t3 - $t2" | bc) s, total $(echo "$t3 - $t0" | bc) s; store page HTTP $code"
grep -E "Ready in" "$log"
rm -rf "$(dirname "$dir")"
