#!/usr/bin/env bash
# Installs autoscaler on this host, for running it as system services:
#
#   scripts/install.sh [--prefix /usr/local] [--etc /etc/autoscaler] [--systemd-dir DIR] [--debug]
#
#   PREFIX/bin                     loadbalancer, scheduler, clientsim, scale-up, scale-down, webserver
#   PREFIX/share/man/man1          their man pages (argument-parser's generate-manual plugin)
#   PREFIX/share/bash-completion, zsh/site-functions, fish/vendor_completions.d   completions
#   ETC/loadbalancer.json, ETC/scheduler.json   commented examples, every option at its default;
#                                  an existing file is kept (yours win), the new one goes beside it as .new
#   ETC/autoscaler.env             AUTOSCALER_TOKEN, made once (mode 0600): the admin token both units share
#   SYSTEMD_DIR                    autoscaler-loadbalancer.service, autoscaler-scheduler.service
#                                  (default PREFIX/lib/systemd/system, which systemd reads for /usr/local)
#   PREFIX/share/autoscaler/install-manifest   every file and folder written, for scripts/uninstall.sh
#
# It builds release first (--debug: the debug build, for tests). It does not enable or start the
# units; it prints the commands that do.
source "$(dirname "$0")/lib.sh"

prefix=/usr/local etc=/etc/autoscaler systemd_dir="" configuration=release
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
        --etc) etc=${2:?--etc needs a folder}; shift 2 ;;
        --systemd-dir) systemd_dir=${2:?--systemd-dir needs a folder}; shift 2 ;;
        --debug) configuration=debug; shift ;;
        -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; exit 64 ;;
    esac
done
case $prefix$etc$systemd_dir in *[[:space:]]*) echo "install.sh: folders with spaces are not supported" >&2; exit 64 ;; esac
prefix=$(realpath -m "$prefix") etc=$(realpath -m "$etc")
systemd_dir=$(realpath -m "${systemd_dir:-$prefix/lib/systemd/system}")
manifest_dir=$prefix/share/autoscaler
manifest=$manifest_dir/install-manifest
executables=(loadbalancer scheduler clientsim scale-up scale-down webserver)

# Every folder it writes to must be writable (or made in a writable one) before anything is built.
for dir in "$prefix" "$etc" "$systemd_dir"; do
    existing=$dir
    while [ ! -e "$existing" ]; do existing=$(dirname "$existing"); done
    [ -w "$existing" ] || fail "cannot write to $existing (for $dir): run as root, or give folders you own (--prefix, --etc, --systemd-dir)"
done

log "building ($configuration)"
swift build -c "$configuration" >&2
bin=$(swift build -c "$configuration" --show-bin-path)
log "man pages (argument-parser's generate-manual plugin)"
swift package plugin generate-manual --multi-page --configuration "$configuration" >&2
pages=.build/plugins/GenerateManual/outputs
# The plugin's own build leaves the package's other products to be linked again.
swift build -c "$configuration" >&2

# The manifest: "file PATH SHA256" and "dir PATH" lines, each written as soon as the file or
# folder is (an install that fails half-way can still be uninstalled); uninstall.sh reads it
# backwards.
record() { echo "$*" >> "$manifest"; }
make_dir() { # every folder it creates, outermost first (all made before any is recorded: the
              # first call makes the manifest's own folder)
    local dir=$1 missing=()
    while [ ! -d "$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
    for dir in "${missing[@]}"; do mkdir -m 0755 "$dir"; done
    for dir in "${missing[@]}"; do record "dir $dir"; done
}
make_dir "$manifest_dir"
put() { # put SOURCE DEST MODE
    make_dir "$(dirname "$2")"
    install -m "$3" "$1" "$2"
    record "file $2 $(sha256sum "$2" | cut -d' ' -f1)"
}
work=$(mktemp -d)
at_exit "rm -rf '$work'"

for name in "${executables[@]}"; do
    put "$bin/$name" "$prefix/bin/$name" 0755
    "$bin/$name" --generate-completion-script bash > "$work/$name.bash"
    "$bin/$name" --generate-completion-script zsh > "$work/_$name"
    "$bin/$name" --generate-completion-script fish > "$work/$name.fish"
    put "$work/$name.bash" "$prefix/share/bash-completion/completions/$name" 0644
    put "$work/_$name" "$prefix/share/zsh/site-functions/_$name" 0644
    put "$work/$name.fish" "$prefix/share/fish/vendor_completions.d/$name.fish" 0644
    found=0
    for page in "$pages/$name"/*.1; do
        case $page in *.help.1) continue ;; esac   # the `help` subcommand's page says what --help does
        [ -f "$page" ] || continue
        put "$page" "$prefix/share/man/man1/$(basename "$page")" 0644
        found=1
    done
    [ $found = 1 ] || fail "no man page was made for $name"
done

for name in loadbalancer scheduler; do
    target=$etc/$name.json
    if [ -e "$target" ] && ! cmp -s "deploy/config/$name.json" "$target"; then
        log "$target exists and differs: kept; the example goes to $target.new"
        target=$target.new
    fi
    put "deploy/config/$name.json" "$target" 0644
done
if [ ! -e "$etc/autoscaler.env" ]; then
    make_dir "$etc"
    (umask 077; { echo "# The admin token of the balancer and the scheduler (made by install.sh)."
                  echo "AUTOSCALER_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"; } > "$etc/autoscaler.env")
    record "file $etc/autoscaler.env $(sha256sum "$etc/autoscaler.env" | cut -d' ' -f1)"
fi

for unit in autoscaler-loadbalancer autoscaler-scheduler; do
    sed -e "s|@PREFIX@|$prefix|g; s|@ETC@|$etc|g" "deploy/systemd/$unit.service" > "$work/$unit.service"
    put "$work/$unit.service" "$systemd_dir/$unit.service" 0644
done

# Each path once, its last line (a second install writes the same files again); folders stay
# before their contents.
tac "$manifest" | awk '!seen[$2]++' | tac > "$work/manifest" && cat "$work/manifest" > "$manifest"

log "installed into $prefix (configs in $etc, units in $systemd_dir); listed in $manifest"
if [ -d /run/systemd/system ] && [ "$(id -u)" = 0 ]; then
    systemctl daemon-reload
    log "start them with: systemctl enable --now autoscaler-loadbalancer autoscaler-scheduler"
else
    log "with systemd running: systemctl daemon-reload && systemctl enable --now autoscaler-loadbalancer autoscaler-scheduler"
fi
