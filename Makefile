# The two commands of the README: `make run` and `make test`.
# Both create .venv on first use and reinstall when the packaging changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/.installed: pyproject.toml setup.cfg
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# compat mode: twistd finds plugins by scanning sys.path, which a
	# default (import-hook) editable install hides from it.
	$(BIN)/python -m pip install -q --config-settings editable_mode=compat -e '.[embedded,test]'
	touch $@

run: $(BIN)/.installed
	@# Ctrl-C (or SIGTERM) stops presque gracefully, and twistd then dies of
	@# the signal as it should; make would call that an error: it is not.
	@trap : INT TERM; $(BIN)/twistd --nodaemon --pidfile= presque --config etc/presque.ini; \
	status=$$?; [ $$status -eq 130 ] || [ $$status -eq 143 ] || exit $$status

test: $(BIN)/.installed
	harness/system-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The original Perl presque joins the benchmark (bench.run --perl) where
# harness/perl-presque installed it; PRESQUE_PERL=DIR names another place.
PRESQUE_PERL ?= $(patsubst %/presque/app.psgi,%,$(wildcard /opt/presque-perl/presque/app.psgi))
export PRESQUE_PERL

bench: $(BIN)/.installed
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build *.egg-info twisted/plugins/dropin.cache
