# One image serves every Skymock service; `skymock serve [SERVICE...]` chooses which.
#   docker build -t skymock .
#   docker run --rm -p 8701-8707:8701-8707 skymock                 every service on its default port
#   docker run --rm -p 8705:8705 skymock dsn                        one service
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/skymock
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY specs ./specs
COPY clients ./clients
COPY conformance ./conformance
RUN pip install . \
 && useradd --system --create-home --home-dir /home/skymock skymock
# Not root; a writable working directory of its own for a --state file and for `skymock fuzz`'s
# Hypothesis and Schemathesis caches (.hypothesis, .schemathesis).
USER skymock
WORKDIR /home/skymock

EXPOSE 8701 8702 8703 8704 8705 8706 8707
# Asks /__skymock/health on every port the container's processes listen on, so it holds whichever
# services, ports or port offset `skymock serve` was given; compose checks each service's own port.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-m", "mockserver.healthcheck"]
ENTRYPOINT ["skymock", "serve", "--host", "0.0.0.0"]
