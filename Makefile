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
# build and stackset-*: template.yaml (the acceptor), or templates/sharer-forwarding.yaml (the share-event router)
TEMPLATE ?= template.yaml
EVENT    ?= events/scheduled-sweep.json
ENV_VARS ?=
POLICY   ?=
WHAT_IF  ?=
DEPLOYED ?=
URI      ?=
ORG_ROLE_ARN ?=
FORMAT   ?=
PORT     ?= 8787
WORLD    ?= simulator/worlds/example.json
CONFIG_ENV ?=
PARAMETERS ?=
OVERRIDES  ?=
STRICT   ?=
STRICT_FLAG = $(if $(filter 1 true yes,$(STRICT)),--strict)
SHARER_PROFILE    ?=
RECIPIENT_PROFILE ?=
REGION            ?=
ALLOW_SKIP_BUILD ?=
CHECK_DEPLOY = $(PY) -m tools.check_deploy --template "$(TEMPLATE)" $(if $(CONFIG_ENV),--config-env "$(CONFIG_ENV)") \
  $(if $(PARAMETERS),--parameters "$(PARAMETERS)") $(if $(OVERRIDES),--overrides '$(OVERRIDES)') \
  $(if $(POLICY),--policy "$(POLICY)")
MODULE ?=
# make guardrails (docs/guardrails.md); RoleNamePrefix is spelled as the stack parameter it must equal
RoleNamePrefix     ?=
BREAK_GLASS_ROLES  ?=
DEPLOYER_ROLES     ?=
INVITEE_ROLES      ?=
POLICY_PARAMETER   ?=
POLICY_S3_URI      ?=
POLICY_OWNER_ROLES ?=
PARTITION          ?=
TARGET_IDS         ?=
HUB_LOG_GROUP ?= /aws/events/wa-share-acceptor-hub
DAYS ?= 7
# `make mutation MODULE=src/acceptor/events.py` -> mutmut's names for that module's mutants: acceptor.events.*
MUTATION_MODULES = $(if $(MODULE),$(MODULE),src/policy src/acceptor/events.py src/acceptor/engine.py \
    src/acceptor/outcomes.py src/acceptor/listing.py src/acceptor/recorder.py src/acceptor/fanout.py \
    src/acceptor/sweep_reading.py src/acceptor/pipeline.py)
MUTANT_GLOBS = $(foreach m,$(MUTATION_MODULES),"$(subst /,.,$(patsubst src/%,%,$(basename $(patsubst %/,%,$(m))))).*")

.PHONY: help venv sam-venv test test-fast lint typecheck demo simulator probe-aws invoke check-policy guardrails build validate bench mutation \
        check-deploy deploy fleet-report stackset-buckets stackset-package stackset-create stackset-update clean

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

simulator: venv ## Serve the simulator on 127.0.0.1 until stopped (PORT=8787, WORLD=simulator/worlds/example.json; WORLD= empty; STRICT=1)
	$(PY) -m simulator --port $(PORT) $(if $(WORLD),--world "$(WORLD)") $(STRICT_FLAG)

probe-aws: venv ## Learn the unverified API behaviours with two real accounts (SHARER_PROFILE, RECIPIENT_PROFILE, REGION)
	@test -n "$(SHARER_PROFILE)" -a -n "$(RECIPIENT_PROFILE)" -a -n "$(REGION)" || \
	  { echo "probe-aws: set SHARER_PROFILE, RECIPIENT_PROFILE and REGION"; exit 2; }
	$(PY) -m tools.probe_aws --sharer-profile "$(SHARER_PROFILE)" --recipient-profile "$(RECIPIENT_PROFILE)" --region "$(REGION)"

invoke: venv ## Run FUNCTION (SweepFunction) with EVENT (events/scheduled-sweep.json) in-process like `sam local invoke`; ENV_VARS=file
	$(PY) -m tools.invoke $(FUNCTION) --event $(EVENT) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

check-policy: venv ## Validate a policy (POLICY=document or ENV_VARS=file), print its rules; WHAT_IF=1 previews it read-only (DEPLOYED=file)
	$(PY) -m tools.check_policy $(if $(POLICY),--policy "$(POLICY)") $(if $(ENV_VARS),--env-vars "$(ENV_VARS)") \
	  $(if $(filter 1 true yes,$(WHAT_IF)),--what-if) $(if $(DEPLOYED),--deployed "$(DEPLOYED)") \
	  $(if $(ORG_ROLE_ARN),--organizations-role-arn "$(ORG_ROLE_ARN)") $(if $(FORMAT),--format "$(FORMAT)")

fleet-report: venv ## Organization-wide table from the fleet hub's log group (read-only; HUB_LOG_GROUP, DAYS, FORMAT=json)
	$(PY) -m tools.fleet_report --log-group "$(HUB_LOG_GROUP)" --days "$(DAYS)" $(if $(FORMAT),--format "$(FORMAT)")

