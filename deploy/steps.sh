# shellcheck shell=bash
# The core resources deploy.sh reconciles (sourced): application, function and its config in
# one region, the tenancy-wide dynamic group and IAM policy, and a region's Events rule. Each
# function creates what is missing, updates what drifted, keeps the rest, and records a row.

ensure_application() {
	local out state
	out=$(oci_read fn application list --compartment-id "$COMPARTMENT" --display-name "$APP" --all) ||
		die "cannot list applications in $COMPARTMENT"
	lookup "$out" display-name "$APP"
	APP_MARKED=0
	if [[ -n "$FOUND_ID" ]]; then
		APP_ID=$FOUND_ID
		APP_MARKED=$FOUND_MARKED
		if [[ "$(printf '{"data": %s}' "$FOUND_JSON" | S="$SUBNET" json_eval 'E["S"] in (items[0].get("subnet-ids") or [])')" != true ]]; then
			warn "application '$APP' exists with other subnets; an application's subnets cannot be changed: kept as is"
		fi
		[[ "$APP_MARKED" == 1 ]] || info "application exists without the managed-by tag: reused, and teardown will leave it alone"
		record application "$APP" kept "$APP_ID"
		return 0
	fi
	out=$(mutate oci_cli fn application create --compartment-id "$COMPARTMENT" --display-name "$APP" \
		--subnet-ids "[\"$SUBNET\"]" --freeform-tags "$MARKER_TAGS")
	APP_MARKED=1
	APP_ID=$(created_id "$out" "<application-ocid>")
	[[ -n "$APP_ID" ]] || die "application create returned no id"
	state=$(json_field "$out" lifecycle-state)
	# Wait (bounded) until ACTIVE before fn deploy uses it.
	for _ in $(seq 1 30); do
		[[ "$PRINT_ONLY" == 1 || "$state" == ACTIVE ]] && break
		sleep 2
		state=$(json_field "$(oci_read fn application get --application-id "$APP_ID")" lifecycle-state)
	done
	record application "$APP" created "$APP_ID"
}

find_function() {
	local fl
	[[ "$APP_ID" != "<"* ]] || return 0
	fl=$(oci_read fn function list --application-id "$APP_ID" --display-name "$FUNC_NAME" --all) ||
		die "cannot list functions of application $APP_ID"
	lookup "$fl" display-name "$FUNC_NAME"
	printf '%s' "$FOUND_ID"
}

ensure_function() {
	local existed=0 cmd=(fn deploy --app "$APP")
	FN_ID=$(find_function)
	[[ -z "$FN_ID" ]] || existed=1
	if [[ "$BUILD" == 1 ]]; then
		[[ "$NO_BUMP" == 0 ]] || cmd+=(--no-bump)
		# Several regions: each region's Functions endpoint and registry (the Fn CLI reads
		# FN_API_URL and FN_REGISTRY over its context's api-url and registry).
		[[ -z "$FN_ENV_REGISTRY" ]] || cmd=(env "FN_API_URL=https://functions.$REGION.oci.oraclecloud.com" "FN_REGISTRY=$FN_ENV_REGISTRY" "${cmd[@]}")
		info "building and pushing the image from $ROOT"
		(cd "$ROOT" && mutate "${cmd[@]}") >&2
		if [[ "$PRINT_ONLY" == 0 ]]; then
			FN_ID=$(find_function)
			[[ -n "$FN_ID" ]] || die "'fn deploy' finished but function '$FUNC_NAME' is not in application '$APP'"
		fi
	fi
	FN_ID=${FN_ID:-<function-ocid>}
	if [[ "$existed" == 1 && "$BUILD" == 1 ]]; then
		record function "$FUNC_NAME" deployed "$FN_ID"
	elif [[ "$existed" == 1 ]]; then
		record function "$FUNC_NAME" kept "$FN_ID"
	else
		record function "$FUNC_NAME" created "$FN_ID"
	fi
}

