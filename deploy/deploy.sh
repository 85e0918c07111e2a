#!/usr/bin/env bash
# Deploy backup-tag-sync to OCI Functions: application, function, config,
# dynamic group, IAM policy and Events rule. Idempotent; see --help.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PROG=deploy.sh
# shellcheck source=lib.sh
. "$HERE/lib.sh"

EVENT_TYPE="com.oraclecloud.blockvolumes.createvolumegroupbackup.end"

usage() {
	cat <<'EOF'
Usage: deploy/deploy.sh --compartment OCID --subnet OCID [options]

Takes a tenancy to a running backup-tag-sync function. Safe to re-run: a
second run creates nothing and updates only what drifted.

Required:
  --compartment OCID          compartment for the application and function
  --subnet OCID               subnet the application's functions run in

Options:
  --app NAME                  Functions application name (default: backup-tag-sync)
  --tag-namespace NS          defined-tag namespace the function may apply
                              (repeatable; grants `use tag-namespaces` for it)
  --tag-namespace-compartment OCID
                              compartment holding the tag namespaces
                              (default: the tenancy, i.e. the root compartment)
  --target-compartment OCID   compartment whose volume group backups the
                              function may update and whose backup events
                              trigger it (repeatable; default: --compartment)
  --policy-uri URI            TAG_POLICY_URI for the function (file://,
                              oci://bucket@namespace/object, s3://bucket/key)
  --policy-file FILE          put FILE inline in TAG_POLICY instead
                              (default for both: the tag_policy.yaml in the image)
  --log-level LEVEL           LOG_LEVEL: debug|info|warning|error (default: info,
                              or the value already set)
  --dry-run-writes            set DRY_RUN=true on the function (it computes and
                              logs, never writes); without it DRY_RUN=false
  --name-prefix PREFIX        names the dynamic group PREFIX-dg, the policy
                              PREFIX-policy and the rule PREFIX-rule
                              (default: the --app name)
  --tenancy OCID              tenancy OCID (default: OCI_TENANCY, or tenancy=
                              in the profile of ~/.oci/config)
  --rule-compartment OCID     compartment of the Events rule (default:
                              --compartment when the only target is
                              --compartment, else the tenancy; a rule sees
                              events of its compartment and all below it)
  --region REGION             passed to every oci command (fn uses its context)
  --skip-build                do not run `fn deploy` when the function already
                              exists (config, IAM and rule are still reconciled)
  --no-bump                   pass --no-bump to `fn deploy` (keep func.yaml's version)
  --dry-run                   print every command that would change something,
                              change nothing (read-only look-ups still run)
  --yes                       do not ask for confirmation
  -h, --help                  this help

Prints what it created, updated or kept, and the function OCID on stdout.
EOF
}

APP=backup-tag-sync
COMPARTMENT=""
SUBNET=""
TAG_NAMESPACES=()
TAG_NS_COMPARTMENT=""
TARGETS=()
POLICY_URI=""
POLICY_FILE=""
LOG_LEVEL=""
DRY_RUN_WRITES=0
NAME_PREFIX=""
TENANCY_ARG=""
RULE_COMPARTMENT=""
SKIP_BUILD=0
NO_BUMP=0

while [[ $# -gt 0 ]]; do
	case "$1" in
	--compartment) require_value "$1" "${2:-}" && COMPARTMENT=$2 && shift 2 ;;
	--subnet) require_value "$1" "${2:-}" && SUBNET=$2 && shift 2 ;;
	--app) require_value "$1" "${2:-}" && APP=$2 && shift 2 ;;
	--tag-namespace) require_value "$1" "${2:-}" && TAG_NAMESPACES+=("$2") && shift 2 ;;
	--tag-namespace-compartment) require_value "$1" "${2:-}" && TAG_NS_COMPARTMENT=$2 && shift 2 ;;
	--target-compartment) require_value "$1" "${2:-}" && TARGETS+=("$2") && shift 2 ;;
	--policy-uri) require_value "$1" "${2:-}" && POLICY_URI=$2 && shift 2 ;;
	--policy-file) require_value "$1" "${2:-}" && POLICY_FILE=$2 && shift 2 ;;
	--log-level) require_value "$1" "${2:-}" && LOG_LEVEL=$2 && shift 2 ;;
	--dry-run-writes) DRY_RUN_WRITES=1 && shift ;;
	--name-prefix) require_value "$1" "${2:-}" && NAME_PREFIX=$2 && shift 2 ;;
	--tenancy) require_value "$1" "${2:-}" && TENANCY_ARG=$2 && shift 2 ;;
	--rule-compartment) require_value "$1" "${2:-}" && RULE_COMPARTMENT=$2 && shift 2 ;;
	--region) require_value "$1" "${2:-}" && OCI_REGION=$2 && shift 2 ;;
	--skip-build) SKIP_BUILD=1 && shift ;;
	--no-bump) NO_BUMP=1 && shift ;;
	--dry-run) PRINT_ONLY=1 && shift ;;
	--yes | -y) ASSUME_YES=1 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

