# shellcheck shell=bash
# Shared helpers for deploy/*.sh (sourced, not executed).
#
# Conventions:
#   - Everything the user should read goes to stderr via log/info/warn/die;
#     stdout is kept for machine-readable results (function OCID, invoke output).
#   - Commands that change state go through `mutate`, which prints them and,
#     under --dry-run, does not run them. Read-only look-ups run in both modes.
#   - JSON is parsed with python3 (always present where the oci CLI is), not jq.

# shellcheck disable=SC2034 # constants and settings used by the sourcing scripts
MARKER_KEY="managed-by"
MARKER_VALUE="backup-tag-sync"
MARKER_TAGS='{"managed-by": "backup-tag-sync"}'

PRINT_ONLY=0
ASSUME_YES=${ASSUME_YES:-0}
OCI_REGION=${OCI_REGION:-}
PROG=${PROG:-$(basename "$0")}

# ---- logging ---------------------------------------------------------------

log() { printf '%s\n' "$*" >&2; }
info() { log "[$PROG] $*"; }
warn() { log "[$PROG] WARNING: $*"; }
die() {
	log "[$PROG] ERROR: $*"
	exit 1
}
# A bad option or value: exit 2, before any call.
usage_error() {
	log "[$PROG] ERROR: $*"
	exit 2
}
step() { log "" && log "==> $*"; }

# Shell-quote a command line for display (copy-pasteable).
quote_cmd() {
	local out="" a q="'"
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
			out+="$a "
		else
			out+="$q${a//$q/$q\\$q$q}$q "
		fi
	done
	printf '%s' "${out% }"
}

# Run a command that changes state. Under PRINT_ONLY=1 (--dry-run) it is printed and skipped
# (stdout stays empty, status 0). Otherwise it is printed, then run; its stdout is passed
# through so callers can capture the created resource. When it fails, everything it printed
# (stdout too: the oci CLI prints some usage errors there) is shown and the script stops.
mutate() {
	local shown=("$@") out rc=0
	if [[ "$1" == oci_cli ]]; then
		shown=(oci "${@:2}")
		[[ -z "$OCI_REGION" ]] || shown+=(--region "$OCI_REGION")
	fi
	if [[ "$PRINT_ONLY" == 1 ]]; then
		log "DRY-RUN: $(quote_cmd "${shown[@]}")"
		return 0
	fi
	log "+ $(quote_cmd "${shown[@]}")"
	out=$("$@" </dev/null) || rc=$?
	if [[ $rc -ne 0 ]]; then
		[[ -z "$out" ]] || printf '%s\n' "$out" | sed 's/^/    /' >&2
		die "'${shown[*]:0:4} ...' failed (exit $rc), see above. Steps before it are done; fix the cause and re-run (deploy and teardown are idempotent)"
	fi
	printf '%s' "$out"
}

# Ask before changing anything, unless --yes or --dry-run.
confirm() {
	local prompt=$1 reply
	if [[ "$PRINT_ONLY" == 1 || "$ASSUME_YES" == 1 ]]; then
		return 0
	fi
	if [[ ! -t 0 ]]; then
		die "$prompt: no terminal to ask on; re-run with --yes to proceed (or --dry-run to see the commands)"
	fi
	read -r -p "$prompt [y/N] " reply
	[[ "$reply" == [yY] || "$reply" == [yY][eE][sS] ]] || die "aborted by user; nothing was changed after this point"
}

# ---- oci wrapper -----------------------------------------------------------

# oci with the common options (region). Output stays JSON (the CLI default).
oci_cli() {
	local extra=()
	if [[ -n "$OCI_REGION" ]]; then
		extra+=(--region "$OCI_REGION")
	fi
	oci "$@" "${extra[@]}"
}

# Read-only oci call: prints its JSON on stdout; on failure, prints the CLI's
# error on stderr and returns non-zero (callers decide the message).
oci_read() {
	local out err rc=0
	err=$(mktemp)
	# stdin closed: the CLI must never stop to ask (e.g. "create a new config file? [Y/n]").
	out=$(oci_cli "$@" 2>"$err" </dev/null) || rc=$?
	if [[ $rc -ne 0 ]]; then
		{
			cat "$err"
			printf '%s\n' "$out"
		} | sed '/^$/d; s/^/    oci: /' >&2
		rm -f "$err"
		return "$rc"
	fi
	rm -f "$err"
	printf '%s' "$out"
}

# ---- JSON (python3) --------------------------------------------------------

# json_eval EXPR: evaluate a Python expression over the JSON on stdin.
# Names available: d (parsed document; {} when stdin is empty, which is what
# the oci CLI prints for an empty list), items (d["data"] as a list), E
# (os.environ), json, first(iterable), norm(str), marked(obj).
# Result: str printed as-is, None prints nothing, bool prints true/false,
# anything else as compact sorted JSON.
json_eval() {
	python3 -c '
import json, os, sys
raw = sys.stdin.read()
d = json.loads(raw) if raw.strip() else {}
data = d.get("data") if isinstance(d, dict) else None
if isinstance(data, dict) and isinstance(data.get("items"), list) and set(data) <= {"items"}:
    data = data["items"]  # a *Collection answer (e.g. ListSchedules)
items = data if isinstance(data, list) else ([data] if isinstance(data, dict) else [])
E = os.environ
def first(it):
    return next(iter(it), None)
def norm(s):
    return " ".join(str(s).split())
def marked(o):
    return (o.get("freeform-tags") or {}).get("managed-by") == "backup-tag-sync"
def live(o):
    return o.get("lifecycle-state") not in ("DELETED", "DELETING", "TERMINATED", "FAILED")
r = eval(sys.argv[1])
if r is None:
    pass
elif isinstance(r, bool):
    print("true" if r else "false")
elif isinstance(r, str):
    print(r)
else:
    print(json.dumps(r, sort_keys=True))
' "$1"
}

