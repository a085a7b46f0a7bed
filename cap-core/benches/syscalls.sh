#!/usr/bin/env bash
# Counts the system calls of one operation of benches/fs.rs for each
# implementation: runs it under `strace -f -c` n1 and n2 times (after the same
# fixture setup) and prints (count(n2) - count(n1)) / (n2 - n1) per call.
#
# Usage: cap-core/benches/syscalls.sh [group ...]   (needs strace)
# Prints one line per group and implementation: group impl total name=count...
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=$(cargo bench -p cap-core --bench fs --no-run --message-format json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then
    groups=(metadata exists is_dir read_4k read_1m open_read_4k read_dir_32 read_dir_4096
        create_write_remove rename copy canonicalize walk_10k)
fi
n1=10
n2=110
count() { # group impl n -> "name count" lines
    local out
    out=$(mktemp)
    AMBIT_BENCH_ONE="$1/$2" AMBIT_BENCH_N="$3" strace -f -c -o "$out" "$bench" >/dev/null
    # Columns: % time, seconds, usecs/call, calls, [errors], syscall.
    awk 'NF >= 5 && $4 ~ /^[0-9]+$/ && $NF != "total" { print $NF, $4 }' "$out"
    rm -f "$out"
}
for g in "${groups[@]}"; do
    imps=(std_4 std_8 cap_std cap_core)
    if [ "$g" = walk_10k ]; then imps+=(cap_core_walk cap_core_parallel); fi
    for imp in "${imps[@]}"; do
        join -a1 -a2 -e0 -o 0,1.2,2.2 \
            <(count "$g" "$imp" "$n1" | sort) <(count "$g" "$imp" "$n2" | sort) |
            awk -v g="$g" -v imp="$imp" -v d=$((n2 - n1)) '
                { per = ($3 - $2) / d; if (per >= 0.5) { s = s sprintf(" %s=%g", $1, per); t += per } }
                END { printf "%s %s %g%s\n", g, imp, t, s }'
    done
done
