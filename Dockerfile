# One image serves every Skymock service; `skymock serve [SERVICE...]` chooses which.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /opt/skymock
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY specs ./specs
COPY clients ./clients
COPY conformance ./conformance
RUN pip install . && useradd --system --no-create-home skymock
USER skymock

EXPOSE 8701 8702 8703 8704 8705 8706 8707
# Checks the first service given on the command line (or nrao-ods); compose checks each service's own port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8701/__skymock/health', timeout=3)"
ENTRYPOINT ["skymock", "serve", "--host", "0.0.0.0"]
