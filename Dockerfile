# syntax=docker/dockerfile:1
# Alertmanager++: the engine and the operator in one image.
#
#   docker build -t alertmanager-plusplus:dev .
#   docker run --rm -p 9093:9093 alertmanager-plusplus:dev          # ampp serve, example config
#   docker run ... alertmanager-plusplus:dev operator --config.file=... # what the Helm chart runs
#
# Both stages use the same base image, so the virtualenv built in the first runs unchanged in
# the second (its interpreter is the base image's /usr/local/bin/python3.11).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine/ engine/
COPY operator/ operator/
# Build the project's wheel, then install it with the operator extra (kopf) into a virtualenv;
# every dependency comes as a binary wheel, so no compiler is needed.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/ampp \
 && /opt/ampp/bin/pip install "$(echo /wheels/alertmanager_plusplus-*.whl)[operator]" \
 && /opt/ampp/bin/pip uninstall --yes pip \
 && /opt/ampp/bin/ampp --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Alertmanager++" \
      org.opencontainers.image.description="A drop-in replacement for Prometheus Alertmanager, with history, HA without duplicates and a Kubernetes operator" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/ampp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=builder /opt/ampp /opt/ampp
COPY examples/alertmanager.yml /etc/ampp/alertmanager.yml
RUN mkdir -p /data && chown 65532:65532 /data
# Non-root (the same uid as distroless' "nonroot"); the chart also runs it with a read-only
# root filesystem, writing only to /data and /tmp.
USER 65532:65532
WORKDIR /data
EXPOSE 9093
# No HEALTHCHECK: Kubernetes probes /-/healthy and /-/ready.
ENTRYPOINT ["ampp"]
CMD ["serve", "--config.file=/etc/ampp/alertmanager.yml", "--storage.path=/data", "--web.listen-address=:9093", "--cluster.listen-address="]
