#!/usr/bin/env bash
# Start the Microsoft 365 Agents Playground (a local stand-in for Teams) for a bot.
#
#   tools/playground/launch.sh BOT_ENDPOINT [CONFIG] [PORT] [MORE PLAYGROUND OPTIONS...]
#
# BOT_ENDPOINT  e.g. http://127.0.0.1:3978/api/messages (the bot must run with an empty
#               ALERTBOT_MICROSOFT_APP_ID: the Playground sends no Authorization header)
# CONFIG        the mock tenant, users and team (default: admin.yml next to this script)
# PORT          where its web UI and API listen (default 56150; 0: any free port). If the
#               port is taken it picks another: the first line it prints is `Listening on N`.
#
# It runs in the current directory and writes its log to ./devTools/m365agentsplayground.log
# (config errors appear only there). `make run` and the end-to-end tests start it through
# this script; the package is pinned in package.json because they use its internal routes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cli="$root/node_modules/@microsoft/m365agentsplayground/cli.js"

endpoint="${1:?usage: $0 BOT_ENDPOINT [CONFIG] [PORT] [OPTIONS...]}"
config="$(realpath "${2:-$here/admin.yml}")"
port="${3:-56150}"
shift $(($# < 3 ? $# : 3))

if [[ ! -f "$cli" ]]; then
    echo "launch.sh: $cli is missing: run \`npm ci\` (or \`make install\`) in $root" >&2
    exit 2
fi

# Without TEAMSAPPTESTER_BROWSER=none it tries to open a browser and may exit at once.
export TEAMSAPPTESTER_BROWSER=none
export M365_AGENTS_PLAYGROUND_CONFIG_PATH="$config"
exec node "$cli" -e "$endpoint" -c msteams -p "$port" --dt "$@"
