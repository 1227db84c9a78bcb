# The README's commands. Every target is idempotent and safe to run twice.
#   make demo   install everything, build, run the all-in-one demo (Ctrl-C to stop)
#   make test   install everything, build, lint, type-check, run every test tier
SHELL := /bin/bash
APT_PACKAGES := openvswitch-switch openvswitch-common iproute2 iputils-ping ethtool tcpdump iperf3 \
	busybox netcat-openbsd procps python3 curl make g++
# promtool (Prometheus's own parser of /metrics, for the tests; `make test` only) ships only in the prometheus package: installed
# without its recommends (node exporter), and its service, which would take vnet's default port 9090, disabled.
# postgresql: initdb/pg_ctl for the PostgreSQL store's tests, which start their own throwaway cluster (the
# package's own service is disabled too).
# chromium: the topology page's browser test (headless, driven by playwright-core, which downloads no browser).
# python3-openstackclient: the `openstack` CLI the Neutron API's end-to-end test drives.
# tempest, neutron-tempest-plugin: Tempest's network API tests against the Neutron listener (scripts/tempest.mjs,
# test/server/neutron-tempest.test.ts).
# bind9-dnsutils: `dig`, the resolver the DNS service's end-to-end test runs in VMs; dnsmasq-base: the lab's upstream
# DNS server for its public_dns forwarding (the binary alone, no service).
APT_TOOLS := prometheus postgresql chromium python3-openstackclient tempest neutron-tempest-plugin bind9-dnsutils dnsmasq-base
# Of those, the ones that come with a service to disable.
APT_TOOL_SERVICES := prometheus postgresql
export DEBIAN_FRONTEND := noninteractive

.PHONY: all setup system-deps test-tools node-deps build lint typecheck check test test-unit demo clean

all: build

setup: system-deps node-deps build

# apt only when a package is missing, so a second run is fast and offline-safe.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -q && apt-get install -y -q $$missing; \
	else echo "system packages present"; fi

# Test-only tools: `make demo` does not need them.
test-tools:
	@missing=""; for p in $(APT_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -q && \
		apt-get install -y -q --no-install-recommends $$missing && \
		for s in $(APT_TOOL_SERVICES); do \
			case " $$missing " in *" $$s "*) if [ -d /run/systemd/system ]; then systemctl disable --now $$s; fi;; esac; \
		done; \
	else echo "tools present"; fi

# npm ci when the lockfile changed since the last install (it rebuilds better-sqlite3 from source).
node-deps:
	@if [ ! -f node_modules/.vnet-lock ] || ! cmp -s package-lock.json node_modules/.vnet-lock; then \
		npm ci && cp package-lock.json node_modules/.vnet-lock; else echo "node modules up to date"; fi

build: node-deps
	npm run -s build

lint:
	npm run -s lint

typecheck:
	npm run -s typecheck

check: lint typecheck

test: setup test-tools check
	npm run -s test

test-unit: setup
	node scripts/run-tests.mjs --tier unit

demo: setup
	./bin/vnet demo

clean:
	rm -rf dist