# json_field JSON KEY: top-level field of a single object (data.KEY).
json_field() {
	printf '%s' "$1" | K="$2" json_eval 'first(o.get(E["K"]) for o in items)'
}

# Find the live item of a list whose NAME_KEY equals NAME; prints it as JSON.
find_named() {
	local list_json=$1 name_key=$2 name=$3
	printf '%s' "$list_json" | NK="$name_key" NV="$name" json_eval \
		'first(o for o in items if o.get(E["NK"]) == E["NV"] and live(o))'
}

# lookup LIST_JSON NAME_KEY NAME: one python call; sets FOUND_ID, FOUND_MARKED
# (1 when it has the managed-by tag, else 0) and FOUND_JSON (the object) for
# the live item named NAME, or all three empty.
lookup() {
	local out
	out=$(printf '%s' "$1" | NK="$2" NV="$3" json_eval '(lambda o: "\n".join([o.get("id", ""), "1" if marked(o) else "0", json.dumps(o)]) if o else None)(first(o for o in items if o.get(E["NK"]) == E["NV"] and live(o)))')
	FOUND_ID="" FOUND_MARKED="" FOUND_JSON=""
	{ IFS= read -r FOUND_ID && IFS= read -r FOUND_MARKED && IFS= read -r FOUND_JSON; } <<<"$out" || true
}

# All live items named NAME (JSON list), for teardown.
find_all_named() {
	local list_json=$1 name_key=$2 name=$3
	printf '%s' "$list_json" | NK="$name_key" NV="$name" json_eval \
		'[o for o in items if o.get(E["NK"]) == E["NV"] and live(o)]'
}

is_marked() {
	[[ "$(printf '{"data": %s}' "$1" | json_eval 'marked(items[0]) if items else False')" == true ]]
}

# Merge the marker into an object's existing freeform tags (JSON).
tags_with_marker() {
	printf '{"data": %s}' "$1" | json_eval \
		'dict((items[0].get("freeform-tags") or {}) if items else {}, **{"managed-by": "backup-tag-sync"})'
}

# The id of a resource a create command printed, or PLACEHOLDER under --dry-run.
created_id() {
	if [[ "$PRINT_ONLY" == 1 ]]; then
		printf '%s' "$2"
	else
		json_field "$1" id
	fi
}

# ---- misc ------------------------------------------------------------------

# The tenancy OCID: --tenancy, else OCI_TENANCY/OCI_CLI_TENANCY, else the
# `tenancy=` line of the active profile in the oci config file.
resolve_tenancy() {
	local given=$1
	if [[ -n "$given" ]]; then
		printf '%s' "$given"
		return 0
	fi
	if [[ -n "${OCI_TENANCY:-}" ]]; then
		printf '%s' "$OCI_TENANCY"
		return 0
	fi
	if [[ -n "${OCI_CLI_TENANCY:-}" ]]; then
		printf '%s' "$OCI_CLI_TENANCY"
		return 0
	fi
	local cfg=${OCI_CLI_CONFIG_FILE:-$HOME/.oci/config}
	local profile=${OCI_CLI_PROFILE:-DEFAULT}
	[[ -r "$cfg" ]] || return 1
	CFG="$cfg" PROFILE="$profile" python3 -c '
import configparser, os, sys
p = configparser.ConfigParser(interpolation=None)
p.read(os.environ["CFG"])
sec = os.environ["PROFILE"]
try:
    t = p.get(sec, "tenancy") if sec != "DEFAULT" else p.defaults().get("tenancy")
except (configparser.NoSectionError, configparser.NoOptionError):
    t = None
if not t:
    sys.exit(1)
print(t.strip())
'
}

# The function name: the `name:` of func.yaml in the project root.
func_yaml_name() {
	local root=$1
	[[ -f "$root/func.yaml" ]] || return 1
	sed -n 's/^name:[[:space:]]*["'\'']\{0,1\}\([^"'\'' ]*\).*/\1/p' "$root/func.yaml" | head -n 1
}

# python3 and the OCI CLI on PATH, and the CLI able to call OCI: checked before any change.
# Sets OCI_REGIONS_JSON (the region list: keys and names).
require_oci_cli() {
	command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH: install Python 3 (the scripts parse JSON with it)"
	command -v oci >/dev/null 2>&1 ||
		die "the OCI CLI ('oci') is not on PATH. Fix: pip install oci-cli (or see https://docs.oracle.com/iaas/Content/API/SDKDocs/cliinstall.htm), then 'oci setup config'"
	# With API-key auth (the default) the CLI offers to create a missing config file and waits
	# for an answer: look for the file first, so that its prompt never shows.
	local cfg=${OCI_CLI_CONFIG_FILE:-$HOME/.oci/config}
	case "${OCI_CLI_AUTH:-api_key}" in
	api_key | security_token)
		[[ -r "$cfg" ]] ||
			die "no OCI CLI config file at $cfg. Fix: run 'oci setup config' (API key) or 'oci session authenticate' and export OCI_CLI_AUTH=security_token, then retry"
		;;
	esac
	OCI_REGIONS_JSON=$(oci_read iam region list) ||
		die "the OCI CLI cannot call OCI (not logged in or no valid config). Fix: run 'oci setup config' (API key) or 'oci session authenticate' and export OCI_CLI_AUTH=security_token, then retry"
}