.PHONY: policy-publish
policy-publish: venv ## Validate POLICY as the functions would, upload it to URI=s3://bucket/key, print the new version id
	@test -n "$(POLICY)" -a -n "$(URI)" || { echo "policy-publish: set POLICY=file and URI=s3://bucket/key"; exit 2; }
	$(PY) -m tools.policy_publish --policy "$(POLICY)" --uri "$(URI)" $(if $(REGION),--region "$(REGION)")

guardrails: venv ## Render the guardrail SCPs into dist/guardrails (RoleNamePrefix=..., BREAK_GLASS_ROLES, POLICY_PARAMETER, ...; docs/guardrails.md)
	$(PY) -m tools.guardrails --role-name-prefix "$(RoleNamePrefix)" --break-glass-roles "$(BREAK_GLASS_ROLES)" \
	  --deployer-roles "$(DEPLOYER_ROLES)" --invitee-roles "$(INVITEE_ROLES)" --policy-parameter "$(POLICY_PARAMETER)" \
	  --policy-s3-uri "$(POLICY_S3_URI)" --policy-owner-roles "$(POLICY_OWNER_ROLES)" --partition "$(PARTITION)" \
	  --target-ids "$(TARGET_IDS)" $(if $(PARAMETERS),--parameters "$(PARAMETERS)") $(if $(CONFIG_ENV),--config-env "$(CONFIG_ENV)")

build: ## sam build TEMPLATE (default template.yaml), then precompile the bytecode Lambda cannot write (needs python3.13, pyenv's too; ALLOW_SKIP_BUILD=1 skips)
	@set -e; \
	if ! py313="$$(scripts/find-python 3.13)"; then \
	  if [[ "$(ALLOW_SKIP_BUILD)" == 1 ]]; then echo "build: skipped (ALLOW_SKIP_BUILD=1): no python3.13 on this machine"; exit 0; fi; \
	  echo "build: no python3.13 on this machine (the functions' runtime); install it, or set ALLOW_SKIP_BUILD=1 to skip" >&2; \
	  exit 1; \
	fi; \
	echo "build: python3.13 is $$py313"; \
	$(MAKE) --no-print-directory sam-venv; \
	export PATH="$$(dirname "$$py313"):$$PATH"; \
	$(SAM) build --template-file $(TEMPLATE); \
	for fn in .aws-sam/build/*/; do \
	  fn="$${fn%/}"; test -d "$$fn/handlers"; \
	  "$$py313" -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$$fn" -p /var/task "$$fn"; \
	done

validate: sam-venv venv ## sam validate --lint and cfn-lint on every template
	for t in template.yaml templates/*.yaml templates/guardrails/*.yaml; do $(SAM) validate --lint --template-file $$t || exit 1; done
	$(VENV)/bin/cfn-lint template.yaml templates/*.yaml templates/guardrails/*.yaml

bench: venv ## Benchmarks: cold start, sweeps, a burst of share events, policy speed (prints ratios against targets)
	$(PY) -m bench

mutation: venv ## Mutation testing (mutmut) of src/policy, events.py and the engine's stages, then scores; MODULE=src/policy for one. Slow
	$(VENV)/bin/mutmut run $(MUTANT_GLOBS)
	$(PY) -m tools.mutation_report $(MUTATION_MODULES)

check-deploy: venv ## Check what you deploy, offline: CONFIG_ENV=env (samconfig), PARAMETERS=file or OVERRIDES="K=V ..."; POLICY=doc
	$(CHECK_DEPLOY)

deploy: venv ## check-deploy, build, then sam deploy --config-env CONFIG_ENV (default: default) [OVERRIDES="K=V ..."]
	$(PY) -m tools.check_deploy --config-env "$(or $(CONFIG_ENV),default)" $(if $(OVERRIDES),--overrides '$(OVERRIDES)') \
	  $(if $(POLICY),--policy "$(POLICY)")
	$(MAKE) --no-print-directory build
	$(SAM) deploy --config-env "$(or $(CONFIG_ENV),default)" $(if $(OVERRIDES),--parameter-overrides '$(OVERRIDES)')

stackset-buckets: ## Create the org-readable code buckets <ARTIFACT_BUCKET_PREFIX>-<region> (REGIONS, ORG_ID)
	scripts/stackset.sh buckets

stackset-package: build venv ## Upload the built code and the StackSets template of TEMPLATE to the code buckets (REGIONS, ARTIFACT_BUCKET_PREFIX)
	TEMPLATE="$(TEMPLATE)" scripts/stackset.sh package

stackset-create: venv ## check-deploy PARAMETERS=file (required), then create the stack set of TEMPLATE in TARGET_OUS x REGIONS
	TEMPLATE="$(TEMPLATE)" scripts/stackset.sh create

stackset-update: venv ## check-deploy PARAMETERS=file (required), then roll the packaged TEMPLATE out to every instance
	TEMPLATE="$(TEMPLATE)" scripts/stackset.sh update

clean: ## Remove virtual environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam dist .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
