#!/usr/bin/env bash
# Installs, from Debian 12's own repositories, everything chatadm needs to
# build, test and run. Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# mariadb-server and postgresql are for the SQL tests, which run their own
# throwaway instances (tests/integration/sqldb.py), never the system services.
apt-get install -y --no-install-recommends \
    build-essential cmake g++ clang-format \
    libgtest-dev googletest libcurl4-openssl-dev nlohmann-json3-dev \
    erlang-dev erlang-eunit erlang-proper erlang-proper-dev erlang-p1-oauth2 \
    ejabberd haproxy openssl ca-certificates procps \
    python3 python3-pytest python3-slixmpp go-sendxmpp hyperfine \
    puppet puppet-lint ruby-rspec-puppet puppet-module-puppetlabs-haproxy \
    puppet-module-puppetlabs-stdlib puppet-module-puppetlabs-concat vagrant \
    debootstrap systemd-container iproute2 curl \
    debhelper lintian \
    mariadb-server mariadb-client postgresql erlang-p1-mysql erlang-p1-pgsql \
    python3-prometheus-client