# ---- validate options (no CLI call yet) -------------------------------------

[[ -n "$COMPARTMENT" ]] || die "--compartment OCID is required (the compartment for the application; see --help)"
[[ -n "$SUBNET" ]] || die "--subnet OCID is required (a subnet for the application's functions; see --help)"
check_ocid --compartment "$COMPARTMENT" "compartment"
check_ocid --subnet "$SUBNET" "subnet"
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("$COMPARTMENT")
for t in "${TARGETS[@]}"; do check_ocid --target-compartment "$t" "compartment"; done
if [[ -n "$POLICY_URI" && -n "$POLICY_FILE" ]]; then
	die "give either --policy-uri or --policy-file, not both"
fi
if [[ -n "$POLICY_URI" ]]; then
	case "$POLICY_URI" in
	file://* | oci://* | s3://*) ;;
	*) die "--policy-uri must start with file://, oci:// or s3:// (got '$POLICY_URI')" ;;
	esac
fi
if [[ -n "$POLICY_FILE" ]]; then
	[[ -r "$POLICY_FILE" ]] || die "--policy-file '$POLICY_FILE' is not a readable file"
fi
if [[ -n "$LOG_LEVEL" ]]; then
	case "$LOG_LEVEL" in
	debug | info | warning | error) ;;
	*) die "--log-level must be one of debug, info, warning, error (got '$LOG_LEVEL')" ;;
	esac
fi
for ns in "${TAG_NAMESPACES[@]+"${TAG_NAMESPACES[@]}"}"; do
	[[ "$ns" =~ ^[A-Za-z0-9_-]+$ ]] || die "--tag-namespace '$ns' is not a valid tag namespace name"
done
resource_names "$ROOT"

# ---- prerequisites: read-only, all before the first change ------------------

step "Checking prerequisites"
require_oci_cli
command -v fn >/dev/null 2>&1 ||
	die "the Fn CLI ('fn') is not on PATH. Fix: install it (https://github.com/fnproject/cli#install; e.g. 'curl -LSs https://raw.githubusercontent.com/fnproject/cli/master/install | sh') and create an OCI context ('fn create context ... --provider oracle')"
info "oci: $(command -v oci); fn: $(command -v fn)"
info "OCI CLI authenticated"

TENANCY=$(resolve_tenancy "$TENANCY_ARG" || true)
[[ -n "$TENANCY" ]] ||
	die "cannot tell the tenancy OCID: pass --tenancy OCID, or set OCI_TENANCY, or keep 'tenancy=' in your ~/.oci/config profile"
