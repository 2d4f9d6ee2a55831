# homelab.mediacluster — the commands a contributor can guess. Everything runs from the project's .venv.
SHELL := /bin/bash
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_HOME := $(CURDIR)/.ansible
INVENTORY ?= inventory/lab
SCENARIO ?= default

.PHONY: help host-setup venv image lab lab-up lab-down lab-status site smoke test lint unit molecule build clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

host-setup:  ## apt packages the lab and tests need (podman, runc, debootstrap, ganesha, libnfs)
	bash scripts/host-setup.sh

venv: ## the pinned toolchain in ./.venv (requirements.txt)
	bash scripts/venv.sh

image: host-setup  ## build (or reuse) the lab/molecule node image
	bash scripts/build-node-image.sh

lab: lab-up site  ## bring the lab up and run the main job (playbooks/site.yml) against it

lab-up: host-setup venv  ## start the lab: node containers, fakepve, Kubernetes emulator
	python3 scripts/lab.py up -i $(INVENTORY)

lab-down: venv  ## remove every container, network and process the lab started
	python3 scripts/lab.py down -i $(INVENTORY)

lab-status: venv
	python3 scripts/lab.py status -i $(INVENTORY)

site: venv  ## playbooks/site.yml against INVENTORY (default: the lab)
	ansible-playbook -i $(INVENTORY) playbooks/site.yml

smoke: venv  ## reach every lab host, the Proxmox API and the Kubernetes API
	ansible-playbook -i $(INVENTORY) playbooks/smoke.yml

test: host-setup venv  ## the whole test suite: lint, unit/integration tests, molecule scenarios
	bash scripts/test.sh

lint: venv  ## ansible-lint (production), yamllint, ruff
	bash scripts/test.sh lint

unit: venv  ## pytest only
	bash scripts/test.sh pytest

molecule: host-setup venv image  ## one scenario: make molecule SCENARIO=common
	molecule test -s $(SCENARIO)

build: venv  ## the collection tarball in build/
	ansible-galaxy collection build --force --output-path build .

clean: lab-down
	rm -rf build .pytest_cache .ruff_cache
