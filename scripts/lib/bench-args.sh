# shellcheck shell=bash
# Checks the arguments of the benchmark scripts that take at most one operand (a work directory or
# a number of runs); sourced by them.

# bench_check_args SCRIPT ARG...
# Prints SCRIPT's header comment and exits 0 for -h or --help. Exits 2 with a message for any other
# option, so that no option is taken for a directory, and for more than one operand.
bench_check_args() {
  local script=$1 name
  name=$(basename "$script")
  shift
  case "${1:-}" in
    -h | --help)
      sed -n '2,/^set -euo/p' "$script" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "$name: unknown option '$1'; run $name --help" >&2
      exit 2
      ;;
  esac
  if (($# > 1)); then
    echo "$name: expected at most one argument, got $# ($*); run $name --help" >&2
    exit 2
  fi
}
