# shellcheck shell=bash
# What deploy.sh switches on for operating the function in one region (sourced): the invocation
# log, the reconcile schedules, the Notifications topic and the alarms. Each ensure_* function
# creates what is missing, updates what drifted, keeps the rest, and records a summary row.
# They read the globals deploy.sh sets (COMPARTMENT, APP_ID, FN_ID, REGION_LABEL, ...).

# The OCID a work request (printed by `--wait-for-state`) created, or PLACEHOLDER under --dry-run.
wr_identifier() {
	if [[ "$PRINT_ONLY" == 1 ]]; then
		printf '%s' "$2"
		return 0
	fi
	printf '%s' "$1" | json_eval '(items[0].get("resources") or [{}])[0].get("identifier") if items and items[0].get("status") == "SUCCEEDED" else None'
}

# ---- logs: a log group and the application's invocation log (service "functions", category
# "invoke"); OCI keeps a function's stdout/stderr only when this log is enabled.

# find_invoke_log: "LOG_ID GROUP_ID" of the application's live invoke log in any log group of the
# tenancy (OCI keeps one service log per resource and category), or nothing. The CLI spells the
# subtree option --compartmentidinsubtree (loggingmanagement_cli_extended.py shortens it).
find_invoke_log() {
	local groups gid out found
	groups=$(oci_read logging log-group list --compartment-id "$TENANCY" --compartmentidinsubtree true --all) ||
		groups=$(oci_read logging log-group list --compartment-id "$COMPARTMENT" --all) ||
		die "cannot list log groups in $COMPARTMENT"
	for gid in $(printf '%s' "$groups" | json_eval '"\n".join(o["id"] for o in items if live(o))'); do
		out=$(oci_read logging log list --log-group-id "$gid" --source-resource "$APP_ID" --all) ||
			die "cannot list the logs of log group $gid"
		found=$(printf '%s' "$out" | json_eval 'first(o.get("id") for o in items if live(o) and ((o.get("configuration") or {}).get("source") or {}).get("category") == "invoke")')
		if [[ -n "$found" ]]; then
			printf '%s %s' "$found" "$gid"
			return 0
		fi
	done
}

