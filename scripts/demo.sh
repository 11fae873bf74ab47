#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root:
#   installs the dependencies, builds the Debian packages ejabberd-mod-unread
#   and chatadm (scripts/build-debs.sh) and installs them with apt-get,
#   enables the module in the system ejabberd (embedded mnesia),
#   has a real XMPP client leave messages for an offline user, and prints
#   that user's unread messages.
# Safe to run again: every step checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (sudo $0)" >&2; exit 2; }

scripts/install-deps.sh
# build-debs/ becomes a small apt repository holding this tree's build
# (rebuilt only when the tree changed). Upgrading the module under a
# running ejabberd switches it to the new code (the package's postinst).
scripts/build-debs.sh build-debs
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    ./build-debs/ejabberd-mod-unread_*.deb ./build-debs/chatadm_*.deb

etc=/etc/ejabberd
demo=$etc/chatadm-demo
yml=$etc/ejabberd.yml
install -d -m 0750 -o root -g ejabberd "$demo"

# A CA and a certificate for "localhost", so that clients verify TLS rather
# than skip it (Debian's own certificate names the host "ejabberd").
if [ ! -f "$demo/localhost.pem" ]; then
    /usr/bin/python3 -c "import sys; sys.path.insert(0, 'tests/integration'); import harness; harness.make_tls('$demo')"
    mv "$demo/server.pem" "$demo/localhost.pem"
    rm -f "$demo"/server.* "$demo"/san.ext "$demo"/ca.srl
    chown root:ejabberd "$demo/localhost.pem" && chmod 0640 "$demo/localhost.pem"
    chmod 0600 "$demo/ca.key"
fi
grep -q "$demo/localhost.pem" "$yml" ||
    sed -i "/^certfiles:/a\\  - \"$demo/localhost.pem\"" "$yml"
grep -q '^  mod_unread:' "$yml" || sed -i '/^modules:/a\  mod_unread: {}' "$yml"
# chatadm calls the HTTP API as an admin; Debian's config names no admin yet
# (its "admin" ACL holds an empty user name). Make admin@localhost one.
grep -q '"admin@localhost"' "$yml" ||
    sed -i '/^  admin:$/,/^[^ ]/ s/^\( *\)- ""$/\1- "admin@localhost"/' "$yml"

if ejabberdctl status >/dev/null 2>&1; then
    # Starts mod_unread if it was just added, and reads the certificate.
    ejabberdctl reload_config
elif [ -d /run/systemd/system ]; then
    systemctl restart ejabberd
else
    ejabberdctl start
fi
ejabberdctl started

# Accounts with generated passwords, kept readable by root only.
pwfile=$demo/passwords
pw() { awk -v u="$1" '$1 == u { print $2 }' "$pwfile" 2>/dev/null; }
for u in alice bob admin; do
    [ -n "$(pw "$u")" ] || (umask 077 && echo "$u $(openssl rand -hex 16)" >>"$pwfile")
    ejabberdctl check_account "$u" localhost >/dev/null 2>&1 || ejabberdctl register "$u" localhost "$(pw "$u")"
done

echo "== bob (a real XMPP client, STARTTLS verified) leaves messages for alice, who is offline"
/usr/bin/python3 - "$demo/ca.pem" "$(pw bob)" <<'PY'
import sys
sys.path.insert(0, "tests/integration")
import xmpp_client
errors = xmpp_client.send_messages(("127.0.0.1", 5222), sys.argv[1], "bob@localhost", sys.argv[2],
                                   "alice@localhost", ["Hi Alice!", "Lunch at noon?\nBring the slides."])
sys.exit(1 if errors else 0)
PY
ejabberdctl send_message chat admin@localhost alice@localhost "Maintenance" "Server upgrade tonight"

echo "== ejabberdctl unread_count alice"
ejabberdctl unread_count alice
echo "== ejabberdctl unread_senders alice"
ejabberdctl unread_senders alice

# chatadm's configuration for root: the admin's password in a file of its own,
# both readable by root only.
cfg=${XDG_CONFIG_HOME:-$HOME/.config}/chatadm/config
if [ ! -f "$cfg" ]; then
    install -d -m 0700 "$(dirname "$cfg")"
    (umask 077
     pw admin >"$demo/admin.pw"
     printf 'host = localhost\nuser = admin@localhost\npassword_file = %s\nca_file = %s\n' \
         "$demo/admin.pw" "$demo/ca.pem" >"$cfg")
fi
echo "== chatadm unread alice"
chatadm unread alice
echo "== chatadm senders alice"
chatadm senders alice
