#!/usr/bin/env bash
# Remove what deploy/deploy.sh created: only resources with the right name AND
# the freeform tag managed-by=backup-tag-sync. See --help.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PROG=teardown.sh
# shellcheck source=lib.sh
. "$HERE/lib.sh"

usage() {
	cat <<'EOF'
Usage: deploy/teardown.sh --compartment OCID [options]

Deletes the Events rule, IAM policy, dynamic group, function and application
that deploy/deploy.sh created. A resource is deleted only when its name
matches AND it carries the freeform tag managed-by=backup-tag-sync; anything
else with the same name is reported and left alone. The application is
deleted only when no other function remains in it.

Required:
  --compartment OCID      the --compartment given to deploy.sh

Options (give the same values as to deploy.sh):
  --app NAME              application name (default: backup-tag-sync)
  --name-prefix PREFIX    prefix of PREFIX-dg, PREFIX-policy, PREFIX-rule
                          (default: the --app name)
  --tenancy OCID          tenancy OCID (default: OCI_TENANCY, or tenancy= in
                          the profile of ~/.oci/config)
  --rule-compartment OCID where the Events rule is (default: looks in
                          --compartment and in the tenancy)
  --region REGION         passed to every oci command
  --dry-run               print the delete commands, delete nothing
  --yes                   do not ask for confirmation
  -h, --help              this help
EOF
}

APP=backup-tag-sync
COMPARTMENT=""
NAME_PREFIX=""
TENANCY_ARG=""
RULE_COMPARTMENT=""

while [[ $# -gt 0 ]]; do
	case "$1" in
	--compartment) require_value "$1" "${2:-}" && COMPARTMENT=$2 && shift 2 ;;
	--app) require_value "$1" "${2:-}" && APP=$2 && shift 2 ;;
	--name-prefix) require_value "$1" "${2:-}" && NAME_PREFIX=$2 && shift 2 ;;
	--tenancy) require_value "$1" "${2:-}" && TENANCY_ARG=$2 && shift 2 ;;
	--rule-compartment) require_value "$1" "${2:-}" && RULE_COMPARTMENT=$2 && shift 2 ;;
	--region) require_value "$1" "${2:-}" && OCI_REGION=$2 && shift 2 ;;
	--dry-run) PRINT_ONLY=1 && shift ;;
	--yes | -y) ASSUME_YES=1 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

[[ -n "$COMPARTMENT" ]] || die "--compartment OCID is required (the one given to deploy.sh; see --help)"
check_ocid --compartment "$COMPARTMENT" "compartment"
resource_names "$ROOT"

step "Checking prerequisites"
require_oci_cli
TENANCY=$(resolve_tenancy "$TENANCY_ARG" || true)
[[ -n "$TENANCY" ]] || die "cannot tell the tenancy OCID: pass --tenancy OCID or set OCI_TENANCY"
oci_read iam compartment get --compartment-id "$COMPARTMENT" >/dev/null ||
	die "compartment $COMPARTMENT was not found. Fix: check the OCID"

# ---- find what is ours -------------------------------------------------------------

DELETE_CMDS=()  # one entry per resource: "KIND|NAME|ID|id-option"
SKIPPED=()

consider() {
	# consider KIND NAME LIST_JSON NAME_KEY ID_OPTION
	local kind=$1 name=$2 list=$3 key=$4 idopt=$5 all n i obj id
	all=$(find_all_named "$list" "$key" "$name")
	n=$(printf '{"data": %s}' "$all" | json_eval 'len(items)')
	for ((i = 0; i < n; i++)); do
		obj=$(printf '{"data": %s}' "$all" | I=$i json_eval 'items[int(E["I"])]')
		id=$(json_field "{\"data\": $obj}" id)
		if is_marked "$obj"; then
			DELETE_CMDS+=("$kind|$name|$id|$idopt")
		else
			SKIPPED+=("$kind $name $id: no managed-by=backup-tag-sync tag, left alone")
		fi
	done
}

