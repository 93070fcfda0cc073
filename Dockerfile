# The service's image: the API (gunicorn) by default; the worker and the sample upload run the same image
# with another command (see docker-compose.yml).
# The browser assets (Chart.js, Swagger UI), pinned in package-lock.json, so /dashboard and /docs work offline.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Microsoft ODBC Driver 18 for SQL Server, for Azure SQL (AZURE_SQL_CONNECTION_STRING), installed as
# Microsoft documents for Debian 12: packages-microsoft-prod.deb adds Microsoft's apt repository and key.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && curl -fsSL -o /tmp/packages-microsoft-prod.deb https://packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb \
 && dpkg -i /tmp/packages-microsoft-prod.deb \
 && rm /tmp/packages-microsoft-prod.deb \
 && apt-get update \
 && ACCEPT_EULA=Y apt-get install -y --no-install-recommends msodbcsql18 \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 app
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays root-owned and read-only to the service; only var/ (the embedded defaults) is writable.
COPY . .
COPY --from=web /web/node_modules/chart.js/dist/chart.umd.min.js \
     /web/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
     /web/node_modules/swagger-ui-dist/swagger-ui.css /app/api/static/vendor/
RUN mkdir -p /app/var && chown app:app /app/var

USER app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"

# Listening on 0.0.0.0 serves everyone who reaches the port, so the API key is required here
# (without API_KEY the service runs without authentication). The schema is created or upgraded first.
CMD ["sh", "-c", "if [ -z \"$API_KEY\" ]; then echo 'API_KEY must be set: the container listens on 0.0.0.0' >&2; exit 1; fi; flask init-db && exec gunicorn --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-2} --timeout 120 --access-logfile - 'main:create_app()'"]
