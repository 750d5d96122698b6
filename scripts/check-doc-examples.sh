#!/usr/bin/env bash
# Runs every example in a Markdown document against a live lossd and checks
# that it prints what the document shows, so the README cannot rot:
#   - a ```console block is a transcript: each `$ ` command (continued over
#     lines by a trailing backslash or an open quote) is run with bash, and
#     its standard output must be the lines shown under it;
#   - a ```python or ```js block followed by a ```text block is run (python
#     with requests and numpy; node, whose fetch is the browser's), and its
#     standard output must be that text.
# Output that is one JSON value is compared by value (2 equals 2.0, key order
# is free, numbers must be equal exactly); any other output line by line.
# `http://localhost:8080` in an example is replaced by BASE_URL.
#
# Usage: scripts/check-doc-examples.sh [DOCUMENT] [BASE_URL]
#        (defaults: README.md, http://127.0.0.1:8080)
# Ends with an "N passed, M failed" line; exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

document=${1:-README.md}
base_url=${2:-http://127.0.0.1:8080}
base_url=${base_url%/}
[ -r "$document" ] || { echo "check-doc-examples: no document at $document" >&2; exit 2; }

# shellcheck source=scripts/python-tools.sh
source scripts/python-tools.sh
python_tools requests==2.32.5 numpy==2.3.5

exec python3 - "$document" "$base_url" <<'EOF'
import json, re, shlex, subprocess, sys

document, base_url = sys.argv[1], sys.argv[2]
text = open(document, encoding="utf-8").read()
blocks = [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
          for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M)]

def localise(code):
    return code.replace("http://localhost:8080", base_url)

def complete(command):
    """A command is complete when no quote is open and it does not end in a backslash."""
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
        return True
    except ValueError:
        return False

def same(expected, actual):
    expected, actual = expected.rstrip("\n"), actual.rstrip("\n")
    try:
        return json.loads(expected) == json.loads(actual)
    except ValueError:
        return [l.rstrip() for l in expected.split("\n")] == [l.rstrip() for l in actual.split("\n")]

examples = []  # (line, label, argv, stdin, expected)
for index, (lang, body, line) in enumerate(blocks):
    if lang == "console":
        lines = body.rstrip("\n").split("\n")
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            start = i
            command = lines[i][2:]
            while not complete(command) and i + 1 < len(lines):
                i += 1
                command += "\n" + lines[i]
            i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            first = command.split("\n")[0]
            examples.append((line + 1 + start, first[:70],
                             ["bash", "-o", "pipefail", "-c", localise(command)], None, "\n".join(output)))
    elif lang in ("python", "js") and index + 1 < len(blocks) and blocks[index + 1][0] == "text":
        argv = [sys.executable, "-"] if lang == "python" else ["node", "--input-type=module", "-"]
        examples.append((line, f"{lang} example", argv, localise(body), blocks[index + 1][1]))

passed = failed = 0
for line, label, argv, stdin, expected in examples:
    try:
        run = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
        actual, error = run.stdout, run.stderr
    except subprocess.TimeoutExpired:
        actual, error = "", "timed out after 60 s"
    if same(expected, actual):
        passed += 1
        print(f"PASS {document}:{line} {label}")
    else:
        failed += 1
        print(f"FAIL {document}:{line} {label}")
        print("  expected:\n    " + expected.rstrip("\n").replace("\n", "\n    "))
        print("  got:\n    " + actual.rstrip("\n").replace("\n", "\n    "))
        if error.strip():
            print("  stderr:\n    " + error.strip()[-2000:].replace("\n", "\n    "))
if not examples:
    print(f"no examples found in {document}")
    sys.exit(1)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
