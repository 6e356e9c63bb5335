#!/usr/bin/env bash
# The imports bench of commit REV (before a change) and of this work tree (after), run alternately in one session,
# printed as one table: each backend's import into an empty catalog before and after, their ratio, and the
# re-import of the unchanged file against the import after. REV is checked out in a temporary git worktree and built
# into a target folder of its own (`target/bench-before`: one target folder for two trees would take the second
# tree's bench for fresh and run the first's twice); the two executables are copied before any run.
#
#   PM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres benches/before_after.sh a307520
#   # PM_BENCH_RUNS (1): pairs of runs, the order alternating (after first, then before first, …);
#   # PM_BENCH_IMPORT_ROWS (1,000,000) and PM_BENCH_BACKENDS as for the imports bench; its XLSX rows are skipped.
set -euo pipefail

rev=${1:?usage: benches/before_after.sh REV}
runs=${PM_BENCH_RUNS:-1}
root=$(git rev-parse --show-toplevel)
target=${CARGO_TARGET_DIR:-$root/target}
export PM_BENCH_SKIP_XLSX=1

before_tree=$(mktemp -d)
git -C "$root" worktree add --detach --quiet "$before_tree" "$rev"
outputs=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$before_tree"; rm -rf "$outputs"' EXIT

# The bench executable of the tree in $1, built into the target folder $2.
bench_binary() {
  (cd "$1" && CARGO_TARGET_DIR=$2 cargo bench -p productsmanager-benches --bench imports --no-run \
    --message-format=json 2>/dev/null) |
    python3 -c 'import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("executable") and message.get("target", {}).get("name") == "imports":
        print(message["executable"])'
}
echo "building the imports bench of the work tree, then of $rev" >&2
after=$outputs/after-bench
before=$outputs/before-bench
cp "$(bench_binary "$root" "$target")" "$after"
cp "$(bench_binary "$before_tree" "$target/bench-before")" "$before"
[ -x "$before" ] && [ -x "$after" ] || { echo "the bench did not build" >&2; exit 1; }

for run in $(seq 1 "$runs"); do
  order=(after before)
  [ $((run % 2)) -eq 0 ] && order=(before after)
  for which in "${order[@]}"; do
    binary=$after
    [ "$which" = before ] && binary=$before
    echo "run $run: $which" >&2
    "$binary" --bench >"$outputs/$which-$run.txt"
  done
done

python3 - "$outputs" "$rev" <<'EOF'
import pathlib, re, statistics, sys

outputs, rev = pathlib.Path(sys.argv[1]), sys.argv[2]
line = re.compile(r"^(\w+): (import, new catalog|re-import, unchanged)\s+(\d+)\s+([\d.]+)")
seconds = {}
stolen = []
for path in sorted(outputs.glob("*-[0-9]*.txt")):
    which = path.stem.split("-")[0]
    for text in path.read_text().splitlines():
        found = line.match(text)
        if found:
            backend, what, _rows, value = found.groups()
            seconds.setdefault((backend, what, which), []).append(float(value))
        if text.startswith("CPU time stolen"):
            stolen.append(text.split(": ")[1].split(" %")[0])

def median(key):
    values = seconds.get(key)
    return statistics.median(values) if values else None

print(f"\n| backend | import before ({rev}) s | import after s | after / before | aim | re-import after s | re-import / import | aim |")
print("|---|---|---|---|---|---|---|---|")
for backend in sorted({key[0] for key in seconds}, reverse=True):
    before = median((backend, "import, new catalog", "before"))
    after = median((backend, "import, new catalog", "after"))
    again = median((backend, "re-import, unchanged", "after"))
    if before is None or after is None or again is None:
        continue
    print(f"| {backend} | {before:.1f} | {after:.1f} | {after / before:.2f}x | ≤ 1.1x | {again:.1f} | {again / after:.3f}x | < 0.1x |")
print(f"\nMedians of {len(list(outputs.glob('after-*.txt')))} run(s) each; CPU stolen by the host per run: {', '.join(stolen)} %")
EOF
