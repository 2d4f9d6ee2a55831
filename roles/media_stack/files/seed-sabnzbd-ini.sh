# shellcheck shell=sh
# Writes the [misc] keys the collection owns into SABnzbd's sabnzbd.ini before SABnzbd starts: api_key,
# host_whitelist, download_dir, complete_dir, and with SAB_USERNAME set the web login (username, password,
# html_login = 1: SABnzbd's login form for every address). Every other line stays byte for byte; an owned key that is
# present is rewritten where it stands, a missing one is added at the end of [misc] ([misc] is added when there is
# none). Values come from the environment (never from the command line): SAB_API_KEY, SAB_HOST_WHITELIST,
# SAB_DOWNLOAD_DIR, SAB_COMPLETE_DIR, SAB_USERNAME, SAB_PASSWORD. The password is written in SABnzbd's own encoded
# form (ENC: and the hex of each byte, config.decode_password), so a # or a space in it cannot end the value. With no
# sabnzbd.ini yet, SABnzbd fills in everything else on first start.
set -eu
umask 077
ini="${SAB_CONFIG_DIR:-/config}/sabnzbd.ini"
: "${SAB_API_KEY:?}" "${SAB_HOST_WHITELIST:?}" "${SAB_DOWNLOAD_DIR:?}" "${SAB_COMPLETE_DIR:?}"
if [ -n "${SAB_USERNAME:-}" ]; then : "${SAB_PASSWORD:?SAB_USERNAME is set without SAB_PASSWORD}"; fi
mkdir -p "$(dirname "$ini")"
[ -f "$ini" ] || : > "$ini"
LC_ALL=C awk '
  BEGIN {
    n = split("api_key host_whitelist download_dir complete_dir", owned, " ")
    value["api_key"] = ENVIRON["SAB_API_KEY"]
    value["host_whitelist"] = ENVIRON["SAB_HOST_WHITELIST"]
    value["download_dir"] = ENVIRON["SAB_DOWNLOAD_DIR"]
    value["complete_dir"] = ENVIRON["SAB_COMPLETE_DIR"]
    if (ENVIRON["SAB_USERNAME"] != "") {
      for (i = 1; i < 256; i++) byte[sprintf("%c", i)] = i
      pw = ENVIRON["SAB_PASSWORD"]; enc = "ENC:"
      for (i = 1; i <= length(pw); i++) enc = enc sprintf("%02x", byte[substr(pw, i, 1)])
      owned[++n] = "username"; value["username"] = ENVIRON["SAB_USERNAME"]
      owned[++n] = "password"; value["password"] = enc
      owned[++n] = "html_login"; value["html_login"] = 1
    }
  }
  function add_missing(   i) {
    for (i = 1; i <= n; i++)
      if (!(owned[i] in done)) { print owned[i] " = " value[owned[i]]; done[owned[i]] = 1 }
  }
  /^[ \t]*\[[^[]/ {
    if (in_misc) add_missing()
    in_misc = ($0 ~ /^[ \t]*\[misc\][ \t]*$/)
    if (in_misc) seen_misc = 1
    print
    next
  }
  in_misc && /^[ \t]*[A-Za-z0-9_]+[ \t]*=/ {
    key = $0
    sub(/^[ \t]*/, "", key)
    sub(/[ \t]*=.*$/, "", key)
    if (key in value) {
      if (!(key in done)) { print key " = " value[key]; done[key] = 1 }
      next
    }
  }
  { print }
  END {
    if (!seen_misc) print "[misc]"
    if (!seen_misc || in_misc) add_missing()
  }
' "$ini" > "$ini.seed"
mv "$ini.seed" "$ini"
