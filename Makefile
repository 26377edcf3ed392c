# Two commands do all the set-up on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed

.PHONY: install fonts messages catalogues run test bench drills lint chromium node-tools proxy-parts clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# PyICU compiles against the system's ICU.
	@pkg-config --exists icu-uc 2>/dev/null && command -v g++ >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null; \
	  else echo "ICU's headers are missing: sudo apt-get install libicu-dev pkg-config g++" >&2; exit 1; fi; }
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[test,bench]" 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import django, channels, celery, playwright, psycopg, aiortc, av, holidays, fpdf, pikepdf, icu"  # fail loudly if the install did
	touch $(STAMP)

# The translations (locale/<language>/LC_MESSAGES/*.po, docs/glossary.md) compiled for gettext.
MESSAGES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

locale/%.mo: locale/%.po
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else echo "msgfmt is missing: sudo apt-get install gettext" >&2; exit 1; fi; }
	msgfmt --check -o $@ $<

messages: $(MESSAGES)

# After a change of the interface's text: the catalogues take its new messages (then translate them,
# in the glossary's words; tests/test_translations.py fails until every one is).
catalogues: install
	for language in mn zh_Hans; do $(BIN)/python manage.py makemessages -l $$language -v0 --add-location file \
	  --ignore=.venv --ignore=node_modules --ignore=bench --ignore=tests --ignore=staticfiles --ignore=test-artifacts; done

install: $(STAMP) $(MESSAGES) fonts

# Embedded default: SQLite, in-memory channel layer, Celery tasks in-process, `manage.py tick` for the
# periodic jobs, the media server inside Daphne. With DATABASE_URL and REDIS_URL: PostgreSQL, Redis,
# a Celery worker and beat, and the media server (aiortc) as a process of its own.
run: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py load_demo
	@echo "Serving at http://$(HOST):$(PORT)  (Ctrl-C stops everything)"
	@# Ctrl-C reaches every process of the terminal's group, but a non-interactive shell starts its
	@# background jobs with SIGINT ignored: this shell stops them by their pids and waits for them (a
	@# second Ctrl-C kills what is left). Not `kill 0`: that signalled this shell too, whose trap then
	@# ran again inside itself until the shell crashed ("Segmentation fault"). Celery beat sets its
	@# own Ctrl-C handler, so it already has the terminal's: a TERM after it, arriving while beat
	@# was exiting, printed a traceback; on Ctrl-C it is left out ($$others).
	@pids=""; others=""; \
	stop() { trap 'kill -KILL $$pids 2>/dev/null' INT TERM; kill -TERM $$1 2>/dev/null; wait; }; \
	trap 'stop "$$others"; exit 0' INT; trap 'stop "$$pids"; exit 0' TERM; \
	if [ -n "$$REDIS_URL" ]; then \
	  $(BIN)/celery -A config worker -l warning --concurrency 2 & pids="$$pids $$!"; others="$$others $$!"; \
	  $(BIN)/celery -A config beat -l warning & pids="$$pids $$!"; \
	  $(BIN)/python manage.py media_server & pids="$$pids $$!"; others="$$others $$!"; \
	else \
	  $(BIN)/python manage.py tick & pids="$$pids $$!"; others="$$others $$!"; \
	fi; \
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application & pids="$$pids $$!"; others="$$others $$!"; \
	wait $$!; status=$$?; stop "$$pids"; exit $$status

# The fonts the PDFs print with (exams/oversight/export.py): DejaVu Sans for Cyrillic, Noto Sans CJK
# for Chinese. The browser tests need the CJK fonts too: without them a Chinese page shows boxes.
fonts:
	@test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc -a -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fonts-dejavu-core >/dev/null 2>&1 \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fonts-dejavu-core >/dev/null; }; \
	  else echo "Fonts are missing: sudo apt-get install fonts-noto-cjk fonts-dejavu-core" >&2; exit 1; fi; }

# Browser tests drive Debian's Chromium; install it when missing and we are root.
chromium: fonts
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; }

# nginx and coturn: the TLS proxy and the TURN server of deploy/, which the deployment tests run.
proxy-parts:
	@{ [ -x /usr/sbin/nginx ] && [ -x /usr/bin/turnserver ]; } || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light coturn >/dev/null 2>&1 \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light coturn >/dev/null; }; \
	  else echo "nginx and coturn are missing: sudo apt-get install nginx-light coturn" >&2; exit 1; fi; }

# axe-core (the accessibility checks in the browser tests) from the npm registry, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else echo "npm is missing: sudo apt-get install npm" >&2; exit 1; fi; }
	npm ci --no-audit --no-fund --silent
	touch $@

node-tools: node_modules/.installed

test: install chromium node-tools proxy-parts
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py

# Fault drills at 500 open exam pages on a private PostgreSQL and Redis (bench/README.md, "Fault drills").
# DRILLS=name,name picks faults, DRILL_PAGES the page count.
drills: install
	$(BIN)/python bench/drills.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules db.sqlite3 media staticfiles
