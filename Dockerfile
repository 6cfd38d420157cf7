# syntax=docker/dockerfile:1
# Alertmanager++: the engine and the operator in one image, on Debian 12 with Debian's Python 3.11.
#
#   make image      # docker build (buildah where there is no Docker engine), tagged
#                   # alertmanager-plusplus:<version>, with the labels' build arguments filled in
#
# A drop-in for prom/alertmanager: the same entrypoint semantics (flags alone run the engine),
# config file, storage volume, port and user.
#   docker run -p 9093:9093 -v ./alertmanager.yml:/etc/alertmanager/alertmanager.yml IMAGE
#   docker run ... IMAGE --config.file=/etc/alertmanager/alertmanager.yml --web.external-url=...
#   docker run ... IMAGE operator --config.file=...          # what the Helm chart runs

# Debian's Python, shared by both stages, so the virtualenv built in the first runs unchanged in
# the second.
FROM debian:bookworm-slim AS python
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends python3.11 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log

FROM python AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends python3.11-venv
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine/ engine/
COPY operator/ operator/
# The project's wheel, then the project with the operator extra (kopf) from its pyproject into a
# virtualenv. Dependencies come as binary wheels only: no compiler is needed, nor allowed to sneak
# in. pip and setuptools leave the virtualenv once it is built.
RUN python3.11 -m venv /opt/ampp \
 && /opt/ampp/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/ampp/bin/pip install --only-binary=:all: "$(echo /wheels/alertmanager_plusplus-*.whl)[operator]" \
 && /opt/ampp/bin/pip uninstall --yes setuptools pip \
 && rm -f /opt/ampp/bin/activate* /opt/ampp/bin/Activate.ps1
# The version label must be the installed package's. The default is pyproject.toml's version (a
# unit test keeps them equal), so a plain `docker build .` works; make image passes it anyway.
ARG VERSION=0.1.0
RUN test "$(/opt/ampp/bin/ampp --version)" = "ampp $VERSION" \
    || { echo "VERSION=$VERSION but the package is $(/opt/ampp/bin/ampp --version)" >&2; exit 1; }

FROM python
ARG VERSION=0.1.0
ARG REVISION=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="Alertmanager++" \
      org.opencontainers.image.description="A drop-in replacement for Prometheus Alertmanager, with history, HA without duplicates and a Kubernetes operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=builder /opt/ampp /opt/ampp
# prom/alertmanager reads /etc/alertmanager/alertmanager.yml; the specification's migration path
# mounts the file at /etc/alertmanager++/config.yml. The first is a link to the second, so a
# file mounted at either path is the one read (a runtime mounts onto a link's target), and a
# directory mounted at /etc/alertmanager replaces the link with its own alertmanager.yml.
COPY examples/alertmanager.yml /etc/alertmanager++/config.yml
RUN mkdir /etc/alertmanager /alertmanager \
 && ln -s ../alertmanager++/config.yml /etc/alertmanager/alertmanager.yml \
 && chown nobody:nogroup /alertmanager
ENV PATH=/opt/ampp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# prom/alertmanager's user: a volume it wrote stays writable. Nothing else is written outside
# /alertmanager, so the root filesystem may be read-only.
USER nobody:nogroup
EXPOSE 9093
VOLUME ["/alertmanager"]
WORKDIR /alertmanager
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s CMD ["ampp", "--version"]
ENTRYPOINT ["ampp"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