check_ocid --tenancy "$TENANCY" "tenancy"
TAG_NS_COMPARTMENT=${TAG_NS_COMPARTMENT:-$TENANCY}
if [[ -z "$RULE_COMPARTMENT" ]]; then
	if [[ ${#TARGETS[@]} -eq 1 && "${TARGETS[0]}" == "$COMPARTMENT" ]]; then
		RULE_COMPARTMENT=$COMPARTMENT
	else
		RULE_COMPARTMENT=$TENANCY
	fi
fi

check_compartment() {
	# check_compartment OCID WHAT
	local out name
	out=$(oci_read iam compartment get --compartment-id "$1") ||
		die "$2 $1 was not found or you cannot see it. Fix: check the OCID ('oci iam compartment list --compartment-id-in-subtree true --all') and that your user may read it"
	name=$(json_field "$out" name)
	info "$2 found: ${name:-?} ($1)"
}
check_compartment "$COMPARTMENT" "compartment (--compartment)"
for t in "${TARGETS[@]}"; do
	[[ "$t" == "$COMPARTMENT" ]] || check_compartment "$t" "target compartment (--target-compartment)"
done
if [[ "$TAG_NS_COMPARTMENT" != "$TENANCY" && ${#TAG_NAMESPACES[@]} -gt 0 ]]; then
	check_compartment "$TAG_NS_COMPARTMENT" "tag namespace compartment (--tag-namespace-compartment)"
fi
if [[ "$RULE_COMPARTMENT" != "$TENANCY" && "$RULE_COMPARTMENT" != "$COMPARTMENT" ]]; then
	check_compartment "$RULE_COMPARTMENT" "rule compartment (--rule-compartment)"
fi

SUBNET_JSON=$(oci_read network subnet get --subnet-id "$SUBNET") ||
	die "subnet $SUBNET was not found. Fix: pass the OCID of an existing subnet ('oci network subnet list --compartment-id $COMPARTMENT'), or create a VCN with a private subnet and a service gateway first"
info "subnet found: $(json_field "$SUBNET_JSON" display-name) ($SUBNET)"

if [[ ${#TAG_NAMESPACES[@]} -gt 0 ]]; then
	NS_JSON=$(oci_read iam tag-namespace list --compartment-id "$TAG_NS_COMPARTMENT" --all) ||
		die "cannot list tag namespaces in $TAG_NS_COMPARTMENT. Fix: check --tag-namespace-compartment and your permissions"
	for ns in "${TAG_NAMESPACES[@]}"; do
		if [[ -z "$(find_named "$NS_JSON" name "$ns")" ]]; then
			warn "tag namespace '$ns' not found in $TAG_NS_COMPARTMENT: the policy will name it anyway; create it or pass --tag-namespace-compartment"
		fi
	done
fi

BUCKET=""
BUCKET_COMPARTMENT=""
if [[ "$POLICY_URI" == oci://* ]]; then
	rest=${POLICY_URI#oci://}
	BUCKET=${rest%%@*}
	os_ns=${rest#*@}
	os_ns=${os_ns%%/*}
	[[ -n "$BUCKET" && -n "$os_ns" && "$rest" == *@*/* ]] ||
		die "--policy-uri '$POLICY_URI' is not oci://bucket@namespace/object"
	B_JSON=$(oci_read os bucket get --namespace-name "$os_ns" --bucket-name "$BUCKET") ||
		die "bucket '$BUCKET' in namespace '$os_ns' not found. Fix: create it and upload the policy ('oci os object put --bucket-name $BUCKET --file tag_policy.yaml'), or fix --policy-uri"
	BUCKET_COMPARTMENT=$(json_field "$B_JSON" compartment-id)
	info "policy bucket found: $BUCKET (compartment $BUCKET_COMPARTMENT)"
fi
if [[ "$POLICY_URI" == s3://* ]]; then
	warn "s3:// policy: the function needs S3 credentials and S3_ENDPOINT_URL in its config; this script does not set them"
fi

BUILD=1
if [[ "$SKIP_BUILD" == 1 ]]; then
	BUILD=0
fi
check_build_prereqs() {
	[[ -f "$ROOT/func.yaml" ]] || die "func.yaml not found in $ROOT: run from a checkout of backup-tag-sync"
	command -v docker >/dev/null 2>&1 || command -v podman >/dev/null 2>&1 ||
		die "'fn deploy' builds a container image but neither docker nor podman is on PATH. Fix: install Docker and 'docker login <region-key>.ocir.io', or re-run with --skip-build if the function is already deployed"
	local ctx registry provider fn_comp
	ctx=$(fn inspect context 2>/dev/null) ||
		die "'fn inspect context' failed: no Fn context. Fix: 'fn create context <name> --provider oracle' and 'fn use context <name>'"
	provider=$(sed -n 's/^provider:[[:space:]]*//p' <<<"$ctx" | head -n 1)
	registry=$(sed -n 's/^registry:[[:space:]]*//p' <<<"$ctx" | head -n 1)
	fn_comp=$(sed -n 's/^oracle\.compartment-id:[[:space:]]*//p' <<<"$ctx" | head -n 1)
	[[ "$provider" == oracle* ]] ||
		die "the current Fn context's provider is '${provider:-unset}', not oracle. Fix: 'fn use context <an OCI context>' or 'fn update context provider oracle'"
	[[ -n "$registry" ]] ||
		die "the current Fn context has no registry. Fix: 'fn update context registry <region-key>.ocir.io/<object-storage-namespace>/<repo>'"
	[[ "$fn_comp" == "$COMPARTMENT" ]] ||
		die "the Fn context's oracle.compartment-id is '${fn_comp:-unset}', not $COMPARTMENT, so 'fn deploy' would not find the application. Fix: 'fn update context oracle.compartment-id $COMPARTMENT'"
	info "fn context: provider $provider, registry $registry"
}

# ---- the desired state ----------------------------------------------------------

# Location phrase for a compartment in a policy statement. The tenancy (root
# compartment) must be written `in tenancy`.
where_in() {
	if [[ "$1" == "$TENANCY" ]]; then printf 'tenancy'; else printf 'compartment id %s' "$1"; fi
}

desired_statements() {
	local g="dynamic-group $DG_NAME" t ns
	local lines=()
	for t in "${TARGETS[@]}"; do
		lines+=("Allow $g to inspect volume-group-backups in $(where_in "$t")")
		lines+=("Allow $g to manage volume-group-backups in $(where_in "$t") where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'")
		lines+=("Allow $g to inspect volume-groups in $(where_in "$t")")
	done
	for ns in "${TAG_NAMESPACES[@]+"${TAG_NAMESPACES[@]}"}"; do
		lines+=("Allow $g to use tag-namespaces in $(where_in "$TAG_NS_COMPARTMENT") where target.tag-namespace.name = '$ns'")
	done
	if [[ -n "$BUCKET" ]]; then
		lines+=("Allow $g to read objects in $(where_in "$BUCKET_COMPARTMENT") where target.bucket.name = '$BUCKET'")
	fi
	# Functions has no resource variables for a function id: this is scoped to
	# the compartment holding the function.
	lines+=("Allow service cloudEvents to use functions-family in $(where_in "$COMPARTMENT")")
	printf '%s\n' "${lines[@]}" | python3 -c 'import json,sys; print(json.dumps([l for l in sys.stdin.read().splitlines() if l]))'
}

desired_condition() {
	printf '%s\n' "${TARGETS[@]}" | ET="$EVENT_TYPE" python3 -c '
import json, os, sys
ids = [l for l in sys.stdin.read().splitlines() if l]
print(json.dumps({"eventType": [os.environ["ET"]], "data": {"compartmentId": ids}}))'
}

desired_actions() {
	FID="$1" python3 -c '
import json, os
print(json.dumps({"actions": [{"actionType": "FAAS", "isEnabled": True,
    "functionId": os.environ["FID"], "description": "backup-tag-sync"}]}))'
}

# ---- summary -------------------------------------------------------------------

SUMMARY=()
record() {
	# record KIND NAME ACTION ID
	SUMMARY+=("$(printf '%-14s %-28s %-9s %s' "$1" "$2" "$3" "$4")")
}

if [[ "$BUILD" == 0 ]]; then
	# --skip-build only helps when the function exists; otherwise it must be
	# built, so check the build prerequisites now, before any change.
	pre=$(oci_read fn application list --compartment-id "$COMPARTMENT" --display-name "$APP" --all) ||
		die "cannot list applications in $COMPARTMENT"
	lookup "$pre" display-name "$APP"
	if [[ -n "$FOUND_ID" ]]; then
		pre=$(oci_read fn function list --application-id "$FOUND_ID" --display-name "$FUNC_NAME" --all) ||
			die "cannot list functions of $FOUND_ID"
		lookup "$pre" display-name "$FUNC_NAME"
	fi
	if [[ -z "$FOUND_ID" ]]; then
		info "--skip-build given but function '$FUNC_NAME' does not exist yet: it will be built"
		BUILD=1
	fi
fi
if [[ "$BUILD" == 1 ]]; then
	check_build_prereqs
fi

STATEMENTS=$(desired_statements)
CONDITION=$(desired_condition)

log ""
info "plan: application '$APP' and function '$FUNC_NAME' in $COMPARTMENT"
info "      dynamic group '$DG_NAME' and policy '$POLICY_NAME' in the tenancy, rule '$RULE_NAME' in $RULE_COMPARTMENT"
info "      targets: ${TARGETS[*]}"
confirm "Create or update these resources?"

# ---- 1. application ------------------------------------------------------------

step "Functions application '$APP'"
APPS=$(oci_read fn application list --compartment-id "$COMPARTMENT" --display-name "$APP" --all) ||
	die "cannot list applications in $COMPARTMENT"
lookup "$APPS" display-name "$APP"
APP_JSON=$FOUND_JSON
APP_MARKED=0
if [[ -n "$APP_JSON" ]]; then
	APP_ID=$FOUND_ID
	APP_MARKED=$FOUND_MARKED
	if [[ "$(printf '{"data": %s}' "$APP_JSON" | S="$SUBNET" json_eval 'E["S"] in (items[0].get("subnet-ids") or [])')" != true ]]; then
		warn "application '$APP' exists with other subnets ($(printf '{"data": %s}' "$APP_JSON" | json_eval 'items[0].get("subnet-ids")')); an application's subnets cannot be changed: kept as is"
	fi
	if [[ "$APP_MARKED" == 0 ]]; then
		info "application exists without the managed-by tag: reused, and teardown will leave it alone"
	fi
	info "kept $APP_ID"
	record application "$APP" kept "$APP_ID"
else
	OUT=$(mutate oci_cli fn application create --compartment-id "$COMPARTMENT" --display-name "$APP" \
		--subnet-ids "[\"$SUBNET\"]" --freeform-tags "$MARKER_TAGS")
	APP_MARKED=1
	if [[ "$PRINT_ONLY" == 1 ]]; then
		APP_ID="<application-ocid>"
	else
		APP_ID=$(json_field "$OUT" id)
		[[ -n "$APP_ID" ]] || die "application create returned no id"
		# Wait (bounded) until ACTIVE before fn deploy uses it.
		for _ in $(seq 1 30); do
			state=$(json_field "$(oci_read fn application get --application-id "$APP_ID")" lifecycle-state)
			[[ "$state" == ACTIVE ]] && break
			sleep 2
		done
	fi
	info "created $APP_ID"
	record application "$APP" created "$APP_ID"
fi

# ---- 2. function -----------------------------------------------------------------

step "Function '$FUNC_NAME'"
find_function() {
	local fl
	if [[ "$APP_ID" == "<"* ]]; then return 0; fi
	fl=$(oci_read fn function list --application-id "$APP_ID" --display-name "$FUNC_NAME" --all) ||
		die "cannot list functions of application $APP_ID"
	lookup "$fl" display-name "$FUNC_NAME"
	printf '%s' "$FOUND_JSON"
}
FN_JSON=$(find_function)
FN_EXISTED=0
[[ -n "$FN_JSON" ]] && FN_EXISTED=1
if [[ "$BUILD" == 1 ]]; then
	deploy_cmd=(fn deploy --app "$APP")
	[[ "$NO_BUMP" == 1 ]] && deploy_cmd+=(--no-bump)
	info "building and pushing the image from $ROOT"
	(cd "$ROOT" && mutate "${deploy_cmd[@]}") >&2 || die "'fn deploy' failed (see its output above)"
	if [[ "$PRINT_ONLY" == 0 ]]; then
		FN_JSON=$(find_function)
		[[ -n "$FN_JSON" ]] || die "'fn deploy' finished but function '$FUNC_NAME' is not in application '$APP'"
	fi
fi
if [[ -n "$FN_JSON" ]]; then
	FN_ID=$(json_field "{\"data\": $FN_JSON}" id)
	[[ "$BUILD" == 1 ]] || info "kept $FN_ID (--skip-build: image not rebuilt)"
else
	FN_ID="<function-ocid>"
fi
if [[ "$FN_EXISTED" == 1 && "$BUILD" == 1 ]]; then
	record function "$FUNC_NAME" deployed "$FN_ID"
elif [[ "$FN_EXISTED" == 1 ]]; then
	record function "$FUNC_NAME" kept "$FN_ID"
else
	record function "$FUNC_NAME" created "$FN_ID"
fi

# ---- 3. function config (and marker tag) -------------------------------------------

step "Function config"
FN_FULL='{}'
if [[ "$FN_ID" != "<"* ]]; then
	FN_FULL=$(oci_read fn function get --function-id "$FN_ID") || die "cannot read function $FN_ID"
fi
POLICY_INLINE=""
[[ -z "$POLICY_FILE" ]] || POLICY_INLINE=$(cat "$POLICY_FILE")
OWN_FN=0
# Tag the function when this deployment owns it (its application carries the
# marker, or it was created by this run).
[[ "$APP_MARKED" == 1 || "$FN_EXISTED" == 0 ]] && OWN_FN=1
# One python call: prints 5 lines: desired config, current config, current
# tags, desired tags (all compact sorted JSON) and the config for display.
# Keys this script does not own (e.g. S3_ENDPOINT_URL) are kept.
{
	IFS= read -r NEW_CONFIG && IFS= read -r CUR_CONFIG && IFS= read -r CUR_FN_TAGS &&
		IFS= read -r NEW_FN_TAGS && IFS= read -r shown_config
} < <(printf '%s' "$FN_FULL" | POLICY_URI="$POLICY_URI" POLICY_INLINE="$POLICY_INLINE" \
	LOG_LEVEL="$LOG_LEVEL" DRY_RUN_WRITES="$DRY_RUN_WRITES" OWN_FN="$OWN_FN" python3 -c '
import json, os, sys
raw = sys.stdin.read()
d = json.loads(raw) if raw.strip() else {}
fn = d.get("data") or {}
cur = dict(fn.get("config") or {})
new = dict(cur)
if os.environ["POLICY_URI"]:
    new.pop("TAG_POLICY", None)
    new["TAG_POLICY_URI"] = os.environ["POLICY_URI"]
elif os.environ["POLICY_INLINE"]:
    new.pop("TAG_POLICY_URI", None)
    new["TAG_POLICY"] = os.environ["POLICY_INLINE"]
new["LOG_LEVEL"] = os.environ["LOG_LEVEL"] or cur.get("LOG_LEVEL") or "info"
new["DRY_RUN"] = "true" if os.environ["DRY_RUN_WRITES"] == "1" else "false"
tags = dict(fn.get("freeform-tags") or {})
new_tags = dict(tags, **{"managed-by": "backup-tag-sync"}) if os.environ["OWN_FN"] == "1" else tags
shown = {k: (v if k != "TAG_POLICY" else "<%d chars>" % len(v)) for k, v in new.items()}
for x in (new, cur, tags, new_tags, shown):
    print(json.dumps(x, sort_keys=True))')
if [[ "$NEW_CONFIG" == "$CUR_CONFIG" && "$NEW_FN_TAGS" == "$CUR_FN_TAGS" ]]; then
	info "config unchanged: $shown_config"
	record config "$FUNC_NAME" kept "$shown_config"
else
	# `oci fn function update` became a command group (container-function,
	# ...) in newer CLIs; older ones take the options directly.
	upd=(fn function update)
	# Help goes to stdout (exit 0) with older click, to stderr (exit 2) with click 8.3+.
	fn_update_help=$(oci fn function update --help 2>&1 || true)
	if [[ "$fn_update_help" == *container-function* ]]; then
		upd+=(container-function)
	fi
	mutate oci_cli "${upd[@]}" --function-id "$FN_ID" --config "$NEW_CONFIG" \
		--freeform-tags "$NEW_FN_TAGS" --force >/dev/null
	info "config set: $shown_config"
	record config "$FUNC_NAME" updated "$shown_config"
fi

# ---- 4. dynamic group --------------------------------------------------------------

step "Dynamic group '$DG_NAME'"
MATCHING_RULE="ALL {resource.type = 'fnfunc', resource.id = '$FN_ID'}"
DGS=$(oci_read iam dynamic-group list --compartment-id "$TENANCY" --name "$DG_NAME" --all) ||
	die "cannot list dynamic groups in the tenancy (you need to be allowed to manage dynamic-groups)"
lookup "$DGS" name "$DG_NAME"
DG_JSON=$FOUND_JSON
if [[ -n "$DG_JSON" ]]; then
	[[ "$FOUND_MARKED" == 1 ]] ||
		die "a dynamic group named '$DG_NAME' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
	DG_ID=$FOUND_ID
	cur_rule=$(printf '{"data": %s}' "$DG_JSON" | json_eval 'items[0].get("matching-rule", "")')
	if [[ "$(printf '%s' "$cur_rule" | tr -s ' ')" == "$(printf '%s' "$MATCHING_RULE" | tr -s ' ')" ]]; then
		info "kept $DG_ID"
		record dynamic-group "$DG_NAME" kept "$DG_ID"
	else
		info "matching rule drifted: '$cur_rule'"
		mutate oci_cli iam dynamic-group update --dynamic-group-id "$DG_ID" --matching-rule "$MATCHING_RULE" --force >/dev/null
		record dynamic-group "$DG_NAME" updated "$DG_ID"
	fi
else
	OUT=$(mutate oci_cli iam dynamic-group create --compartment-id "$TENANCY" --name "$DG_NAME" \
		--description "backup-tag-sync function $FUNC_NAME in application $APP" \
		--matching-rule "$MATCHING_RULE" --freeform-tags "$MARKER_TAGS" --wait-for-state ACTIVE)
	DG_ID=$(created_id "$OUT" "<dynamic-group-ocid>")
	record dynamic-group "$DG_NAME" created "$DG_ID"
fi

# ---- 5. IAM policy -----------------------------------------------------------------

step "IAM policy '$POLICY_NAME'"
printf '%s' "$STATEMENTS" | json_eval '"\n".join("    " + s for s in d)' >&2
POLICIES=$(oci_read iam policy list --compartment-id "$TENANCY" --name "$POLICY_NAME" --all) ||
	die "cannot list policies in the tenancy"
lookup "$POLICIES" name "$POLICY_NAME"
POL_JSON=$FOUND_JSON
if [[ -n "$POL_JSON" ]]; then
	[[ "$FOUND_MARKED" == 1 ]] ||
		die "a policy named '$POLICY_NAME' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
	POL_ID=$FOUND_ID
	# Compare ignoring whitespace runs and order (OCI keeps statements as sent).
	same=$(printf '{"data": %s}' "$POL_JSON" | S="$STATEMENTS" json_eval \
		'sorted(norm(s) for s in items[0].get("statements") or []) == sorted(norm(s) for s in json.loads(E["S"]))')
	if [[ "$same" == true ]]; then
		info "kept $POL_ID"
		record policy "$POLICY_NAME" kept "$POL_ID"
	else
		info "statements drifted"
		# The CLI refuses --statements without --version-date; "" keeps the policy evaluated
		# by the services' current behaviour (what a policy created without one gets).
		mutate oci_cli iam policy update --policy-id "$POL_ID" --statements "$STATEMENTS" --version-date "" --force >/dev/null
		record policy "$POLICY_NAME" updated "$POL_ID"
	fi
else
	OUT=$(mutate oci_cli iam policy create --compartment-id "$TENANCY" --name "$POLICY_NAME" \
		--description "backup-tag-sync: least privilege for $DG_NAME and Events" \
		--statements "$STATEMENTS" --freeform-tags "$MARKER_TAGS" --wait-for-state ACTIVE)
	POL_ID=$(created_id "$OUT" "<policy-ocid>")
	record policy "$POLICY_NAME" created "$POL_ID"
fi

# ---- 6. Events rule ----------------------------------------------------------------

step "Events rule '$RULE_NAME'"
ACTIONS=$(desired_actions "$FN_ID")
info "condition: $CONDITION"
RULES=$(oci_read events rule list --compartment-id "$RULE_COMPARTMENT" --display-name "$RULE_NAME" --all) ||
	die "cannot list Events rules in $RULE_COMPARTMENT"
lookup "$RULES" display-name "$RULE_NAME"
if [[ -n "$FOUND_JSON" ]]; then
	[[ "$FOUND_MARKED" == 1 ]] ||
		die "an Events rule named '$RULE_NAME' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
	RULE_ID=$FOUND_ID
	RULE_JSON=$(oci_read events rule get --rule-id "$RULE_ID") || die "cannot read rule $RULE_ID"
	# Conditions are compared as JSON values (OCI may re-space them); the
	# actions must be exactly one enabled FAAS action to this function.
	read -r cond_same act_same enabled < <(printf '%s' "$RULE_JSON" | C="$CONDITION" F="$FN_ID" json_eval \
		'" ".join("true" if x else "false" for x in (
			json.loads(items[0].get("condition") or "{}") == json.loads(E["C"]),
			[(a.get("action-type"), a.get("function-id"), a.get("is-enabled")) for a in (items[0].get("actions") or {}).get("actions") or []] == [("FAAS", E["F"], True)],
			bool(items[0].get("is-enabled"))))')
	upd=()
	if [[ "$cond_same" != true ]]; then
		info "condition drifted: $(json_field "$RULE_JSON" condition)"
		upd+=(--condition "$CONDITION")
	fi
	[[ "$act_same" == true ]] || upd+=(--actions "$ACTIONS")
	[[ "$enabled" == true ]] || upd+=(--is-enabled true)
	if [[ ${#upd[@]} -eq 0 ]]; then
		info "kept $RULE_ID"
		record events-rule "$RULE_NAME" kept "$RULE_ID"
	else
		mutate oci_cli events rule update --rule-id "$RULE_ID" "${upd[@]}" --force >/dev/null
		record events-rule "$RULE_NAME" updated "$RULE_ID"
	fi
else
	OUT=$(mutate oci_cli events rule create --compartment-id "$RULE_COMPARTMENT" --display-name "$RULE_NAME" \
		--description "Runs backup-tag-sync when a volume group backup has been created" \
		--is-enabled true --condition "$CONDITION" --actions "$ACTIONS" \
		--freeform-tags "$MARKER_TAGS" --wait-for-state ACTIVE)
	RULE_ID=$(created_id "$OUT" "<rule-ocid>")
	record events-rule "$RULE_NAME" created "$RULE_ID"
fi

# ---- summary -----------------------------------------------------------------------

log ""
if [[ "$PRINT_ONLY" == 1 ]]; then
	log "Summary (dry run: nothing was changed; 'created'/'updated' = would be):"
else
	log "Summary:"
fi
for line in "${SUMMARY[@]}"; do log "  $line"; done
log ""
log "function OCID: $FN_ID"
log "try it: deploy/invoke.sh --app $APP --body-file request.json"
printf '%s\n' "$FN_ID"
