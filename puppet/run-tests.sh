#!/usr/bin/env bash
# Static tests of the provisioning code: Puppet syntax, templates, style
# (puppet-lint, no warnings), rspec-puppet catalogues of every role, the
# secrets generator, the helper scripts, and `vagrant validate`.
# No network, no VM, nothing applied. Needs (Debian 12): puppet puppet-lint
# ruby-rspec-puppet puppet-module-puppetlabs-{haproxy,stdlib,concat} vagrant;
# shellcheck is used if present.
#
#   puppet/run-tests.sh        prints each check, ends with "N passed, M failed"
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
module=$here/modules/chatadm
passed=0
failed=0
log=$(mktemp)
tmp_confdir=$(mktemp -d) tmp_vardir=$(mktemp -d)
trap 'rm -rf "$log" "$tmp_confdir" "$tmp_vardir"' EXIT

# check NAME COMMAND...: runs COMMAND, counts it, shows its output on failure.
check() {
    local name=$1
    shift
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "ok    $name"
    else
        failed=$((failed + 1))
        echo "FAIL  $name"
        sed 's/^/      /' "$log"
    fi
}

# rspec NAME DIR: every example counts.
rspec_run() {
    local name=$1 dir=$2 summary examples failures
    (cd "$dir" && rspec --no-color spec) >"$log" 2>&1
    local rc=$?
    summary=$(grep -E '^[0-9]+ examples?, [0-9]+ failures?' "$log" | tail -1)
    examples=$(awk '{print $1}' <<<"$summary")
    failures=$(awk '{print $3}' <<<"$summary")
    if [ -z "$summary" ]; then
        failed=$((failed + 1))
        echo "FAIL  $name (rspec did not run)"
        sed 's/^/      /' "$log"
        return
    fi
    passed=$((passed + examples - failures))
    failed=$((failed + failures))
    if [ "$rc" -eq 0 ] && [ "$failures" -eq 0 ]; then
        echo "ok    $name: $summary"
    else
        [ "$failures" -eq 0 ] && failed=$((failed + 1)) # errors outside examples
        echo "FAIL  $name: $summary"
        sed 's/^/      /' "$log"
    fi
}

export PUPPET_COLOR=false
puppet_opts=(--color=false --confdir "$tmp_confdir" --vardir "$tmp_vardir")

for f in "$here"/manifests/*.pp "$module"/manifests/*.pp; do
    check "puppet parser validate ${f#"$repo"/}" puppet parser validate "${puppet_opts[@]}" "$f"
done
for f in "$module"/templates/*.epp; do
    check "puppet epp validate ${f#"$repo"/}" puppet epp validate "${puppet_opts[@]}" "$f"
done
for f in "$here"/hiera.yaml "$here"/data/*.yaml "$here"/data/*/*.yaml; do
    check "YAML ${f#"$repo"/}" ruby -ryaml -e 'YAML.safe_load(File.read(ARGV[0])) or exit 1' "$f"
done
check "metadata.json" ruby -rjson -e 'JSON.parse(File.read(ARGV[0]))' "$module/metadata.json"

check "puppet-lint --fail-on-warnings" puppet-lint --fail-on-warnings \
    "$here"/manifests/*.pp "$module"/manifests/*.pp

for f in "$module"/files/*; do
    check "sh -n ${f#"$repo"/}" sh -n "$f"
    if command -v shellcheck >/dev/null; then
        check "shellcheck ${f#"$repo"/}" shellcheck "$f"
    fi
done
check "ruby -c puppet/lib, puppet/bin, Vagrantfile" \
    ruby -c "$here/lib/chatadm_secrets.rb" "$here/bin/chatadm-secrets" "$here/bin/chatadm-epp" "$repo/Vagrantfile"

rspec_run "rspec-puppet (catalogue of each role)" "$module"
rspec_run "rspec (deployment secrets)" "$here"

if command -v vagrant >/dev/null; then
    # No checkpoint (version check over the network); validation only
    # evaluates the Vagrantfile and makes no secrets.
    check "vagrant validate --ignore-provider" \
        env -C "$repo" VAGRANT_CHECKPOINT_DISABLE=1 vagrant validate --ignore-provider
else
    failed=$((failed + 1))
    echo "FAIL  vagrant validate: vagrant is not installed (apt-get install vagrant)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
