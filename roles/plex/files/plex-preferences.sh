# shellcheck shell=sh
# Writes the Preferences.xml attributes the collection owns before Plex Media Server starts (init container of the
# exported StatefulSet, k8s_delivery_mode=export: there is no API to stop Plex and edit the file from outside).
# Only the attributes listed in $PLEX_PREFS_FILE change: an owned attribute that is present gets its new value where
# it stands, a missing one is added at the end of the <Preferences> start tag; every other byte of the file stays as
# it was (the XML declaration, the other attributes, their order and quoting). Nothing is written when every value
# is already there, so a restart with unchanged preferences leaves the file alone. A file that is missing is created
# with the owned attributes only (Plex adds its own on first start); a file whose <Preferences> tag cannot be read is
# refused, not edited.
#   PLEX_CONFIG_DIR   Plex's /config (default /config)
#   PLEX_PREFS_FILE   lines of Name=value, value already escaped for an XML attribute ("&amp;", "&quot;", ...);
#                     default: the file "preferences" next to this script (the same ConfigMap)
#   PLEX_UID/GID      owner of a file or folder created here, when running as root (the linuxserver PUID/PGID)
set -eu
dir="${PLEX_CONFIG_DIR:-/config}/Library/Application Support/Plex Media Server"
prefs="$dir/Preferences.xml"
wanted="${PLEX_PREFS_FILE:-$(dirname "$0")/preferences}"
[ -r "$wanted" ] || { echo "plex-preferences: cannot read $wanted (the plex-preferences ConfigMap)" >&2; exit 1; }

own() {
  if [ "$(id -u)" = 0 ] && [ -n "${PLEX_UID:-}" ]; then chown "$PLEX_UID:${PLEX_GID:-$PLEX_UID}" "$@"; fi
}

if [ ! -d "$dir" ]; then
  mkdir -p "$dir"
  # every folder from Library down belongs to Plex's user, like the ones Plex makes itself
  own "${PLEX_CONFIG_DIR:-/config}/Library" "${PLEX_CONFIG_DIR:-/config}/Library/Application Support" "$dir"
fi
if [ ! -f "$prefs" ]; then
  (umask 077 && printf '<?xml version="1.0" encoding="utf-8"?>\n<Preferences/>\n' > "$prefs.new")
  own "$prefs.new"
  mv -f "$prefs.new" "$prefs"
fi

# The whole file is one awk record (RS is a control character XML never contains), so line ends stay as they were.
new="$prefs.seed"
rm -f "$new"
awk -v wanted="$wanted" -v where="$prefs" '
  BEGIN {
    ORS = ""; q = "\047"; ws = "[ \t\r\n]"
    n = 0
    while ((getline line < wanted) > 0) {
      if (line == "") continue
      eq = index(line, "=")
      name = substr(line, 1, eq - 1)
      if (eq < 2 || name !~ /^[A-Za-z_][A-Za-z0-9_]*$/) { print "plex-preferences: bad line in " wanted "\n" > "/dev/stderr"; bad = 1; exit 1 }
      order[++n] = name
      value[name] = substr(line, eq + 1)
    }
    close(wanted)
    RS = "\001"
    attr = "^" ws "+[A-Za-z_:][-A-Za-z0-9_.:]*" ws "*=" ws "*(\"[^\"]*\"|" q "[^" q "]*" q ")"
  }
  {
    seen = 1
    doc = $0
    if (!match(doc, /<Preferences[ \t\r\n\/>]/)) fail("no <Preferences> element")
    out = substr(doc, 1, RSTART + 11)
    rest = substr(doc, RSTART + 12)
    while (match(rest, attr)) {
      item = substr(rest, 1, RLENGTH)
      rest = substr(rest, RLENGTH + 1)
      eq = index(item, "=")
      name = substr(item, 1, eq - 1)
      sub("^" ws "+", "", name)
      sub(ws "+$", "", name)
      if (name in value) {
        if (name in done) fail("attribute " name " appears twice")
        done[name] = 1
        lead = substr(item, 1, eq)
        quoted = substr(item, eq + 1)
        match(quoted, "^" ws "*")
        lead = lead substr(quoted, 1, RLENGTH)
        quoted = substr(quoted, RLENGTH + 1)
        # compared as XML reads them, so another quoting or escaping of the same value is left alone
        if (unescape(substr(quoted, 2, length(quoted) - 2)) != unescape(value[name]))
          item = lead "\"" value[name] "\""
      }
      out = out item
    }
    if (!match(rest, "^" ws "*/?>")) fail("cannot read the attributes of <Preferences>")
    for (i = 1; i <= n; i++)
      if (!(order[i] in done)) out = out " " order[i] "=\"" value[order[i]] "\""
    print out rest
  }
  # the predefined entities and the character references Plex and the collection write; any other reference is
  # compared as written (at worst an equal value is written again)
  function unescape(s,   out, i, rest, semi, ent, c) {
    out = ""
    while ((i = index(s, "&")) > 0) {
      out = out substr(s, 1, i - 1)
      rest = substr(s, i)
      semi = index(rest, ";")
      ent = semi ? substr(rest, 1, semi) : ""
      if (ent == "&amp;") c = "&"
      else if (ent == "&lt;") c = "<"
      else if (ent == "&gt;") c = ">"
      else if (ent == "&quot;") c = "\""
      else if (ent == "&apos;") c = q
      else if (ent == "&#9;" || ent == "&#x9;") c = "\t"
      else if (ent == "&#10;" || ent == "&#xA;" || ent == "&#xa;") c = "\n"
      else if (ent == "&#13;" || ent == "&#xD;" || ent == "&#xd;") c = "\r"
      else { c = "&"; semi = 1 }
      out = out c
      s = substr(rest, semi + 1)
    }
    return out s
  }
  function fail(why) {
    print "plex-preferences: " where ": " why "; fix or restore the file (docs/plex.md), or delete it and let Plex write a fresh one\n" > "/dev/stderr"
    bad = 1
    exit 1
  }
  END {
    if (bad) exit 1
    if (!seen) fail("the file is empty")
  }
' "$prefs" > "$new" || { rm -f "$new"; exit 1; }

if cmp -s "$new" "$prefs"; then
  rm -f "$new"
else
  # same owner and mode as the file it replaces, then an atomic rename
  chmod "$(stat -c %a "$prefs")" "$new"
  if [ "$(id -u)" = 0 ]; then chown "$(stat -c %u:%g "$prefs")" "$new"; fi
  mv -f "$new" "$prefs"
  echo "plex-preferences: set $(cut -d= -f1 "$wanted" | tr '\n' ' ')in $prefs"
fi
