#!/usr/bin/env bash
# Remove what deploy/deploy.sh created: only resources with the right name AND the freeform tag
# managed-by=backup-tag-sync, in every region given. See --help.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PROG=teardown.sh
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=names.sh
. "$HERE/names.sh"

usage() {
	cat <<'EOF'
Usage: deploy/teardown.sh --compartment OCID [options]

Deletes what deploy/deploy.sh created: Events rules, alarms, the Notifications topic and its
subscriptions, reconcile schedules, the IAM policy, the dynamic group, the invocation log and its
log group, the function and the application. A resource is deleted only when its name matches
AND it carries the freeform tag managed-by=backup-tag-sync; anything else with the same name is
reported and left alone. The application is deleted only when no other function remains in it,
the log group only when no other log remains in it.

Required:
  --compartment OCID      the --compartment given to deploy.sh

Options (give the same values as to deploy.sh):
  --app NAME              application name (default: backup-tag-sync)
  --name-prefix PREFIX    prefix of the other names (default: the --app name)
  --tenancy OCID          tenancy OCID (default: OCI_TENANCY, or tenancy= in ~/.oci/config)
  --rule-compartment OCID where the Events rule is (default: looks in --compartment and in the tenancy)
  --region REGION         passed to every oci command
  --regions LIST|subscribed
                          tear down in each of these regions
  --keep-logs             keep the invocation log and its log group
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
REGIONS_ARG=""
KEEP_LOGS=0

while [[ $# -gt 0 ]]; do
	case "$1" in
	--compartment) require_value "$1" "${2:-}" && COMPARTMENT=$2 && shift 2 ;;
	--app) require_value "$1" "${2:-}" && APP=$2 && shift 2 ;;
	--name-prefix) require_value "$1" "${2:-}" && NAME_PREFIX=$2 && shift 2 ;;
	--tenancy) require_value "$1" "${2:-}" && TENANCY_ARG=$2 && shift 2 ;;
	--rule-compartment) require_value "$1" "${2:-}" && RULE_COMPARTMENT=$2 && shift 2 ;;
	--region) require_value "$1" "${2:-}" && OCI_REGION=$2 && shift 2 ;;
	--regions) require_value "$1" "${2:-}" && REGIONS_ARG=$2 && shift 2 ;;
	--keep-logs) KEEP_LOGS=1 && shift ;;
	--dry-run) PRINT_ONLY=1 && shift ;;
	--yes | -y) ASSUME_YES=1 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) usage_error "unknown option '$1' (see --help)" ;;
	esac
done

[[ -n "$COMPARTMENT" ]] || usage_error "--compartment OCID is required (the one given to deploy.sh; see --help)"
check_ocid --compartment "$COMPARTMENT" compartment tenancy
[[ -z "$TENANCY_ARG" ]] || check_ocid --tenancy "$TENANCY_ARG" tenancy
[[ -z "$RULE_COMPARTMENT" ]] || check_ocid --rule-compartment "$RULE_COMPARTMENT" compartment tenancy
[[ -z "$OCI_REGION" ]] || check_region --region "$OCI_REGION"
[[ -z "$OCI_REGION" || -z "$REGIONS_ARG" ]] || usage_error "give either --region or --regions, not both"
check_name --app "$APP"
[[ -z "$NAME_PREFIX" ]] || check_name --name-prefix "$NAME_PREFIX"
REGIONS=("$OCI_REGION")
if [[ -n "$REGIONS_ARG" && "$REGIONS_ARG" != subscribed ]]; then
	IFS=',' read -r -a REGIONS <<<"$REGIONS_ARG"
	for r in "${REGIONS[@]}"; do check_region --regions "$r"; done
	read -r -a REGIONS <<<"$(printf '%s\n' "${REGIONS[@]}" | awk '!seen[$0]++' | tr '\n' ' ')"
fi
resource_names "$ROOT"

step "Checking prerequisites"
require_oci_cli
TENANCY=$(resolve_tenancy "$TENANCY_ARG" || true)
[[ -n "$TENANCY" ]] || die "cannot tell the tenancy OCID: pass --tenancy OCID or set OCI_TENANCY"
IAM_REGION=$OCI_REGION
if [[ -n "$REGIONS_ARG" ]]; then
	SUBS=$(oci_read iam region-subscription list --tenancy-id "$TENANCY") || die "cannot list the tenancy's region subscriptions"
	IAM_REGION=$(printf '%s' "$SUBS" | json_eval 'first(o["region-name"] for o in items if o.get("is-home-region"))')
	[[ "$REGIONS_ARG" != subscribed ]] ||
		read -r -a REGIONS <<<"$(printf '%s' "$SUBS" | json_eval '" ".join(o["region-name"] for o in items if o.get("status") == "READY")')"
fi
OCI_REGION=$IAM_REGION
oci_read iam compartment get --compartment-id "$COMPARTMENT" >/dev/null ||
	die "compartment $COMPARTMENT was not found. Fix: check the OCID"

# ---- find what is ours ---------------------------------------------------------------------
# One entry per resource, in parallel arrays (names may hold any character deploy accepts).