ensure_config() {
	local full='{}' inline="" own=0 new cur tags newtags shown
	[[ "$FN_ID" == "<"* ]] || full=$(oci_read fn function get --function-id "$FN_ID") || die "cannot read function $FN_ID"
	[[ -z "$POLICY_FILE" ]] || inline=$(cat "$POLICY_FILE")
	# Tag the function when this deployment owns it (its application carries the marker).
	[[ "$APP_MARKED" == 0 ]] || own=1
	# One python call: desired config, current config, current tags, desired tags (compact
	# sorted JSON) and the config for display. Keys this script does not own are kept.
	{
		IFS= read -r new && IFS= read -r cur && IFS= read -r tags && IFS= read -r newtags && IFS= read -r shown
	} < <(printf '%s' "$full" | POLICY_URI="$POLICY_URI" POLICY_INLINE="$inline" LOG_LEVEL="$LOG_LEVEL" \
		DRY_RUN_WRITES="$DRY_RUN_WRITES" OWN_FN="$own" FN_ID="$FN_ID" METRICS="$METRICS_COMPARTMENT" python3 -c '
import json, os, sys
raw = sys.stdin.read()
fn = (json.loads(raw) if raw.strip() else {}).get("data") or {}
E = os.environ
cur = dict(fn.get("config") or {})
new = dict(cur)
if E["POLICY_URI"]:
    new.pop("TAG_POLICY", None)
    new["TAG_POLICY_URI"] = E["POLICY_URI"]
elif E["POLICY_INLINE"]:
    new.pop("TAG_POLICY_URI", None)
    new["TAG_POLICY"] = E["POLICY_INLINE"]
new["LOG_LEVEL"] = E["LOG_LEVEL"] or cur.get("LOG_LEVEL") or "info"
new["DRY_RUN"] = "true" if E["DRY_RUN_WRITES"] == "1" else "false"
# The function posts its outcome metrics there, and invokes itself (detached) to resume a
# sweep cut by its deadline.
if E["METRICS"]:
    new["METRICS_COMPARTMENT_ID"] = E["METRICS"]
else:
    new.pop("METRICS_COMPARTMENT_ID", None)
new["FUNCTION_ID"] = E["FN_ID"]
new["FUNCTION_INVOKE_ENDPOINT"] = fn.get("invoke-endpoint") or "<invoke-endpoint>"
tags = dict(fn.get("freeform-tags") or {})
new_tags = dict(tags, **{"managed-by": "backup-tag-sync"}) if E["OWN_FN"] == "1" else tags
shown = {k: (v if k != "TAG_POLICY" else "<%d chars>" % len(v)) for k, v in new.items()}
for x in (new, cur, tags, new_tags, shown):
    print(json.dumps(x, sort_keys=True))')
	if [[ "$new" == "$cur" && "$newtags" == "$tags" ]]; then
		record config "$FUNC_NAME" kept "$shown"
		return 0
	fi
	mutate oci_cli "${FN_UPDATE[@]}" --function-id "$FN_ID" --config "$new" --freeform-tags "$newtags" --force >/dev/null
	record config "$FUNC_NAME" updated "$shown"
}

# ---- IAM (tenancy-wide, one for every region) ------------------------------------------------

ensure_dynamic_group() {
	local out cur
	lookup "$DG_LIST" name "$DG_NAME"
	if [[ -z "$FOUND_ID" ]]; then
		out=$(mutate oci_cli iam dynamic-group create --compartment-id "$TENANCY" --name "$DG_NAME" \
			--description "backup-tag-sync function $FUNC_NAME in application $APP" \
			--matching-rule "$MATCHING_RULE" --freeform-tags "$MARKER_TAGS" --wait-for-state ACTIVE)
		record dynamic-group "$DG_NAME" created "$(created_id "$out" "<dynamic-group-ocid>")"
		return 0
	fi
	[[ "$FOUND_MARKED" == 1 ]] ||
		die "a dynamic group named '$DG_NAME' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
	cur=$(printf '{"data": %s}' "$FOUND_JSON" | json_eval 'norm(items[0].get("matching-rule", ""))')
	if [[ "$cur" == "$(R="$MATCHING_RULE" json_eval 'norm(E["R"])' </dev/null)" ]]; then
		record dynamic-group "$DG_NAME" kept "$FOUND_ID"
	else
		info "matching rule drifted: '$cur'"
		mutate oci_cli iam dynamic-group update --dynamic-group-id "$FOUND_ID" --matching-rule "$MATCHING_RULE" --force >/dev/null
		record dynamic-group "$DG_NAME" updated "$FOUND_ID"
	fi
}

ensure_policy() {
	local out same
	printf '%s' "$STATEMENTS" | json_eval '"\n".join("    " + s for s in d)' >&2
	lookup "$POLICY_LIST" name "$POLICY_NAME"
	if [[ -z "$FOUND_ID" ]]; then
		out=$(mutate oci_cli iam policy create --compartment-id "$TENANCY" --name "$POLICY_NAME" \
			--description "backup-tag-sync: least privilege for $DG_NAME, Events and its schedules" \
			--statements "$STATEMENTS" --freeform-tags "$MARKER_TAGS" --wait-for-state ACTIVE)
		record policy "$POLICY_NAME" created "$(created_id "$out" "<policy-ocid>")"
		return 0
	fi
	[[ "$FOUND_MARKED" == 1 ]] ||
		die "a policy named '$POLICY_NAME' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
	# Compare ignoring whitespace runs and order (OCI keeps statements as sent).
	same=$(printf '{"data": %s}' "$FOUND_JSON" | S="$STATEMENTS" json_eval \
		'sorted(norm(s) for s in items[0].get("statements") or []) == sorted(norm(s) for s in json.loads(E["S"]))')
	if [[ "$same" == true ]]; then
		record policy "$POLICY_NAME" kept "$FOUND_ID"
	else
		info "statements drifted"
		# The CLI refuses --statements without --version-date; "" keeps the policy evaluated
		# by the services' current behaviour (what a policy created without one gets).
		mutate oci_cli iam policy update --policy-id "$FOUND_ID" --statements "$STATEMENTS" --version-date "" --force >/dev/null
		record policy "$POLICY_NAME" updated "$FOUND_ID"
	fi
}

# ---- Events rule (per region) -------------------------------------------------------------------

ensure_rule() {
	ensure_rule_in "$RULE_COMPARTMENT"
	# One rule per deployment and region: the rule moves between --compartment and the tenancy
	# when the targets change, so ours elsewhere (marked, same name) is deleted once this one is right.
	local place out id places=("$COMPARTMENT")
	[[ "$TENANCY" == "$COMPARTMENT" ]] || places+=("$TENANCY")
	for place in "${places[@]}"; do
		[[ "$place" != "$RULE_COMPARTMENT" ]] || continue
		out=$(oci_read events rule list --compartment-id "$place" --display-name "$RULE_NAME" --all) ||
			die "cannot list Events rules in $place"
		for id in $(printf '%s' "$out" | N="$RULE_NAME" json_eval '"\n".join(o["id"] for o in items if o.get("display-name") == E["N"] and live(o) and marked(o))'); do
			mutate oci_cli events rule delete --rule-id "$id" --force >/dev/null
			record events-rule "$RULE_NAME" deleted "$id"
		done
	done
}

ensure_rule_in() {
	local out actions rule cond_same act_same enabled upd=() RULE_COMPARTMENT=$1
	actions=$(FID="$FN_ID" python3 -c 'import json, os
print(json.dumps({"actions": [{"actionType": "FAAS", "isEnabled": True,
    "functionId": os.environ["FID"], "description": "backup-tag-sync"}]}))')
	out=$(oci_read events rule list --compartment-id "$RULE_COMPARTMENT" --display-name "$RULE_NAME" --all) ||
		die "cannot list Events rules in $RULE_COMPARTMENT"
	lookup "$out" display-name "$RULE_NAME"
	if [[ -z "$FOUND_ID" ]]; then
		out=$(mutate oci_cli events rule create --compartment-id "$RULE_COMPARTMENT" --display-name "$RULE_NAME" \
			--description "Runs backup-tag-sync when a backup has been created or copied" \
			--is-enabled true --condition "$CONDITION" --actions "$actions" \
			--freeform-tags "$MARKER_TAGS" --wait-for-state ACTIVE)
		record events-rule "$RULE_NAME" created "$(created_id "$out" "<rule-ocid>")"
		return 0
	fi
	[[ "$FOUND_MARKED" == 1 ]] ||
		die "an Events rule named '$RULE_NAME' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
	rule=$(oci_read events rule get --rule-id "$FOUND_ID") || die "cannot read rule $FOUND_ID"
	# Conditions are compared as JSON values (OCI may re-space them); the actions must be
	# exactly one enabled FAAS action to this function.
	read -r cond_same act_same enabled < <(printf '%s' "$rule" | C="$CONDITION" F="$FN_ID" json_eval \
		'" ".join("true" if x else "false" for x in (
			json.loads(items[0].get("condition") or "{}") == json.loads(E["C"]),
			[(a.get("action-type"), a.get("function-id"), a.get("is-enabled")) for a in (items[0].get("actions") or {}).get("actions") or []] == [("FAAS", E["F"], True)],
			bool(items[0].get("is-enabled"))))')
	[[ "$cond_same" == true ]] || upd+=(--condition "$CONDITION")
	[[ "$act_same" == true ]] || upd+=(--actions "$actions")
	[[ "$enabled" == true ]] || upd+=(--is-enabled true)
	if [[ ${#upd[@]} -eq 0 ]]; then
		record events-rule "$RULE_NAME" kept "$FOUND_ID"
	else
		mutate oci_cli events rule update --rule-id "$FOUND_ID" "${upd[@]}" --force >/dev/null
		record events-rule "$RULE_NAME" updated "$FOUND_ID"
	fi
}

# ---- --policy-bucket: the policy as an Object Storage object (function config holds 4 KB) ------

ensure_policy_object() {
	local sum cur
	sum=$(sha256sum "$POLICY_FILE" | cut -d' ' -f1)
	cur=$(oci_read os object head --namespace-name "$OS_NS" --bucket-name "$BUCKET" --name "$POLICY_OBJECT" 2>/dev/null |
		json_eval 'd.get("opc-meta-sha256")') || cur=""
	if [[ "$cur" == "$sum" ]]; then
		record policy-object "$POLICY_OBJECT" kept "$POLICY_URI"
		return 0
	fi
	mutate oci_cli os object put --namespace-name "$OS_NS" --bucket-name "$BUCKET" --name "$POLICY_OBJECT" \
		--file "$POLICY_FILE" --no-multipart --force --content-type application/yaml \
		--metadata "{\"sha256\": \"$sum\"}" >/dev/null
	record policy-object "$POLICY_OBJECT" "$([[ -n "$cur" ]] && printf updated || printf created)" "$POLICY_URI"
}
