# The bot as a container image: the wheel built from this checkout and installed exactly
# as tests/test_install.py installs it (`python -m build`: the sdist, then the wheel from
# it; then `pip install` of that wheel into a fresh virtualenv). docs/deploy.md says how
# to build, push and run it. No Docker engine runs on the development machine: this file
# is not built there; its steps are the tested install's.

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m pip install --no-cache-dir "build>=1.2"
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY config ./config
COPY manifest ./manifest
RUN python -m build --outdir /dist .

FROM python:3.11-slim
# A user of its own, no shell login, no root at run time.
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home alertbot \
    && mkdir /data && chown alertbot:alertbot /data
COPY --from=build /dist/*.whl /tmp/wheel/
RUN python -m venv /opt/alertbot \
    && /opt/alertbot/bin/pip install --no-cache-dir /tmp/wheel/*.whl \
    && rm -r /tmp/wheel
ENV PATH=/opt/alertbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ALERTBOT_HOST=0.0.0.0 \
    ALERTBOT_PORT=3978 \
    ALERTBOT_DATABASE_URL=sqlite+aiosqlite:////data/alertbot.db
USER alertbot
WORKDIR /app
# The SQLite database (alerts, subscriptions, conversations, audit log, outbox).
VOLUME ["/data"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ALERTBOT_PORT', '3978'), timeout=4)" || exit 1
# SIGTERM stops it cleanly (open requests get 30 s, then everything closes in order).
STOPSIGNAL SIGTERM
CMD ["alertbot", "serve"]
