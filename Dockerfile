# syntax=docker/dockerfile:1
#
# lossd container image: build with the official Swift toolchain image, run on
# debian:bookworm-slim with only the shared libraries the binary is linked
# against (deploy/runtime-packages.txt, checked against `ldd` in CI by
# scripts/check-runtime-deps.sh).
#
#   docker build -t lossd .
#   docker run --rm -p 8080:8080 lossd
#
# Both stages are Debian 12 (bookworm), so the binary built in the first finds
# the same glibc, libstdc++ and zlib sonames in the second.

ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Headers the C shims compile against (CZlib, CFastFloat). Not pinned (DL3008):
# this stage is thrown away, and bookworm's point releases only fix bugs.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends zlib1g-dev libssl-dev libfast-float-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Resolve dependencies in their own layer, so editing a source file does not
# fetch them again.
COPY Package.swift ./
RUN swift package resolve

COPY Sources ./Sources
COPY Tests ./Tests
COPY Plugins ./Plugins
# Served by the binary, embedded at build time by Plugins/EmbedPlugin.
COPY openapi.yaml ./
COPY page ./page
# The linker script that links libstdc++ statically into the release binary (Package.swift).
COPY link ./link

# The git commit for `lossd --version` and lossd_build_info: the context has
# no .git, so pass it in (`--build-arg LOSSD_REVISION=$(git rev-parse --short
# HEAD)`); without it the revision is "unknown" (Plugins/RevisionPlugin).
ARG LOSSD_REVISION

# The Swift runtime goes into the binary (--static-swift-stdlib): the runtime
# image needs no Swift libraries at all. Symbols are kept so that a crash
# prints a symbolicated backtrace. The build folder is a cache mount, so a
# rebuild compiles only what changed.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product lossd \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/lossd" /out/lossd \
    && install -D -m 0755 /usr/libexec/swift/linux/swift-backtrace-static /out/swift-backtrace-static

# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# One list of runtime packages, shared with the CI check that compares it with
# `ldd lossd`. Versions are not pinned: bookworm's security updates must flow
# in on every rebuild.
COPY deploy/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' /tmp/runtime-packages.txt \
       | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
    && groupadd --system --gid 10001 lossd \
    && useradd --system --uid 10001 --gid lossd --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin lossd

COPY --from=build /out/lossd /out/swift-backtrace-static /usr/local/bin/

# A crash prints a symbolicated backtrace of every thread to standard error
# (the static backtracer, since the runtime has no Swift libraries).
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/bin/swift-backtrace-static

# Every setting is a LOSSD_* variable (a flag of the same name wins); these
# two are the defaults, spelled out because the port is part of the image's
# interface (EXPOSE, HEALTHCHECK). The README lists every variable.
ENV LOSSD_HOST=0.0.0.0 \
    LOSSD_PORT=8080

# A numeric user, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001

EXPOSE 8080

# lossd drains on SIGTERM (readyz turns 503, in-flight requests finish) and
# exits 0; give it --drain-timeout (20 s by default) plus a margin on stop:
# `docker stop --time 30`.
STOPSIGNAL SIGTERM

# No shell or curl needed: the binary GETs its own /livez on 127.0.0.1:$LOSSD_PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/lossd", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/lossd"]

LABEL org.opencontainers.image.title="lossd" \
      org.opencontainers.image.description="PyTorch-exact loss scoring (cross entropy, BCE, MSE) over HTTP"
