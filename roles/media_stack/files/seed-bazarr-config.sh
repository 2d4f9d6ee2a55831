# shellcheck shell=sh
# Writes auth.apikey, the one key the collection owns, into Bazarr's config/config.yaml before Bazarr starts, so the
# key is known before the first start. Every other line stays as it is: a present apikey line under auth: is
# rewritten where it stands, a missing one is added to auth: (auth: is added when there is none). The value comes
# from the environment (BAZARR_API_KEY), never from the command line. With no config.yaml yet, Bazarr fills in every
# other setting on first start (and then rewrites the whole file in its own layout).
set -eu
umask 077
dir="${BAZARR_CONFIG_DIR:-/config}/config"
conf="$dir/config.yaml"
: "${BAZARR_API_KEY:?}"
mkdir -p "$dir"
[ -f "$conf" ] || : > "$conf"
awk '
  BEGIN { line = "apikey: '"'"'" ENVIRON["BAZARR_API_KEY"] "'"'"'" }
  function add_key() { print (indent == "" ? "  " : indent) line; done = 1 }
  /^[^ \t#-]/ {
    if (in_auth && !done) add_key()
    in_auth = ($0 ~ /^auth:[ \t]*$/)
    if (in_auth) seen_auth = 1
    print
    next
  }
  in_auth && /^[ \t]+[^ \t#]/ {
    if (indent == "") { indent = $0; sub(/[^ \t].*$/, "", indent) }
    if ($0 ~ /^[ \t]+apikey:/) {
      if (!done) { print indent line; done = 1 }
      next
    }
  }
  { print }
  END {
    if (in_auth && !done) add_key()
    if (!seen_auth) { print "auth:"; print "  " line }
  }
' "$conf" > "$conf.seed"
mv "$conf.seed" "$conf"