D_KIND=() D_NAME=() D_ID=() D_REGION=() D_EXTRA=()
SKIPPED=()

add() {
	# add KIND NAME ID REGION [EXTRA]
	D_KIND+=("$1") D_NAME+=("$2") D_ID+=("$3") D_REGION+=("$4") D_EXTRA+=("${5:-}")
}

consider() {
	# consider KIND NAME LIST_JSON NAME_KEY REGION [ID_KEY]: every live item named NAME.
	local kind=$1 name=$2 list=$3 key=$4 region=$5 idkey=${6:-id} rows id mk
	rows=$(printf '%s' "$list" | NK="$key" NV="$name" IK="$idkey" json_eval \
		'"\n".join(o.get(E["IK"], "") + " " + ("1" if marked(o) else "0") for o in items if o.get(E["NK"]) == E["NV"] and live(o))')
	while read -r id mk; do
		[[ -n "$id" ]] || continue
		if [[ "$mk" == 1 ]]; then
			add "$kind" "$name" "$id" "$region"
		else
			SKIPPED+=("$kind $name $id${region:+ ($region)}: no managed-by=backup-tag-sync tag, left alone")
		fi
	done <<<"$rows"
}

list_or_die() {
	# list_or_die WHAT oci-args...: a read that must succeed.
	local what=$1 out
	shift
	out=$(oci_read "$@") || die "cannot list $what"
	printf '%s' "$out"
}

for REGION in "${REGIONS[@]}"; do
	OCI_REGION=$REGION
	rule_places=("$COMPARTMENT")
	[[ "$COMPARTMENT" == "$TENANCY" ]] || rule_places+=("$TENANCY")
	[[ -z "$RULE_COMPARTMENT" ]] || rule_places=("$RULE_COMPARTMENT")
	for place in "${rule_places[@]}"; do
		consider events-rule "$RULE_NAME" "$(list_or_die "Events rules in $place" events rule list --compartment-id "$place" --display-name "$RULE_NAME" --all)" display-name "$REGION"
	done
	for a in "$ALARM_FAILED_NAME" "$ALARM_ERRORS_NAME"; do
		consider alarm "$a" "$(list_or_die "alarms" monitoring alarm list --compartment-id "$COMPARTMENT" --display-name "$a" --all)" display-name "$REGION"
	done
	topics=$(list_or_die "Notifications topics" ons topic list --compartment-id "$COMPARTMENT" --name "$TOPIC_NAME" --all)
	topic_id=$(printf '%s' "$topics" | N="$TOPIC_NAME" json_eval 'first(o.get("topic-id") for o in items if o.get("name") == E["N"] and o.get("lifecycle-state") == "ACTIVE" and marked(o))')
	if [[ -n "$topic_id" ]]; then
		subs=$(list_or_die "subscriptions" ons subscription list --compartment-id "$COMPARTMENT" --topic-id "$topic_id" --all)
		while read -r sid; do
			[[ -z "$sid" ]] || add subscription "$TOPIC_NAME" "$sid" "$REGION"
		done <<<"$(printf '%s' "$subs" | json_eval '"\n".join(o["id"] for o in items if marked(o) and live(o))')"
	fi
	consider topic "$TOPIC_NAME" "$topics" name "$REGION" topic-id
	for s in "$DAILY_NAME" "$WEEKLY_NAME"; do
		consider schedule "$s" "$(list_or_die "schedules" resource-scheduler schedule list --compartment-id "$COMPARTMENT" --display-name "$s" --all)" display-name "$REGION"
	done
	APPS=$(list_or_die "applications in $COMPARTMENT" fn application list --compartment-id "$COMPARTMENT" --display-name "$APP" --all)
	APP_JSON=$(find_named "$APPS" display-name "$APP")
	APP_ID=""
	[[ -z "$APP_JSON" ]] || APP_ID=$(json_field "{\"data\": $APP_JSON}" id)
	if [[ "$KEEP_LOGS" == 0 ]]; then
		groups=$(list_or_die "log groups" logging log-group list --compartment-id "$COMPARTMENT" --display-name "$LOG_GROUP_NAME" --all)
		gid=$(printf '%s' "$groups" | N="$LOG_GROUP_NAME" json_eval 'first(o["id"] for o in items if o.get("display-name") == E["N"] and live(o))')
		if [[ -n "$gid" ]]; then
			logs=$(list_or_die "logs of $gid" logging log list --log-group-id "$gid" --all)
			# Our log: marked, named LOG_NAME. The group goes only when nothing else is in it.
			ours=$(printf '%s' "$logs" | N="$LOG_NAME" json_eval '"\n".join(o["id"] for o in items if live(o) and marked(o) and o.get("display-name") == E["N"])')
			others=$(printf '%s' "$logs" | N="$LOG_NAME" json_eval 'len([o for o in items if live(o) and not (marked(o) and o.get("display-name") == E["N"])])')
			while read -r lid; do
				[[ -z "$lid" ]] || add log "$LOG_NAME" "$lid" "$REGION" "$gid"
			done <<<"$ours"
			if [[ "$others" != 0 ]]; then
				SKIPPED+=("log-group $LOG_GROUP_NAME $gid: still holds $others other log(s), left alone")
			else
				consider log-group "$LOG_GROUP_NAME" "$groups" display-name "$REGION"
			fi
		fi
	fi
	if [[ -n "$APP_ID" ]]; then
		FUNCS=$(list_or_die "functions of $APP_ID" fn function list --application-id "$APP_ID" --all)
		consider function "$FUNC_NAME" "$FUNCS" display-name "$REGION"
		# Functions that would remain in the application after ours is deleted.
		others=$(printf '%s' "$FUNCS" | F="$FUNC_NAME" json_eval \
			'[o.get("display-name") for o in items if live(o) and not (o.get("display-name") == E["F"] and marked(o))]')
		if ! is_marked "$APP_JSON"; then
			SKIPPED+=("application $APP $APP_ID: no managed-by=backup-tag-sync tag, left alone")
		elif [[ "$others" != "[]" ]]; then
			SKIPPED+=("application $APP $APP_ID: still holds other functions $others, left alone")
		else
			add application "$APP" "$APP_ID" "$REGION"
		fi
	fi
