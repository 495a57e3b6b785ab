#!/bin/sh
# bulkreset-run.sh: one scheduled bulkreset run, for cron and systemd timers.
#
#   bulkreset-run.sh DIR [reset flags...]
#
# Resets the users of every file waiting in DIR/inbox (.csv, .txt, .tsv,
# .xlsx), one file after the other, oldest first. For each file it writes
# DIR/out/NAME-STAMP-results.csv and DIR/out/NAME-STAMP-secrets.csv
# (readable only by this account) and appends every log record, down to
# each retry, to DIR/bulkreset.log as JSON lines. Standard error gets only
# warnings, errors and the summary (--quiet): that is what cron mails and
# the systemd journal keeps. Then it moves the file:
#
#   exit 0 or 3 (every row has a result)    -> DIR/done/STAMP-NAME
#   exit 2 (the file or the flags are bad)  -> DIR/failed/STAMP-NAME
#   exit 1 or 130 (sign-in failed, an output not writable, stopped)
#                                           -> left in DIR/inbox for the next run
#
# A file left in the inbox after an interrupted or stopped run is resumed
# by the next run (bulkreset reset --resume -o on the same results file,
# with the settings the run recorded beside it): users already done are not
# sent again, and a user whose outcome is unknown gets the password already
# in the secrets file, so each user has one password, the one in the file.
# The pending run is remembered in DIR/inbox/.NAME.resume. A run that
# stopped before recording its settings (sign-in failed) is started anew.
# Should the file or the flags have changed meanwhile, the resume refuses
# them (exit 2) and the file goes to DIR/failed.
#
# Every run passes --max-users (BULKRESET_MAX_USERS, default 1000): a file
# with more users (an HR export of the whole company) is refused (exit 2,
# nothing sent) and goes to DIR/failed. Give --max-users N among the flags,
# or set BULKRESET_MAX_USERS, for a larger limit.
#
# The exit code is the highest of bulkreset's, so the scheduler reports a
# run with failed rows (3) or a fatal error (1). Sign-in comes from the
# environment (AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH,
# or --auth managed-identity): see docs/scheduling.md. bulkreset is looked
# up on PATH.
set -u

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: bulkreset-run.sh DIR [reset flags...]   (DIR must exist)" >&2
	exit 2
fi
dir=$1
shift
max_users=${BULKRESET_MAX_USERS:-1000}
umask 077 # results, secrets and log files: this account only
mkdir -p "$dir/inbox" "$dir/out" "$dir/done" "$dir/failed" || exit 1

# One run at a time (cron does not prevent overlaps; a systemd oneshot
# service does). A lock left by a crash or a power cut names a process
# that no longer runs, and is taken over.
lock="$dir/.bulkreset-run.pid"
if [ -f "$lock" ] && kill -0 "$(cat "$lock" 2>/dev/null)" 2>/dev/null; then
	echo "bulkreset-run.sh: run $(cat "$lock") is still going; not starting another" >&2
	exit 1
fi
echo $$ >"$lock"
queue="$dir/.bulkreset-run.queue"
trap 'rm -f "$lock" "$queue"' EXIT
trap 'exit 130' INT TERM

# Oldest first. Names with spaces are fine; names with a newline are not
# supported.
(cd "$dir/inbox" && ls -tr) >"$queue" || exit 1
status=0
while IFS= read -r name; do
	case $name in
	*.csv | *.CSV | *.txt | *.TXT | *.tsv | *.TSV | *.xlsx | *.XLSX) ;;
	*) continue ;;
	esac
	in="$dir/inbox/$name"
	[ -f "$in" ] || continue
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	pending="$dir/inbox/.$name.resume" # the out prefix of a run to finish
	out=
	[ -f "$pending" ] && out=$(cat "$pending")
	if [ -n "$out" ] && [ -f "$out-results.csv.run.json" ]; then
		echo "bulkreset-run.sh: $name: resuming the unfinished run of $out-results.csv" >&2
		bulkreset reset --resume -o "$out-results.csv" --yes --quiet \
			--log-format json --log-file "$dir/bulkreset.log" --max-users "$max_users" "$@" </dev/null
		rc=$?
	else
		out="$dir/out/${name%.*}-$stamp"
		# Written first: the run may be stopped at any time (shutdown).
		printf '%s\n' "$out" >"$pending" || exit 1
		bulkreset reset -i "$in" -o "$out-results.csv" --secrets "$out-secrets.csv" --yes --quiet \
			--log-format json --log-file "$dir/bulkreset.log" --max-users "$max_users" "$@" </dev/null
		rc=$?
	fi
	case $rc in
	0 | 3) mv "$in" "$dir/done/$stamp-$name" && rm -f "$pending" ;;
	2) mv "$in" "$dir/failed/$stamp-$name" && rm -f "$pending" ;;
	*) ;; # 1, 130: nothing more can be done now; the next run resumes it
	esac
	echo "bulkreset-run.sh: $name: exit $rc" >&2
	[ "$rc" -gt "$status" ] && status=$rc
	[ "$rc" -eq 130 ] && break
done <"$queue"
exit "$status"
