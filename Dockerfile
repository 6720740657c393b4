# syntax=docker/dockerfile:1
#
# The Gatepass server as a container image (docs/container.md):
#
#   docker build -t gatepass .
#   docker run --rm gatepass migrate                       # with the same -e/--env-file as below
#   docker run --read-only --tmpfs /tmp -p 8080:8080 --env-file gatepass.env gatepass
#
# Every stage starts from the official Python image, pinned by tag: Python 3.11 on Debian 12.
# To pin it by digest too, so that every rebuild starts from the very same base, resolve the tag
#   docker buildx imagetools inspect python:3.11-slim-bookworm
# and write its digest after the tag in the one FROM line that names it:
#   FROM python:3.11-slim-bookworm@sha256:<digest> AS base

# --- base: the Python image and the labels every stage inherits.
FROM python:3.11-slim-bookworm AS base
ARG VERSION=dev
LABEL org.opencontainers.image.title="Gatepass" \
      org.opencontainers.image.description="Self-hosted OAuth 2.0 client credentials server and API-key manager" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

# --- builder: wheels of Gatepass and of every dependency, at the versions of constraints.txt.
FROM base AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY gatepass/ gatepass/
# Binary wheels only (sources are refused): nothing is compiled, so no stage needs a compiler.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip wheel --only-binary=:all: --wheel-dir /wheels -c constraints.txt .

# --- runtime: a virtual environment holding those wheels, run by a user without a name.
FROM base AS runtime
# The wheels are mounted for this one step, so none of them becomes a layer. pip runs from the
# base image (the venv has none) without an index; it compiles every module as it installs, so
# that nothing needs to write a .pyc at run time.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv --without-pip /opt/gatepass \
    && python -m pip --python /opt/gatepass/bin/python install \
        --no-cache-dir --no-index --find-links /wheels --root-user-action ignore gatepass
# The data directory (the SQLite file, if no database URL is given) belongs to the numeric user
# below; a named volume mounted here starts with this ownership.
RUN install -d -o 10001 -g 10001 -m 0700 /var/lib/gatepass
# Production settings unless told otherwise: a secret key and an https public URL are required.
# Migrations run only when asked (`gatepass migrate`, a one-off container): several replicas
# starting at once must not race to migrate the same database.
ENV PATH=/opt/gatepass/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEPASS_ENV=production \
    GATEPASS_DATA_DIR=/var/lib/gatepass \
    GATEPASS_AUTO_MIGRATE=false \
    GATEPASS_HOST=0.0.0.0 \
    GATEPASS_PORT=8080
VOLUME ["/var/lib/gatepass"]
USER 10001:10001
EXPOSE 8080
# uvicorn finishes the requests in flight on SIGTERM, then exits.
STOPSIGNAL SIGTERM
# The slim image has no curl: the image's own Python asks /readyz (503 while the database is
# unreachable). It follows GATEPASS_PORT, so a port changed with -e keeps the check right.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:' + os.environ['GATEPASS_PORT'] + '/readyz', timeout=4)"]
ENTRYPOINT ["gatepass"]
CMD ["serve"]
