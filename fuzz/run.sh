#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after the other, on one core.
#
#   fuzz/run.sh 600            # every target, 10 minutes each
#   fuzz/run.sh 60 check fold  # some targets
#
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain build it
# (install it with `cargo install cargo-fuzz`). Seeds are read from fixtures/fuzz/<target>/;
# what the fuzzer learns goes to fuzz/corpus/<target>/ (not committed), crashes to
# fuzz/artifacts/<target>/ (copy each one to fixtures/fuzz/crashes/<target>/ with a note in
# tests/fuzz_regressions.rs), and libFuzzer's log with its final stats to fuzz/logs/.
# No sanitizer: chatguard forbids unsafe code, so ASan would find nothing and halve the
# speed; overflow checks and debug assertions stay on (cargo-fuzz's default).
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(fold rules_parse model_load check)
fi
mkdir -p logs
cargo fuzz build --sanitizer none
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    max_len=8192
    # Model files are larger than chat lines: let the fuzzer grow whole small models.
    [ "$target" = model_load ] && max_len=65536
    echo "== $target: ${seconds}s"
    if ! cargo fuzz run --sanitizer none "$target" "corpus/$target" "../fixtures/fuzz/$target" -- \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"logs/$target.log" 2>&1; then
        echo "   crashed: see fuzz/logs/$target.log and fuzz/artifacts/$target/"
        status=1
    fi
    grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb' "logs/$target.log" | sed 's/^/   /' || true
done
exit $status
