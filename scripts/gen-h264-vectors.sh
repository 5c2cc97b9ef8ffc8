#!/usr/bin/env bash
# Regenerates the Open H.264 test vectors in crates/rfb-encodings/tests/data/h264/.
#
# None of the servers the tests can start (TigerVNC, x11vnc, QEMU) sends H.264, so the
# vectors are streams made by Debian's x264 and FFmpeg from a known picture. CI uses the
# committed files and never runs this script (x264 and ffmpeg are not CI dependencies).
#
# Made with (Debian 12): x264 0.164.3095 baee400 (package x264), ffmpeg 5.1.9-0+deb12u1
# (package ffmpeg, libx264 164). Install: apt-get install x264 ffmpeg.
#
# Source picture (crates/rfb-encodings/tests/h264.rs, `source_rgb`, must match): frame k of a
# W x H stream is four flat quadrants; quadrant q (0 top-left, 1 top-right, 2 bottom-left,
# 3 bottom-right) has colour PALETTE[(k + q) % 6]. Colours stay away from 0 and 255 so that
# limited-range YUV keeps them.
#
# Outputs, per stream NAME: NAME.h264 (Annex B) and NAME.frames, ffprobe's view of the frame
# boundaries ("size,flags" per access unit; K = key frame), which the tests compare with their
# own split.
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/crates/rfb-encodings/tests/data/h264"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# Writes FRAMES frames of W x H RGB24 to stdout.
source_rgb() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
w, h, n = map(int, sys.argv[1:4])
PALETTE = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200), (200, 40, 200)]
out = bytearray()
for k in range(n):
    for y in range(h):
        for x in range(w):
            q = (1 if x >= w // 2 else 0) + (2 if y >= h // 2 else 0)
            out += bytes(PALETTE[(k + q) % 6])
sys.stdout.buffer.write(out)
PY
}

# BT.601 limited range, written into the SPS (VUI) as the spec asks.
colour=(--range tv --colorprim smpte170m --transfer smpte170m --colormatrix smpte170m)

# 64x48, 5 frames with x264: IDR, 3 P frames, IDR (keyint 4), baseline, one slice a frame.
source_rgb 64 48 5 >"$tmp/a.rgb"
ffmpeg -v error -f rawvideo -pix_fmt rgb24 -s 64x48 -r 10 -i "$tmp/a.rgb" \
    -vf scale=out_color_matrix=bt601:out_range=tv -pix_fmt yuv420p -f yuv4mpegpipe "$tmp/a.y4m"
x264 --quiet --profile baseline --preset medium --tune stillimage --qp 12 \
    --keyint 4 --min-keyint 4 --scenecut 0 --no-progress "${colour[@]}" \
    -o "$out/x264-64x48.h264" "$tmp/a.y4m"

# 16x16, 3 frames with FFmpeg's libx264: access unit delimiters on, one IDR then P frames.
source_rgb 16 16 3 >"$tmp/b.rgb"
ffmpeg -v error -f rawvideo -pix_fmt rgb24 -s 16x16 -r 10 -i "$tmp/b.rgb" \
    -vf scale=out_color_matrix=bt601:out_range=tv -pix_fmt yuv420p \
    -c:v libx264 -profile:v baseline -qp 12 -g 30 -bf 0 -x264-params aud=1:scenecut=0 \
    -color_range tv -color_primaries smpte170m -color_trc smpte170m -colorspace smpte170m \
    -f h264 -y "$out/ffmpeg-16x16-aud.h264"

for f in "$out"/*.h264; do
    ffprobe -v error -show_packets -show_entries packet=size,flags -of csv=p=0 "$f" \
        >"${f%.h264}.frames"
done
ls -l "$out"
