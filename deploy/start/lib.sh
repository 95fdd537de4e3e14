# Sourced by the start scripts. `run CMD...` replaces the shell with CMD (so signals reach the server), or with
# START_DRY_RUN=1 prints CMD one argument per line and exits: the tests read the command line from there.
run() {
    if [ "${START_DRY_RUN:-}" = 1 ]; then
        printf '%s\n' "$@"
        exit 0
    fi
    exec "$@"
}

log_level() {
    printf '%s' "${LOG_LEVEL:-INFO}" | tr '[:upper:]' '[:lower:]'
}
