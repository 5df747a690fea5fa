#!/bin/sh
# execguard alert hook: post every refusal and every human approval to a
# Slack channel (or any webhook that takes {"text": "..."} as JSON, such as
# Mattermost, Rocket.Chat or a Microsoft Teams workflow).
#
# In a protected settings file, e.g. /etc/execguard/settings.rules:
#
#   set alert /usr/share/doc/execguard/examples/alert-slack.sh https://hooks.slack.com/services/T000/B000/XXXX
#
# execguard runs the command with the audit record (one JSON line) on
# standard input, detached from the guarded program, without a terminal.
# Needs curl. Exit status and output are ignored; errors go to stderr.
set -u

url=${1:?usage: alert-slack.sh WEBHOOK_URL}
record=$(head -c 65536)

# A top-level string field of the record (rule ids, outcomes and session ids
# hold no quotes; an argument that does is escaped, so it never matches).
field() {
	printf '%s\n' "$record" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

outcome=$(field outcome)
why=$(field why)
rule=$(field rule)
session=$(field session)
host=$(uname -n)

summary="execguard on $host: ${outcome:-?}${why:+ ($why)}, rule ${rule:-none}, session ${session:--}"
text="$summary
\`\`\`$record\`\`\`"

# As a JSON string: backslashes and quotes escaped, line breaks as \n (the
# record itself is one line, its control characters already escaped).
escaped=$(printf '%s' "$text" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' |
	awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }')

printf '{"text":"%s"}' "$escaped" |
	curl -fsS --max-time 10 -H 'Content-Type: application/json' --data-binary @- "$url" >/dev/null
