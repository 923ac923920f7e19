# kaizen.hybrid developer entry points. Run as root on Debian 12.
#   make lab          build the lab and converge site.yml on it
#   make lab-destroy  remove the lab
#   make test         everything CI runs (.ci/run calls it)
#   make check        the fast loop: lint, then unit and sanity on the newest and
#                     the oldest ansible-core the collection claims (< 8 minutes)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
# The oldest ansible-core meta/runtime.yml admits (tests/constraints-oldest.txt).
OLDEST := .venv-oldest
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0
LAB_INVENTORY := inventories/lab

.PHONY: venv oldest tools engine image app-image lab lab-up lab-converge lab-summary lab-destroy \
        test lane-check-api lane-site-up lane-site-tests lane-single check check-api lint unit sanity unit-oldest sanity-oldest molecule site site-up site-tests single api bench role-docs build clean

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

# The same requirements with ansible-core held at the oldest release the
# collection claims to support (requires_ansible's lower bound).
oldest: $(OLDEST)/.installed
$(OLDEST)/.installed: requirements.txt tests/constraints-oldest.txt
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/pip install -q --upgrade pip
	$(OLDEST)/bin/pip install -q -r requirements.txt -c tests/constraints-oldest.txt
	touch $@

# promtool and amtool from Debian's packages (unpacked, not installed), for the
# tests of the alert rules, the Alertmanager configuration and the dashboards.
tools: $(BIN)/promtool
$(BIN)/promtool: lab/prometheus-tools.sh | $(VENV)/.installed
	bash lab/prometheus-tools.sh $(BIN)
	touch $@

engine:
	bash lab/engine.sh

image: engine
	bash lab/base-image.sh

# The reference app image, saved to the archive the lab's app role loads.
app-image: image
	bash lab/app-image.sh >/dev/null

lab: venv image app-image lab-up lab-converge lab-summary

lab-up: venv image
	ansible-playbook -i $(LAB_INVENTORY) lab/up.yml

lab-converge: venv
	ansible-playbook -i $(LAB_INVENTORY) site.yml

lab-summary: venv
	ansible-playbook -i $(LAB_INVENTORY) lab/summary.yml

lab-destroy: venv engine
	ansible-playbook -i $(LAB_INVENTORY) lab/down.yml

# Lanes side by side: check then the API tests; the site scenario in two
# halves (site-up: new hosts converged twice; site-tests: its day-2 tests,
# verify, destroy), the longest; the single scenario. The site's hosts come
# up first, alone (anything beside their converge slowed it by minutes: apt,
# dpkg and the engine's disk are shared, whatever the CPU priority); then its
# day-2 tests start, with check-api and single in their background at a
# lower priority. Before the tests that compare the capacity of the load balancer's
# instances, the site's day-2 tests wait for the other two lanes to end
# (machine_quiet in molecule/site/side_effect.yml reads their end marks from
# KAIZEN_SITE_QUIET_AFTER). When each lane started and ended is in
# .results/lanes/times. Each lane's output is shown whole when it ends and
# kept in .results/lanes/<lane>.log (.results/ has the scenarios' logs as
# they run); when one fails, the end of its output is shown again last. The
# site's hosts are removed whatever happens.
LANES := $(abspath .results/lanes)
lane = echo "[lane $(1)] started $$(date +%T)" >> $(LANES)/times; rc=0; { $(2); } 2>&1 | tee $(LANES)/$(1).log || rc=$$?; \
	touch $(LANES)/$(1).done; echo "[lane $(1)] ended $$(date +%T), exit $$rc" >> $(LANES)/times; exit $$rc
failed-lanes = for lane in $$(sed -n 's/^\[lane \(.*\)\] ended .*, exit [1-9][0-9]*$$/\1/p' $(LANES)/times); do \
	echo "== lane $$lane failed: its failures, then the end of its output (.results/lanes/$$lane.log)"; \
	{ grep -E '^(FAILED|ERROR) |^E   |fatal: \[|\*\*\* \[' $(LANES)/$$lane.log || true; } | tail -n 40; echo "--"; tail -n 40 $(LANES)/$$lane.log; done

test:
	rm -rf $(LANES) && mkdir -p $(LANES)
	KAIZEN_SITE_QUIET_AFTER=$(LANES)/check-api.done:$(LANES)/single.done $(MAKE) --no-print-directory -j3 --output-sync=target \
		lane-check-api lane-single lane-site-tests || { rc=$$?; molecule destroy -s site >/dev/null 2>&1; $(failed-lanes); cat $(LANES)/times; exit $$rc; }
	cat $(LANES)/times

