# syntax=docker/dockerfile:1
# Casedesk in a container: `python -m bot` (arguments after the image name are its
# subcommands: `docker run --env-file .env casedesk check`). Settings come from the
# environment; see compose.yaml for the bot beside PostgreSQL.
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The dependencies first, in a layer of their own: it is rebuilt only when requirements.txt changes.
COPY requirements.txt /app/requirements.txt
RUN pip install --no-cache-dir -r /app/requirements.txt

# Only what `python -m bot` imports (the migrations live in db/); no tests, no settings files.
COPY bot/ /app/bot/
COPY db/ /app/db/
COPY slack_double/ /app/slack_double/
COPY mail_double/ /app/mail_double/
COPY sandbox/ /app/sandbox/

# The code belongs to root and is only read; the bot runs as a user of its own, whose one
# writable place is /data, the working directory (a SQLite DATABASE_URL such as
# sqlite:///casedesk.db lands there: mount a volume on /data to keep it).
RUN python -m compileall -q /app \
    && groupadd --system --gid 10001 casedesk \
    && useradd --system --uid 10001 --gid casedesk --home-dir /data --no-create-home --shell /usr/sbin/nologin casedesk \
    && mkdir /data \
    && chown casedesk:casedesk /data

# PORT turns the health server on; 0.0.0.0 lets a probe from outside the container reach it.
ENV PYTHONPATH=/app \
    PORT=8080 \
    HEALTH_HOST=0.0.0.0
WORKDIR /data
USER 10001:10001
EXPOSE 8080

# No curl in a slim image: the check is Python's own urllib, on the port the bot serves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/health', timeout=4).status == 200 else 1)"]

# The bot stops cleanly on SIGTERM (stops taking work, drains up to 7 s, exits 0). As the
# container's PID 1 it gets SIGTERM only once it has set its handler; `init: true` in
# compose.yaml (or `docker run --init`) covers the first seconds of a start as well.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
