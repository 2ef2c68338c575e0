# builder-images: the Makefile is a thin door to the CLI; the logic lives in src/.
SHELL := /bin/bash
NPM ?= npm
CLI := node bin/builder-images.js

.PHONY: all deps build typecheck test unit lint index push e2e bench clean

all: test

# Node modules from the lock file (only when missing or stale), system tools when missing.
node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed
	@bash scripts/ensure-system-deps.sh

build: deps
	$(NPM) run build --silent

typecheck: deps
	npx tsc -p tsconfig.json

# The test command the README gives and CI runs: install what is needed, type check, run every test.
test: deps typecheck
	npx vitest run

lint: build
	$(CLI) lint

index: build
	$(CLI) index

clean:
	rm -rf dist node_modules .cache