ensure_logs() {
	local out existing=""
	# A new application has no log yet; an existing one may have its invoke log anywhere.
	[[ "$APP_ID" == "<"* ]] || existing=$(find_invoke_log)
	if [[ -n "$existing" ]]; then
		read -r LOG_ID LOG_GROUP_ID <<<"$existing"
		local gname lname
		gname=$(json_field "$(oci_read logging log-group get --log-group-id "$LOG_GROUP_ID")" display-name)
		lname=$(json_field "$(oci_read logging log get --log-group-id "$LOG_GROUP_ID" --log-id "$LOG_ID")" display-name)
		[[ "$gname" == "$LOG_GROUP_NAME" ]] || info "the application already has an invoke log ('$lname' in log group '$gname'): reused, and teardown leaves it alone"
		record log-group "$gname" kept "$LOG_GROUP_ID"
		record log "$lname" kept "$LOG_ID"
		return 0
	fi
	out=$(oci_read logging log-group list --compartment-id "$COMPARTMENT" --display-name "$LOG_GROUP_NAME" --all) ||
		die "cannot list log groups in $COMPARTMENT"
	lookup "$out" display-name "$LOG_GROUP_NAME"
	if [[ -n "$FOUND_ID" ]]; then
		LOG_GROUP_ID=$FOUND_ID
		[[ "$FOUND_MARKED" == 1 ]] || info "log group '$LOG_GROUP_NAME' exists without the managed-by tag: reused, and teardown will leave it alone"
		record log-group "$LOG_GROUP_NAME" kept "$LOG_GROUP_ID"
	else
		out=$(mutate oci_cli logging log-group create --compartment-id "$COMPARTMENT" --display-name "$LOG_GROUP_NAME" \
			--description "backup-tag-sync: invocation logs of application $APP" --freeform-tags "$MARKER_TAGS" \
			--wait-for-state SUCCEEDED --wait-for-state FAILED)
		LOG_GROUP_ID=$(wr_identifier "$out" "<log-group-ocid>")
		[[ -n "$LOG_GROUP_ID" ]] || die "creating log group '$LOG_GROUP_NAME' did not succeed: $out"
		record log-group "$LOG_GROUP_NAME" created "$LOG_GROUP_ID"
	fi
	local conf
	conf=$(C="$COMPARTMENT" A="$APP_ID" python3 -c 'import json, os
print(json.dumps({"compartmentId": os.environ["C"], "source": {"sourceType": "OCISERVICE",
    "service": "functions", "resource": os.environ["A"], "category": "invoke"}}))')
	out=$(mutate oci_cli logging log create --log-group-id "$LOG_GROUP_ID" --display-name "$LOG_NAME" \
		--log-type SERVICE --is-enabled true --retention-duration "$LOG_RETENTION_DAYS" --configuration "$conf" \
		--freeform-tags "$MARKER_TAGS" --wait-for-state SUCCEEDED --wait-for-state FAILED)
	LOG_ID=$(wr_identifier "$out" "<log-ocid>")
	[[ -n "$LOG_ID" ]] || die "creating the invocation log did not succeed: $out"
	record log "$LOG_NAME" created "$LOG_ID"
}

# ---- reconcile schedules: Resource Scheduler invokes the function with a sweep body, one
# schedule per target compartment (daily, recent backups; weekly, a full pass). The target a
# schedule sweeps is in its freeform tag backup-tag-sync-target.

schedule_resources() {
	# schedule_resources FUNCTION_ID TARGET SINCE ("" = full pass): the schedule's resources JSON.
	F="$1" T="$2" S="$3" python3 -c 'import json, os
sweep = {"compartmentId": os.environ["T"], "recursive": True}
if os.environ["S"]:
    sweep["since"] = os.environ["S"]
print(json.dumps([{"id": os.environ["F"], "parameters": [{"parameterType": "BODY", "value": {"sweep": sweep}}]}]))'
}

ensure_schedules() {
	# ensure_schedules NAME CRON SINCE: one schedule NAME per target compartment; sets
	# SCHEDULE_IDS (appends). Marked schedules of that name for a target no longer given are deleted.
	local name=$1 cron=$2 since=$3 out out2 t res tags sid cur same
	out=$(oci_read resource-scheduler schedule list --compartment-id "$COMPARTMENT" --display-name "$name" --all) ||
		die "cannot list Resource Scheduler schedules in $COMPARTMENT"
	for t in "${TARGETS[@]}"; do
		res=$(schedule_resources "$FN_ID" "$t" "$since")
		tags=$(T="$t" python3 -c 'import json, os; print(json.dumps({"managed-by": "backup-tag-sync", "backup-tag-sync-target": os.environ["T"]}))')
		cur=$(printf '%s' "$out" | T="$t" json_eval 'first(o for o in items if live(o) and marked(o) and (o.get("freeform-tags") or {}).get("backup-tag-sync-target") == E["T"])')
		if [[ -z "$cur" ]]; then
			out2=$(mutate oci_cli resource-scheduler schedule create --compartment-id "$COMPARTMENT" --display-name "$name" \
				--description "backup-tag-sync: reconcile $t (sweep$([[ -n "$since" ]] && printf ' since %s' "$since"))" \
				--action START_RESOURCE --recurrence-type CRON --recurrence-details "$cron" \
				--resources "$res" --freeform-tags "$tags")
			sid=$(created_id "$out2" "<schedule-ocid:$name:$t>")
			record schedule "$name" created "$sid"
		else
			sid=$(printf '{"data": %s}' "$cur" | json_eval 'items[0]["id"]')
			# Compare what the schedule runs: its cron, its function and the body it sends.
			same=$(printf '{"data": %s}' "$cur" | C="$cron" R="$res" json_eval '(items[0].get("recurrence-details") == E["C"]
				and items[0].get("action") == "START_RESOURCE"
				and [(r.get("id"), [p.get("value") for p in r.get("parameters") or []]) for r in items[0].get("resources") or []]
				== [(r["id"], [p["value"] for p in r["parameters"]]) for r in json.loads(E["R"])])')
			if [[ "$same" == true ]]; then
				record schedule "$name" kept "$sid"
			else
				mutate oci_cli resource-scheduler schedule update --schedule-id "$sid" --action START_RESOURCE \
					--recurrence-type CRON --recurrence-details "$cron" --resources "$res" --force >/dev/null
				record schedule "$name" updated "$sid"
			fi
		fi
		SCHEDULE_IDS+=("$sid")
	done
	# Schedules this deployment made for targets it no longer has.
	local stale
	stale=$(printf '%s' "$out" | TS="$(printf '%s\n' "${TARGETS[@]}")" json_eval '"\n".join(o["id"] for o in items if live(o) and marked(o) and (o.get("freeform-tags") or {}).get("backup-tag-sync-target") not in E["TS"].split("\n"))')
	for sid in $stale; do
		mutate oci_cli resource-scheduler schedule delete --schedule-id "$sid" --force >/dev/null
		record schedule "$name" deleted "$sid"
	done
}

drop_schedules() {
	# drop_schedules NAME: delete this deployment's schedules of that name (--no-reconcile).
	local out sid
	out=$(oci_read resource-scheduler schedule list --compartment-id "$COMPARTMENT" --display-name "$1" --all) ||
		die "cannot list Resource Scheduler schedules in $COMPARTMENT"
	for sid in $(printf '%s' "$out" | json_eval '"\n".join(o["id"] for o in items if live(o) and marked(o))'); do
		mutate oci_cli resource-scheduler schedule delete --schedule-id "$sid" --force >/dev/null
		record schedule "$1" deleted "$sid"
	done
}

# ---- alarms: a Notifications topic (created, or given with --notify-topic) and two alarms.

ensure_topic() {
	local out
	if [[ -n "$NOTIFY_TOPIC" ]]; then
		oci_read ons topic get --topic-id "$NOTIFY_TOPIC" >/dev/null || die "--notify-topic $NOTIFY_TOPIC was not found"
		TOPIC_ID=$NOTIFY_TOPIC
		record topic "(given)" kept "$TOPIC_ID"
		return 0
	fi
	out=$(oci_read ons topic list --compartment-id "$COMPARTMENT" --name "$TOPIC_NAME" --all) ||
		die "cannot list Notifications topics in $COMPARTMENT"
	TOPIC_ID=$(printf '%s' "$out" | N="$TOPIC_NAME" json_eval 'first(o.get("topic-id") for o in items if o.get("name") == E["N"] and o.get("lifecycle-state") == "ACTIVE")')
	if [[ -n "$TOPIC_ID" ]]; then
		record topic "$TOPIC_NAME" kept "$TOPIC_ID"
	else
		out=$(mutate oci_cli ons topic create --compartment-id "$COMPARTMENT" --name "$TOPIC_NAME" \
			--description "backup-tag-sync alarms" --freeform-tags "$MARKER_TAGS")
		TOPIC_ID="<topic-ocid>"
		[[ "$PRINT_ONLY" == 1 ]] || TOPIC_ID=$(json_field "$out" topic-id)
		record topic "$TOPIC_NAME" created "$TOPIC_ID"
	fi
	local found=""
	if [[ "$TOPIC_ID" != "<"* ]]; then
		out=$(oci_read ons subscription list --compartment-id "$COMPARTMENT" --topic-id "$TOPIC_ID" --all) ||
			die "cannot list the subscriptions of topic $TOPIC_ID"
		found=$(printf '%s' "$out" | A="$NOTIFY_EMAIL" json_eval 'first(o.get("id") for o in items if o.get("protocol") == "EMAIL" and o.get("endpoint") == E["A"] and o.get("lifecycle-state") in ("PENDING", "ACTIVE"))')
	fi
	if [[ -n "$found" ]]; then
		record subscription "$NOTIFY_EMAIL" kept "$found"
	else
		out=$(mutate oci_cli ons subscription create --compartment-id "$COMPARTMENT" --topic-id "$TOPIC_ID" \
			--protocol EMAIL --subscription-endpoint "$NOTIFY_EMAIL" --freeform-tags "$MARKER_TAGS")
		record subscription "$NOTIFY_EMAIL" created "$(created_id "$out" "<subscription-ocid>")"
		[[ "$PRINT_ONLY" == 1 ]] || info "$NOTIFY_EMAIL must confirm the subscription (Oracle sends a confirmation email) before alarms reach it"
	fi
}

ensure_alarm() {
	# ensure_alarm NAME METRIC_COMPARTMENT NAMESPACE QUERY SEVERITY BODY
	local name=$1 mc=$2 ns=$3 query=$4 sev=$5 body=$6 out dest
	dest=$(T="$TOPIC_ID" python3 -c 'import json, os; print(json.dumps([os.environ["T"]]))')
	out=$(oci_read monitoring alarm list --compartment-id "$COMPARTMENT" --display-name "$name" --all) ||
		die "cannot list alarms in $COMPARTMENT"
	lookup "$out" display-name "$name"
	if [[ -z "$FOUND_ID" ]]; then
		out=$(mutate oci_cli monitoring alarm create --compartment-id "$COMPARTMENT" --display-name "$name" \
			--metric-compartment-id "$mc" --namespace "$ns" --query-text "$query" --severity "$sev" \
			--destinations "$dest" --is-enabled true --pending-duration PT1M --body "$body" \
			--freeform-tags "$MARKER_TAGS")
		record alarm "$name" created "$(created_id "$out" "<alarm-ocid>")"
		return 0
	fi
	[[ "$FOUND_MARKED" == 1 ]] ||
		die "an alarm named '$name' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
	local same
	same=$(printf '{"data": %s}' "$FOUND_JSON" | Q="$query" N="$ns" M="$mc" D="$dest" json_eval \
		'items[0].get("query") == E["Q"] and items[0].get("namespace") == E["N"] and items[0].get("metric-compartment-id") == E["M"] and items[0].get("destinations") == json.loads(E["D"]) and items[0].get("is-enabled") is True')
	if [[ "$same" == true ]]; then
		record alarm "$name" kept "$FOUND_ID"
	else
		mutate oci_cli monitoring alarm update --alarm-id "$FOUND_ID" --metric-compartment-id "$mc" --namespace "$ns" \
			--query-text "$query" --destinations "$dest" --is-enabled true --force >/dev/null
		record alarm "$name" updated "$FOUND_ID"
	fi
}