rule_places=("$COMPARTMENT")
[[ "$COMPARTMENT" == "$TENANCY" ]] || rule_places+=("$TENANCY")
[[ -z "$RULE_COMPARTMENT" ]] || rule_places=("$RULE_COMPARTMENT")
for place in "${rule_places[@]}"; do
	RULES=$(oci_read events rule list --compartment-id "$place" --display-name "$RULE_NAME" --all) ||
		die "cannot list Events rules in $place"
	consider events-rule "$RULE_NAME" "$RULES" display-name --rule-id
done
POLICIES=$(oci_read iam policy list --compartment-id "$TENANCY" --name "$POLICY_NAME" --all) ||
	die "cannot list policies in the tenancy"
consider policy "$POLICY_NAME" "$POLICIES" name --policy-id
DGS=$(oci_read iam dynamic-group list --compartment-id "$TENANCY" --name "$DG_NAME" --all) ||
	die "cannot list dynamic groups in the tenancy"
consider dynamic-group "$DG_NAME" "$DGS" name --dynamic-group-id

APPS=$(oci_read fn application list --compartment-id "$COMPARTMENT" --display-name "$APP" --all) ||
	die "cannot list applications in $COMPARTMENT"
APP_JSON=$(find_named "$APPS" display-name "$APP")
APP_ID=""
if [[ -n "$APP_JSON" ]]; then
	APP_ID=$(json_field "{\"data\": $APP_JSON}" id)
	FUNCS=$(oci_read fn function list --application-id "$APP_ID" --all) ||
		die "cannot list functions of $APP_ID"
	consider function "$FUNC_NAME" "$FUNCS" display-name --function-id
	# Functions that would remain in the application after ours is deleted.
	others=$(printf '%s' "$FUNCS" | F="$FUNC_NAME" json_eval \
		'[o.get("display-name") for o in items if live(o) and not (o.get("display-name") == E["F"] and marked(o))]')
	if ! is_marked "$APP_JSON"; then
		SKIPPED+=("application $APP $APP_ID: no managed-by=backup-tag-sync tag, left alone")
	elif [[ "$others" != "[]" ]]; then
		SKIPPED+=("application $APP $APP_ID: still holds other functions $others, left alone")
	else
		DELETE_CMDS+=("application|$APP|$APP_ID|--application-id")
	fi
fi

log ""
if [[ ${#DELETE_CMDS[@]} -eq 0 ]]; then
	info "nothing with the managed-by=backup-tag-sync tag to delete"
else
	info "to delete:"
	for entry in "${DELETE_CMDS[@]}"; do
		IFS='|' read -r kind name id _ <<<"$entry"
		log "    $kind $name $id"
	done
fi
for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do info "skip: $s"; done
[[ ${#DELETE_CMDS[@]} -gt 0 ]] || exit 0
confirm "Delete these resources?"

# ---- delete, dependents first --------------------------------------------------------

delete_one() {
	local kind=$1 id=$2 idopt=$3 cmd
	case "$kind" in
	events-rule) cmd=(events rule delete) ;;
	policy) cmd=(iam policy delete) ;;
	dynamic-group) cmd=(iam dynamic-group delete) ;;
	function) cmd=(fn function delete) ;;
	application) cmd=(fn application delete) ;;
	esac
	mutate oci_cli "${cmd[@]}" "$idopt" "$id" --force >/dev/null ||
		die "deleting $kind $id failed (see above); re-run teardown to continue"
}

DELETED=()
for entry in "${DELETE_CMDS[@]}"; do
	IFS='|' read -r kind name id idopt <<<"$entry"
	if [[ "$kind" == application && "$PRINT_ONLY" == 0 ]]; then
		# A function being deleted still blocks its application: wait (bounded).
		for _ in $(seq 1 60); do
			left=$(oci_read fn function list --application-id "$id" --all | json_eval 'len([o for o in items if live(o)])')
			[[ "$left" == 0 ]] && break
			sleep 2
		done
	fi
	delete_one "$kind" "$id" "$idopt"
	DELETED+=("$(printf '%-14s %-28s %s' "$kind" "$name" "$id")")
done

log ""
if [[ "$PRINT_ONLY" == 1 ]]; then
	log "Summary (dry run: nothing was deleted):"
else
	log "Summary: deleted"
fi
for line in "${DELETED[@]}"; do log "  $line"; done