# Each lane is a make of its own: what the lanes share is made first, once.
# The site is the longest: the other lanes run in its background, at a lower
# priority (their controllers niced, their hosts a lower CPU weight), in the
# time its hosts leave the cores idle.
BACKGROUND := KAIZEN_LAB_CPU_SHARES=128 nice -n 10
lane-check-api: oldest tools lane-site-up
	@$(call lane,check-api,$(BACKGROUND) $(MAKE) --no-print-directory check-api)

lane-site-up: venv oldest tools image
	@$(call lane,site-up,$(MAKE) --no-print-directory site-up)

lane-site-tests: lane-site-up
	@$(call lane,site-tests,$(MAKE) --no-print-directory site-tests)

lane-single: lane-site-up
	@$(call lane,single,$(BACKGROUND) $(MAKE) --no-print-directory single)

check-api: check
	$(MAKE) --no-print-directory api

# Independent: run them side by side (each one's output kept together). Unit
# and sanity run twice: on the newest ansible-core requirements.txt admits and
# on the oldest meta/runtime.yml claims.
check: venv oldest tools
	$(MAKE) --no-print-directory -j3 --output-sync=target lint unit sanity unit-oldest sanity-oldest

lint: venv
	yamllint --strict .
	ansible-lint --profile production

# The ansible-core each run tests is named first (tests/unit/test_versions.py
# checks it lies in the range meta/runtime.yml claims).
UNIT_TESTS := tests/unit tests/integration tests/api/unit
UNIT_CORE := python3 -c 'from ansible.release import __version__; print("unit tests, ansible-core", __version__)'
unit: venv tools
	@$(UNIT_CORE)
	pytest -q $(UNIT_TESTS)

# The Python API against lab hosts the tests create, and a fresh virtualenv
# with `pip install .` (tests/api/integration; a few minutes).
api: venv image
	KAIZEN_API_REQUIRE_LAB=1 pytest -q tests/api/integration

sanity: venv
	bash tests/sanity/run.sh

unit-oldest: oldest tools
	@PATH=$(abspath $(OLDEST))/bin:$$PATH $(UNIT_CORE)
	PATH=$(abspath $(OLDEST))/bin:$$PATH pytest -q -p no:cacheprovider $(UNIT_TESTS)

sanity-oldest: oldest
	PATH=$(abspath $(OLDEST))/bin:$$PATH bash tests/sanity/run.sh

# The molecule scenarios, each on lab hosts reached over SSH as the operator
# `deploy`: `site` (five hosts, every group; converge, idempotence, then every
# day-2 test on that one deployment) and `single` (one host runs every tier).
# KAIZEN_SITE_TESTS=a,b runs only those day-2 tests (molecule/shared/scenario.py).
molecule: site single

site: venv image
	molecule test -s site

# The site scenario in two halves (make test's lane-site runs one after the
# other): new hosts converged and converged again (idempotence), then the
# day-2 tests and verify on them, and the hosts removed.
site-up: venv image
	molecule destroy -s site
	molecule syntax -s site
	molecule create -s site
	molecule prepare -s site
	molecule converge -s site
	molecule idempotence -s site

site-tests: venv
	rm -f .results/site-scenario.log; rc=0; molecule side-effect -s site && molecule verify -s site || rc=$$?; molecule destroy -s site; \
	[ $$rc = 0 ] || $(call failed-checks,site); exit $$rc

single: venv image
	rm -f .results/single-scenario.log; molecule test -s single || { rc=$$?; $(call failed-checks,single); exit $$rc; }

# After a failed scenario, its failed checks again: molecule's destroy output
# would otherwise end the run and hide them (the whole log is in .results).
failed-checks = { echo "== $(1) failed; its day-2 tests' verdicts (.results/$(1)-scenario.log):"; \
	grep -hE '^\[scenario [0-9:]+\] (FAILED |[0-9]+ checks passed)' .results/$(1)-scenario.log 2>/dev/null \
	|| echo "   none: it failed before its day-2 tests (see its converge above)"; }

# Converge speed against the apt floor on new lab hosts (not part of make test;
# about half an hour): .results/bench.json. MITOGEN=1: with Mitogen.
bench: venv image app-image
	python3 lab/bench.py $(if $(MITOGEN),--mitogen)

# The generated variables tables of the role READMEs, from their argument specs
# (tests/unit/test_role_specs.py fails while one is stale).
role-docs: venv
	python3 tests/role_docs.py

build: venv
	ansible-galaxy collection build --force --output-path build/

clean:
	rm -rf build .pytest_cache $(OLDEST)
