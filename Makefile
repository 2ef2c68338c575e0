# builder-images: the Makefile is a thin door to the CLI; the logic lives in src/.
SHELL := /bin/bash
NPM ?= npm
CLI := node bin/builder-images.js

.PHONY: all deps test-deps e2e-deps bench-deps build typecheck lint-code test lint index push plan e2e bench mutation clean

# make push REGISTRY="ghcr.io/org/builders mirror.example/builders" ENGINE=buildah TAGS="latest v1.2.3"
REGISTRY ?=
ENGINE ?=
TAGS ?=
PUSH_FLAGS ?=
push_args = $(foreach r,$(REGISTRY),--repo $(r)) $(if $(ENGINE),--engine $(ENGINE)) $(foreach t,$(TAGS),--version $(t)) $(PUSH_FLAGS)

all: test

# Node modules from the lock file, only when missing or stale (npm ci writes node_modules/.package-lock.json, so
# a workflow's own `npm ci` is not repeated). Every target needs them; nothing else is shared.
node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

# System tools only where they are used: the test, e2e and bench targets install theirs (apt, when missing);
# lint, index, plan and push install nothing, and push only checks that its build engine is there.
deps: test-deps
test-deps e2e-deps bench-deps: %-deps: node_modules/.package-lock.json
	@bash scripts/ensure-system-deps.sh $*

build: node_modules/.package-lock.json
	$(NPM) run build --silent

typecheck: node_modules/.package-lock.json
	npx tsc -p tsconfig.json

# The code's own lint (ESLint + typescript-eslint, type-aware): zero findings. Not `lint`, which lints builders.
lint-code: node_modules/.package-lock.json
	npx eslint --max-warnings 0 .

# The test command the README gives and CI runs: install what is needed, type check, lint the code, run every test.
test: test-deps typecheck lint-code
	bash scripts/vitest.sh

lint: build
	$(CLI) lint

index: build
	$(CLI) index

# Build what changed, check it, push per arch and multi-arch indexes (config: builder-images.yaml).
# Needs the engine only when it builds (not for --manifests-only or --dry-run).
push: build
	$(if $(filter --manifests-only --dry-run,$(PUSH_FLAGS)),,@bash scripts/require-engine.sh $(or $(ENGINE),auto))
	$(CLI) push $(push_args)

plan: build
	$(CLI) plan --format github-matrix

# The whole chain for real on this machine: local registry with auth, debootstrap bases, push, check --exec,
# index and select, a refused broken image, bump. Needs root (debootstrap, binfmt).
e2e: e2e-deps build
	bash scripts/e2e.sh

# Every benchmark, each printing ratios against a peer measured in the same run (BENCH=plan runs one).
BENCH ?= lint-index plan registry check-scan push-overhead
bench: bench-deps build
	@for b in $(BENCH); do echo "### bench/$$b.ts"; npx tsx bench/$$b.ts || exit 1; done

# Mutation testing (StrykerJS, vitest runner) over src/core and src/adapters/registry; slow, so not in `test`.
# Score in the README; report in reports/mutation/mutation.html. Incremental: unchanged mutants keep their result
# (reports/mutation/stryker-incremental.json); FORCE=1 re-runs every mutant.
mutation: test-deps
	npx stryker run $(if $(FORCE),--force)

clean:
	rm -rf dist node_modules .cache reports .stryker-tmp
