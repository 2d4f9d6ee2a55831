# shellcheck shell=sh
# Writes the auth: keys the collection owns into Bazarr's config/config.yaml before Bazarr starts: apikey, so the key
# is known before the first start, and with BAZARR_USERNAME set the login (type, username, and password as the MD5
# hex digest Bazarr itself stores). Every other line stays as it is: an owned key present under auth: is rewritten
# where it stands, a missing one is added to auth: (auth: is added when there is none). Values come from the
# environment (BAZARR_API_KEY, BAZARR_AUTH_TYPE, BAZARR_USERNAME, BAZARR_PASSWORD), never from the command line. With
# no config.yaml yet, Bazarr fills in every other setting on first start (and then rewrites the file in its layout).
set -eu
umask 077
dir="${BAZARR_CONFIG_DIR:-/config}/config"
conf="$dir/config.yaml"
: "${BAZARR_API_KEY:?}"
BAZARR_PASSWORD_MD5=''
if [ -n "${BAZARR_USERNAME:-}" ]; then
  : "${BAZARR_PASSWORD:?BAZARR_USERNAME is set without BAZARR_PASSWORD}"
  BAZARR_PASSWORD_MD5=$(printf '%s' "$BAZARR_PASSWORD" | md5sum | cut -c1-32)
fi
export BAZARR_PASSWORD_MD5
mkdir -p "$dir"
[ -f "$conf" ] || : > "$conf"
awk '
  function quoted(s) { gsub(/\047/, "\047\047", s); return "\047" s "\047" }
  BEGIN {
    n = 1; owned[1] = "apikey"; line["apikey"] = "apikey: " quoted(ENVIRON["BAZARR_API_KEY"])
    if (ENVIRON["BAZARR_USERNAME"] != "") {
      owned[++n] = "type"; line["type"] = "type: " (ENVIRON["BAZARR_AUTH_TYPE"] == "basic" ? "basic" : "form")
      owned[++n] = "username"; line["username"] = "username: " quoted(ENVIRON["BAZARR_USERNAME"])
      owned[++n] = "password"; line["password"] = "password: " quoted(ENVIRON["BAZARR_PASSWORD_MD5"])
    }
  }
  function add_missing(   i) {
    for (i = 1; i <= n; i++)
      if (!(owned[i] in done)) { print (indent == "" ? "  " : indent) line[owned[i]]; done[owned[i]] = 1 }
  }
  /^[^ \t#-]/ {
    if (in_auth) add_missing()
    in_auth = ($0 ~ /^auth:[ \t]*$/)
    if (in_auth) seen_auth = 1
    print
    next
  }
  in_auth && /^[ \t]+[^ \t#]/ {
    if (indent == "") { indent = $0; sub(/[^ \t].*$/, "", indent) }
    key = $0
    sub(/^[ \t]+/, "", key)
    sub(/:.*$/, "", key)
    if (key in line) {
      if (!(key in done)) { print indent line[key]; done[key] = 1 }
      next
    }
  }
  { print }
  END {
    if (in_auth) add_missing()
    if (!seen_auth) { print "auth:"; add_missing() }
  }
' "$conf" > "$conf.seed"
mv "$conf.seed" "$conf"
