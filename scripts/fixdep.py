#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""fixdep.py DEPFILE CONFIGDIR

Rewrites DEPFILE, the dependency file gcc -MMD -MP wrote for one target,
so that a config change rebuilds only the targets it can affect:

  - the dependency on include/generated/autoconf.h, which changes with
    every option, is dropped;
  - every CONFIG_FOO_BAR that the source or one of its headers mentions
    (IS_ENABLED(CONFIG_FOO_BAR), #ifdef, a comment: any mention counts)
    adds $(wildcard CONFIGDIR/foo/bar.h), the file that kconfiglib's
    Kconfig.sync_deps() (scripts/kconfig.py syncconfig) touches when that
    option changes value.  A file that does not exist is an option that
    has not changed since the first sync: $(wildcard) leaves it out.

The rest of DEPFILE (the -MP targets of the headers) is kept.
"""
import os
import re
import sys

CONFIG_RE = re.compile(rb"CONFIG_[A-Z0-9_]+")
AUTOCONF = "generated/autoconf.h"


def parse(text):
    """(target, prerequisites, rest): the first rule of a gcc .d file and
    the lines that follow it."""
    lines = text.split("\n")
    rule = []
    while lines:
        line = lines.pop(0)
        rule.append(line.rstrip("\\").strip())
        if not line.endswith("\\"):
            break
    target, _, prereqs = " ".join(rule).partition(":")
    return target, prereqs.split(), lines


def config_files(paths, configdir):
    """The include/config/ files of the options that PATHS mention."""
    names = set()
    for path in paths:
        try:
            with open(path, "rb") as f:
                names.update(CONFIG_RE.findall(f.read()))
        except OSError:
            pass
    files = set()
    for name in names:
        sym = name.decode()[len("CONFIG_"):]
        # CONFIG_ or CONFIG_FOO_ alone is a prefix pasted onto something.
        if sym and not sym.endswith("_"):
            files.add(os.path.join(configdir, sym.lower().replace("_", "/") + ".h"))
    return sorted(files)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    depfile, configdir = argv[1], argv[2]
    with open(depfile) as f:
        target, prereqs, rest = parse(f.read())
    prereqs = [p for p in prereqs if not p.endswith(AUTOCONF)]
    prereqs += ["$(wildcard %s)" % c for c in config_files(prereqs, configdir)]
    out = ["%s: %s" % (target, " \\\n ".join(prereqs))]
    # The -MP targets, but autoconf.h's.
    out += [l for l in rest if not l.rstrip(":").endswith(AUTOCONF)]
    with open(depfile + ".tmp", "w") as f:
        f.write("\n".join(out))
    os.replace(depfile + ".tmp", depfile)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
