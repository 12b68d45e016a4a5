# The shell-loop reference of scale.sh and first-run-ab.sh: shell-loop.sh DIR JOBS runs every
# chain of DIR/chains.txt (scale_gen.py) in order, JOBS chains at a time, from an empty out/.
cd "$1" && rm -rf out && mkdir -p out && xargs -P "$2" -n 1 sh <chains.txt