done
OCI_REGION=$IAM_REGION
consider policy "$POLICY_NAME" "$(list_or_die "policies in the tenancy" iam policy list --compartment-id "$TENANCY" --name "$POLICY_NAME" --all)" name "$IAM_REGION"
consider dynamic-group "$DG_NAME" "$(list_or_die "dynamic groups in the tenancy" iam dynamic-group list --compartment-id "$TENANCY" --name "$DG_NAME" --all)" name "$IAM_REGION"

# Delete dependents first: what points at the function, then IAM, logs, the function, the app.
ORDER=(events-rule alarm subscription topic schedule policy dynamic-group log log-group function application)

log ""
if [[ ${#D_ID[@]} -eq 0 ]]; then
	info "nothing with the managed-by=backup-tag-sync tag to delete"
else
	info "to delete:"
	for kind in "${ORDER[@]}"; do
		for i in "${!D_ID[@]}"; do
			[[ "${D_KIND[$i]}" != "$kind" ]] || log "    $kind $(printf '%q' "${D_NAME[$i]}") ${D_ID[$i]}${D_REGION[$i]:+ (${D_REGION[$i]})}"
		done
	done
fi
[[ "$KEEP_LOGS" == 0 ]] || info "keep: the invocation log and log group '$LOG_GROUP_NAME' (--keep-logs)"
for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do info "skip: $s"; done
[[ ${#D_ID[@]} -gt 0 ]] || exit 0
confirm "Delete these resources?"

# ---- delete ---------------------------------------------------------------------------------

delete_one() {
	local kind=$1 id=$2 group=$3 cmd
	case "$kind" in
	events-rule) cmd=(events rule delete --rule-id "$id") ;;
	alarm) cmd=(monitoring alarm delete --alarm-id "$id") ;;
	subscription) cmd=(ons subscription delete --subscription-id "$id") ;;
	topic) cmd=(ons topic delete --topic-id "$id") ;;
	schedule) cmd=(resource-scheduler schedule delete --schedule-id "$id") ;;
	policy) cmd=(iam policy delete --policy-id "$id") ;;
	dynamic-group) cmd=(iam dynamic-group delete --dynamic-group-id "$id") ;;
	# A log group can be deleted only once its logs are gone: wait for the log's work request.
	log) cmd=(logging log delete --log-group-id "$group" --log-id "$id" --wait-for-state SUCCEEDED --wait-for-state FAILED) ;;
	log-group) cmd=(logging log-group delete --log-group-id "$id") ;;
	function) cmd=(fn function delete --function-id "$id") ;;
	application) cmd=(fn application delete --application-id "$id") ;;
	esac
	mutate oci_cli "${cmd[@]}" --force >/dev/null
}

DELETED=()
for kind in "${ORDER[@]}"; do
	for i in "${!D_ID[@]}"; do
		[[ "${D_KIND[$i]}" == "$kind" ]] || continue
		OCI_REGION=${D_REGION[$i]}
		id=${D_ID[$i]}
		if [[ "$kind" == application && "$PRINT_ONLY" == 0 ]]; then
			# A function being deleted still blocks its application: wait (bounded).
			for _ in $(seq 1 60); do
				left=$(oci_read fn function list --application-id "$id" --all | json_eval 'len([o for o in items if live(o)])')
				[[ "$left" == 0 ]] && break
				sleep 2
			done
		fi
		delete_one "$kind" "$id" "${D_EXTRA[$i]}"
		DELETED+=("$(printf '%-14s %-15s %-32s %s' "$kind" "${D_REGION[$i]:--}" "${D_NAME[$i]}" "$id")")
	done
done

log ""
if [[ "$PRINT_ONLY" == 1 ]]; then
	log "Summary (dry run: nothing was deleted):"
else
	log "Summary: deleted"
fi
for line in "${DELETED[@]}"; do log "  $line"; done
