#!/usr/bin/env bash
# Regenerate the sample prompts in assets/prompts/ from text, with espeak-ng and sox.
#
# Output: 8 kHz, mono, 16-bit PCM WAV (what Chime PlayAudio recommends), leading
# and trailing silence trimmed to a 0.1 s margin, peaks normalized to -3 dBFS.
# Deterministic: the same espeak-ng and sox versions give the same bytes
# (sox runs with -R, repeatable mode, and -D, no dither noise).
#
# Usage: scripts/make_prompts.sh [OUTPUT_DIR]   (default: assets/prompts)
set -euo pipefail
export LC_ALL=C  # '.' decimals in the summary, whatever the caller's locale

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir="${1:-$here/../assets/prompts}"

VOICE="en-us"
WORDS_PER_MINUTE=175
PEAK_DBFS=-3
MARGIN_SECONDS=0.1

# A function, not an associative array, so macOS's bash 3.2 runs this too.
text_for() {
  case "$1" in
    welcome) echo "Hello, thank you for calling. This is the Chime SDK Play Audio action. Press pound to skip." ;;
    goodbye) echo "Thank you for calling. Goodbye." ;;
    error) echo "Sorry, we cannot play that message right now. Please try again later. Goodbye." ;;
  esac
}

missing=()
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "error: missing ${missing[*]}; make_prompts.sh needs espeak-ng and sox." >&2
  echo "  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y espeak-ng sox" >&2
  echo "  macOS (Homebrew): brew install espeak-ng sox" >&2
  exit 1
fi

espeak-ng --version | head -n 1
sox --version | head -n 1

mkdir -p "$out_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for name in welcome goodbye error; do
  text="$(text_for "$name")"
  espeak-ng -v "$VOICE" -s "$WORDS_PER_MINUTE" -w "$work/$name.tts.wav" "$text"
  # silence ... reverse silence ... reverse: trim the start, then the end.
  sox -R -D "$work/$name.tts.wav" \
    -r 8000 -c 1 -b 16 -e signed-integer -t wav "$work/$name.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
    rate -v 8000 \
    gain -n "$PEAK_DBFS" \
    pad "$MARGIN_SECONDS" "$MARGIN_SECONDS"
  mv -f "$work/$name.wav" "$out_dir/$name.wav"
  printf '%-8s %6.2f s %7d bytes  %s\n' "$name" \
    "$(soxi -D "$out_dir/$name.wav")" "$(wc -c <"$out_dir/$name.wav")" "$text"
done
