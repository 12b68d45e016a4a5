#!/usr/bin/env python3
"""The pipelines of scale.sh and first-run-ab.sh: scale_gen.py N VARIANT DIR.

Writes DIR/pipeline.toml (N trivial stages in chains of ten), DIR/dvc.yaml (the same for DVC),
DIR/seed.txt, and DIR/chains.txt: one line per chain, the path of a script that runs its ten
commands in order, each with `sh -c` as netsec does (the shell-loop reference). VARIANT `file`:
each stage writes one file and reads its predecessor's; `dir`: each writes a directory and
reads its predecessor's directory.
"""
import os, shlex, sys
n, variant, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(os.path.join(d, "chains"), exist_ok=True)
open(os.path.join(d, "seed.txt"), "w").write("seed\n")
toml, dvc, chains = [], ["stages:"], {}
for i in range(n):
    c, k = divmod(i, 10)
    if variant == "dir":
        out = f"out/c{c:05d}/s{k}"
        dep = "seed.txt" if k == 0 else f"out/c{c:05d}/s{k-1}"
        cmd = f"mkdir -p {out} && echo {i} > {out}/f"
    else:
        out = f"out/c{c:05d}_s{k}.txt"
        dep = "seed.txt" if k == 0 else f"out/c{c:05d}_s{k-1}.txt"
        cmd = f"echo {i} > {out}"
    name = f"c{c:05d}_s{k}"
    toml.append(f'[stages.{name}]\ncmd = "{cmd}"\ndeps = ["{dep}"]\nouts = ["{out}"]\n')
    dvc.append(f"  {name}:\n    cmd: {cmd}\n    deps: [{dep}]\n    outs: [{out}]")
    chains.setdefault(c, []).append(f"sh -c {shlex.quote(cmd)}")
open(os.path.join(d, "pipeline.toml"), "w").write("\n".join(toml))
open(os.path.join(d, "dvc.yaml"), "w").write("\n".join(dvc) + "\n")
with open(os.path.join(d, "chains.txt"), "w") as f:
    for c, cmds in chains.items():
        p = os.path.join(d, "chains", f"{c}.sh")
        open(p, "w").write("set -e\ncd " + shlex.quote(d) + "\n" + "\n".join(cmds) + "\n")
        f.write(p + "\n")
