# The documented interface of the project: `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
SAM_VENV  := .venv-sam
SAM       := $(SAM_VENV)/bin/sam
export AWS_EC2_METADATA_DISABLED ?= true
export SAM_CLI_TELEMETRY ?= 0
export AWS_DEFAULT_REGION ?= us-east-1
export PYTHONDONTWRITEBYTECODE := 1

FUNCTION ?= SweepFunction
EVENT    ?= events/scheduled-sweep.json
ENV_VARS ?=
POLICY   ?=
WHAT_IF  ?=
DEPLOYED ?=
ORG_ROLE_ARN ?=
FORMAT   ?=
PORT     ?= 8787
STRICT   ?=
STRICT_FLAG = $(if $(filter 1 true yes,$(STRICT)),--strict)
SHARER_PROFILE    ?=
RECIPIENT_PROFILE ?=
REGION            ?=
ALLOW_SKIP_BUILD ?=
MODULE ?=
# `make mutation MODULE=src/acceptor/events.py` -> mutmut's names for that module's mutants: acceptor.events.*
MUTATION_MODULES = $(if $(MODULE),$(MODULE),src/policy src/acceptor/events.py src/acceptor/engine.py \
    src/acceptor/outcomes.py src/acceptor/listing.py src/acceptor/recorder.py src/acceptor/fanout.py)
MUTANT_GLOBS = $(foreach m,$(MUTATION_MODULES),"$(subst /,.,$(patsubst src/%,%,$(basename $(patsubst %/,%,$(m))))).*")

.PHONY: help venv sam-venv test test-fast lint typecheck demo simulator probe-aws invoke check-policy build validate bench mutation \
        stackset-buckets stackset-package stackset-create stackset-update clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt src/requirements.txt
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed ## Create .venv (Python 3.13 when present, else python3 >= 3.11) with the pinned dependencies

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || "$$(scripts/find-python)" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@touch $@

sam-venv: $(SAM_VENV)/.installed ## Create .venv-sam with the pinned SAM CLI

test: venv ## Run every offline test with coverage (the CI test command)
	$(PY) -m pytest --cov --cov-report=term

test-fast: venv ## Run the tests without coverage
	$(PY) -m pytest -q

lint: venv ## ruff and mypy
	$(PY) -m ruff check src simulator tests tools bench
	$(PY) -m ruff format --check src simulator tests tools bench
	$(PY) -m mypy

typecheck: venv ## mypy only
	$(PY) -m mypy

demo: venv ## Run the acceptor on the embedded simulator and print its decisions (STRICT=1: the strict simulator)
	$(PY) -m tools.demo $(STRICT_FLAG)

simulator: venv ## Serve the Well-Architected simulator on 127.0.0.1:$(PORT) until stopped (STRICT=1: strict mode)
	$(PY) -m simulator --port $(PORT) $(STRICT_FLAG)

probe-aws: venv ## Learn the unverified API behaviours with two real accounts (SHARER_PROFILE, RECIPIENT_PROFILE, REGION)
	@test -n "$(SHARER_PROFILE)" -a -n "$(RECIPIENT_PROFILE)" -a -n "$(REGION)" || \
	  { echo "probe-aws: set SHARER_PROFILE, RECIPIENT_PROFILE and REGION"; exit 2; }
	$(PY) -m tools.probe_aws --sharer-profile "$(SHARER_PROFILE)" --recipient-profile "$(RECIPIENT_PROFILE)" --region "$(REGION)"

invoke: venv ## Run FUNCTION with EVENT in-process like `sam local invoke` (ENV_VARS=file optional)
	$(PY) -m tools.invoke $(FUNCTION) --event $(EVENT) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

check-policy: venv ## Validate a policy (POLICY=document or ENV_VARS=file), print its rules; WHAT_IF=1 previews it read-only (DEPLOYED=file)
	$(PY) -m tools.check_policy $(if $(POLICY),--policy "$(POLICY)") $(if $(ENV_VARS),--env-vars "$(ENV_VARS)") \
	  $(if $(filter 1 true yes,$(WHAT_IF)),--what-if) $(if $(DEPLOYED),--deployed "$(DEPLOYED)") \
	  $(if $(ORG_ROLE_ARN),--organizations-role-arn "$(ORG_ROLE_ARN)") $(if $(FORMAT),--format "$(FORMAT)")

build: sam-venv ## sam build, then precompile the bytecode Lambda cannot write (needs python3.13; ALLOW_SKIP_BUILD=1 skips without it)
	@set -e; export PATH="$(CURDIR)/$(VENV)/bin:$$PATH"; \
	if ! python3.13 -c '' 2>/dev/null; then \
	  if [[ "$(ALLOW_SKIP_BUILD)" == 1 ]]; then echo "build: skipped (ALLOW_SKIP_BUILD=1): no python3.13 on this machine"; exit 0; fi; \
	  echo "build: no python3.13 on this machine (the functions' runtime); install it, or set ALLOW_SKIP_BUILD=1 to skip" >&2; \
	  exit 1; \
	fi; \
	$(SAM) build --template-file template.yaml; \
	test -d .aws-sam/build/SweepFunction; test -d .aws-sam/build/ShareEventFunction; \
	for fn in SweepFunction ShareEventFunction; do \
	  python3.13 -m compileall -q -j 0 --invalidation-mode unchecked-hash \
	    -s .aws-sam/build/$$fn -p /var/task .aws-sam/build/$$fn; \
	done

validate: sam-venv venv ## sam validate --lint and cfn-lint on every template
	for t in template.yaml templates/*.yaml; do $(SAM) validate --lint --template-file $$t || exit 1; done
	$(VENV)/bin/cfn-lint template.yaml templates/*.yaml

bench: venv ## Benchmarks: cold start, sweeps, a burst of share events, policy speed (prints ratios against targets)
	$(PY) -m bench

mutation: venv ## Mutation testing (mutmut) of src/policy, events.py and the engine's stages, then scores; MODULE=src/policy for one. Slow
	$(VENV)/bin/mutmut run $(MUTANT_GLOBS)
	$(PY) -m tools.mutation_report $(MUTATION_MODULES)

stackset-buckets: ## Create the org-readable code buckets <ARTIFACT_BUCKET_PREFIX>-<region> (REGIONS, ORG_ID)
	scripts/stackset.sh buckets

stackset-package: build venv ## Upload the built code to every region's bucket, write dist/stackset-template.json
	scripts/stackset.sh package

stackset-create: venv ## Create the stack set and deploy it to TARGET_OUS x REGIONS (PARAMETERS=file optional)
	scripts/stackset.sh create

stackset-update: venv ## Roll the packaged template and PARAMETERS out to every stack instance
	scripts/stackset.sh update

clean: ## Remove virtual environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam dist .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
