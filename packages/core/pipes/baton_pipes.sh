# Baton Pipes helper for bash: `source "$(dirname "$0")/baton_pipes.sh"` (or a path from pipesHelperPath("bash")).
#   baton_log info "starting"
#   baton_metadata rows=10 note="some text"      # numbers stay numbers, everything else is text
#   baton_check no_nulls true null_count=0
#   baton_materialize v1 rows=10                 # data version ("" for none), then metadata
#   baton_context                                # prints the context JSON (BATON_PIPES_CONTEXT)
# Also set by Baton for shell scripts: BATON_ASSET_KEY, BATON_PARTITION_KEY, BATON_RUN_ID, BATON_ATTEMPT.
# Messages go to fd $BATON_PIPES_FD (3 under Baton), else to stdout as ::baton::{json} lines.

_baton_json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

_baton_json_value() {
  if [[ $1 =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then printf '%s' "$1"; else _baton_json_string "$1"; fi
}

# key=value ... → {"key":value,...}
_baton_json_object() {
  local out="{" sep="" pair
  for pair in "$@"; do
    out+="$sep$(_baton_json_string "${pair%%=*}"):$(_baton_json_value "${pair#*=}")"
    sep=","
  done
  printf '%s}' "$out"
}

_baton_send() {
  if [[ -n ${BATON_PIPES_FD:-} ]] && { true >&"$BATON_PIPES_FD"; } 2>/dev/null; then
    printf '%s\n' "$1" >&"$BATON_PIPES_FD"
  else
    printf '::baton::%s\n' "$1"
  fi
}

baton_context() { printf '%s\n' "${BATON_PIPES_CONTEXT:-"{}"}"; }

baton_log() { _baton_send "{\"type\":\"log\",\"level\":$(_baton_json_string "$1"),\"message\":$(_baton_json_string "$2")}"; }

baton_metadata() { _baton_send "{\"type\":\"metadata\",\"metadata\":$(_baton_json_object "$@")}"; }

baton_check() {
  local name=$1 passed=false
  [[ $2 == true || $2 == 1 ]] && passed=true
  shift 2
  _baton_send "{\"type\":\"check\",\"check\":$(_baton_json_string "$name"),\"passed\":$passed,\"metadata\":$(_baton_json_object "$@")}"
}

baton_materialize() {
  local version=$1
  shift
  local msg="{\"type\":\"materialize\",\"metadata\":$(_baton_json_object "$@")"
  [[ -n $version ]] && msg+=",\"dataVersion\":$(_baton_json_string "$version")"
  _baton_send "$msg}"
}
