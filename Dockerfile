# Ortaq: one bot replica. Built and run by compose.yaml; see docs/deploy.md.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user; the code is read-only to it, only /app/data is its own.
RUN useradd --create-home --uid 10001 ortaq
WORKDIR /app

# Dependencies first, so a code change does not reinstall them. An editable install keeps the
# package where the migrations (migrations/) and the default content (content/) sit beside it.
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/__init__.py
COPY handlers/__init__.py handlers/__init__.py
COPY models/__init__.py models/__init__.py
RUN pip install -e '.[postgres]'

COPY bot bot
COPY handlers handlers
COPY models models
COPY migrations migrations
COPY content content
RUN mkdir -p /app/data && chown ortaq:ortaq /app/data

USER ortaq
# WEBHOOK_LISTEN's default port (webhook mode: the webhook, /healthz and /metrics).
EXPOSE 8080
# SIGTERM: the listener stops, updates in flight finish, the outbox records what left.
STOPSIGNAL SIGTERM
# Migrates the database (a no-op at head), then runs in BOT_MODE (polling or webhook).
CMD ["python", "-m", "bot"]
