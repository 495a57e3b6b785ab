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
# A file left in the inbox is sent again by the next run, with new
# passwords in a new secrets file: every user always has a password that is
# in the newest secrets file that names them.
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
	out="$dir/out/${name%.*}-$stamp"
	bulkreset reset -i "$in" -o "$out-results.csv" --secrets "$out-secrets.csv" --yes --quiet \
		--log-format json --log-file "$dir/bulkreset.log" "$@" </dev/null
	rc=$?
	case $rc in
	0 | 3) mv "$in" "$dir/done/$stamp-$name" ;;
	2) mv "$in" "$dir/failed/$stamp-$name" ;;
	*) ;; # 1, 130: nothing more can be done now; the next run tries again
	esac
	echo "bulkreset-run.sh: $name: exit $rc" >&2
	[ "$rc" -gt "$status" ] && status=$rc
	[ "$rc" -eq 130 ] && break
done <"$queue"
exit "$status"
