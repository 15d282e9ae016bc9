#!/usr/bin/env bash
# Every measured row of docs/MODEL_CARD.md for one set of weights, in one run: what a session runs before it
# bundles new weights (or to re-measure the bundled ones after a change to the render).
#
#   bash benchmarks/model_card.sh [WEIGHTS] [OUT]     # WEIGHTS: a .safetensors file or bundled name (default lite)
#
# Writes into OUT (default model_card_WEIGHTS, beside the current folder):
#   stills.txt    benchmarks/validation.py: the network alone and the default against closed-form, photos and
#                 their 1-3 MP composites, given and tight trimaps (the "Stills" table);
#   table4.txt    benchmarks/trimap_adaptation.py (the paper's Table 4);
#   clips.txt     benchmarks/video.py: gt07 and the distractor clip, default render (the "Video" table);
#   footage.txt   benchmarks/video.py: judo, bedroom and cutie, with their contact sheets in sheets/;
#   demo/         adamatte demo with these weights: its contact sheet, to look at as a compositor would.
# Needs ../shared/data. On this project's 2-core CPU it takes about 10 minutes with nothing else running:
# stop a training run first (pkill -STOP -f "adamatte train"; pkill -CONT to resume).
set -euo pipefail

weights=${1:-lite}
out=${2:-model_card_$(basename "${weights%.safetensors}")}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

step() {  # step NAME COMMAND...: run it, its output into OUT/NAME.txt, and say how long it took
    local name=$1 start=$SECONDS
    shift
    echo "== $name: $*" >&2
    "$@" > "$out/$name.txt"
    echo "   $((SECONDS - start)) s -> $out/$name.txt" >&2
}

step stills python "$here/validation.py" --weights "$weights" --variants network,net+auto --classical closed-form \
    --images photos,composites
step table4 python "$here/trimap_adaptation.py" --weights "$weights"
step clips python "$here/video.py" --weights "$weights" --clips gt07,distractor --rows default --skip-closed-form
step footage python "$here/video.py" --weights "$weights" --clips judo,bedroom,cutie --rows default --skip-closed-form \
    --sheet "$out/sheets"
step demo adamatte demo -o "$out/demo" --weights "$weights" --progress none
echo "done: $out (look at $out/demo/contact_sheet.png and $out/sheets/)" >&2
