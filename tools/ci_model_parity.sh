#!/usr/bin/env bash
# Model parity in CI: build the Python venv from the pinned requirements (tools/.venv, reused
# while tools/requirements.txt is unchanged), train and export a fresh small model of every
# kind on the SMS fixture, and check chatguard against scikit-learn / XGBoost / LightGBM on
# every held-out row (tests/model_parity.rs with CHATGUARD_PARITY_DIR).
#
#   tools/ci_model_parity.sh            # from anywhere; uses python3.11 or python3
#   PYTHON=/usr/bin/python3.11 tools/ci_model_parity.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/tools/.venv"
req="$root/tools/requirements.txt"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "building $venv from $req with $("$python" --version)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

out="$(mktemp -d "${TMPDIR:-/tmp}/chatguard-parity.XXXXXX")"
trap 'rm -rf "$out"' EXIT

"$venv/bin/python" "$root/tools/parity.py" --out "$out"
cd "$root"
CHATGUARD_PARITY_DIR="$out" cargo test --test model_parity -- --nocapture
