#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Config tools that Debian's python3-kconfiglib does not ship as modules,
and quiet ones for those it does: they print only warnings and errors (the
Makefile prints the status line).

Run through the Makefile, which sets srctree, SRCARCH and KCONFIG_CONFIG:

  kconfig.py load FILE          load a defconfig, write .config
  kconfig.py olddefconfig       update .config, new options at their defaults
  kconfig.py savedefconfig OUT  write a minimal defconfig to OUT
  kconfig.py allnoconfig        every visible option off
  kconfig.py allyesconfig       every visible option on
  kconfig.py randconfig [SEED]  a random valid config; prints the seed it
                                picks when none is given
  kconfig.py checkdefconfig DIR every defconfig loads with no line dropped,
                                for every architecture it applies to
  kconfig.py syncconfig HEADER DIR
                                write the config header HEADER and sync DIR
                                (include/config/), see cmd_syncconfig
"""
import os
import random
import sys
import tempfile

import kconfiglib

ARCHES = ("x86_64", "aarch64")


def kconfig_for(arch=None, warn=True):
    if arch is not None:
        os.environ["SRCARCH"] = arch
    srctree = os.environ.get("srctree", ".")
    kconf = kconfiglib.Kconfig(os.path.join(srctree, "Kconfig"), warn=warn)
    return kconf


def out_path():
    return os.environ.get("KCONFIG_CONFIG", ".config")


def write(kconf):
    path = out_path()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    kconf.write_config(path, save_old=False)


def cmd_load(path):
    kconf = kconfig_for()
    kconf.load_config(path)
    problems = dropped_lines(kconf, path)
    for p in problems:
        print("warning: %s: %s" % (os.path.basename(path), p), file=sys.stderr)
    write(kconf)


def cmd_olddefconfig():
    kconf = kconfig_for()
    if os.path.exists(out_path()):
        kconf.load_config(out_path())
    kconf.write_config(out_path())


def cmd_savedefconfig(out):
    kconf = kconfig_for()
    kconf.load_config(out_path())
    kconf.write_min_config(out)


def cmd_syncconfig(header, configdir):
    """What a build reads of the config, for incremental builds:

    HEADER                 autoconf.h, the #defines of the config
    config_string.h        beside it: the non-default options, as a string
    DIR/auto.conf          the config as make variables (set options only)
    DIR/foo/bar.h          touched when CONFIG_FOO_BAR changes value
                           (kconfiglib's Kconfig.sync_deps(); fixdep.py
                           makes each object depend on the files of the
                           options its source and headers mention)
    DIR/auto.conf.cmd      kconfig-files: the Kconfig files parsed, the
                           prerequisites of auto.conf in the Makefile

    Each file is rewritten only when its contents change.
    """
    kconf = kconfig_for()
    kconf.load_config(out_path())
    kconf.write_autoconf(header)
    kconf.sync_deps(configdir)
    write_if_changed(os.path.join(os.path.dirname(header), "config_string.h"),
                     config_string_header(kconf))
    text = "# Written by scripts/kconfig.py syncconfig\nkconfig-files := \\\n"
    srctree = os.environ.get("srctree", ".")
    text += "".join("\t$(srctree)/%s \\\n"
                    % os.path.relpath(os.path.join(srctree, f), srctree)
                    for f in kconf.kconfig_filenames)
    text += "\n"
    write_if_changed(os.path.join(configdir, "auto.conf.cmd"), text)


def config_string_header(kconf):
    """config_string.h: the build's architecture and its non-default
    options (what savedefconfig writes), one C string for hak_config()."""
    fd, tmp = tempfile.mkstemp()
    os.close(fd)
    try:
        kconf.write_min_config(tmp, header="")
        with open(tmp) as f:
            lines = []
            for l in f:
                l = l.strip()
                if l.startswith("# CONFIG_") and l.endswith(" is not set"):
                    lines.append(l[2:-len(" is not set")] + "=n")
                elif l and not l.startswith("#"):
                    lines.append(l)
    finally:
        os.unlink(tmp)
    text = " ".join(["ARCH=" + os.environ.get("SRCARCH", "x86_64")] + lines)
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return ("/* Written by scripts/kconfig.py syncconfig */\n"
            "#define HAKMEM_CONFIG_STRING \"%s\"\n" % text)


def write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def cmd_all(value):
    kconf = kconfig_for()
    kconf.warn = False
    for sym in kconf.unique_defined_syms:
        if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
            sym.set_value(2 if value else 0)
    if value:
        for choice in kconf.unique_choices:
            choice.set_value(2)
    kconf.warn = True
    write(kconf)


def cmd_randconfig(seed=None):
    picked = seed is None or seed == ""
    if picked:
        seed = random.SystemRandom().randrange(1 << 31)
    seed = int(seed)
    rng = random.Random(seed)
    kconf = kconfig_for()
    kconf.warn = False
    for sym in kconf.unique_defined_syms:
        if sym.choice is not None or not sym.nodes[0].prompt:
            continue
        if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
            sym.set_value(rng.choice((0, 2)))
        elif sym.orig_type == kconfiglib.INT and sym.ranges and sym.str_value:
            # An int whose dependencies are off has no value: left alone.
            low, high = (int(x.str_value) for x in sym.ranges[0][:2])
            sym.set_value(str(rng.choice((int(sym.str_value), low, high))))
    for choice in kconf.unique_choices:
        syms = [s for s in choice.syms if s.visibility]
        if syms:
            rng.choice(syms).set_value(2)
    kconf.warn = True
    write(kconf)
    if picked:
        print("randconfig: seed %d" % seed)


def parse_defconfig(path):
    """Yields (symbol name, value) for every assignment in a defconfig."""
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("CONFIG_") and "=" in line:
                name, val = line[len("CONFIG_"):].split("=", 1)
                yield name, val.strip('"')
            elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
                yield line[len("# CONFIG_"):-len(" is not set")], "n"


def dropped_lines(kconf, path):
    problems = []
    for name, want in parse_defconfig(path):
        sym = kconf.syms.get(name)
        if sym is None or not sym.nodes:
            problems.append("CONFIG_%s is not a known symbol" % name)
        elif sym.str_value != want:
            problems.append("CONFIG_%s=%s was dropped (value is %s; unmet "
                            "dependencies?)" % (name, want, sym.str_value or "n"))
    return problems


def significant(lines):
    return [l for l in lines if l.strip() and not l.startswith("# ") or
            l.startswith("# CONFIG_")]


def cmd_checkdefconfig(directory):
    failed = 0
    checked = 0
    for name in sorted(os.listdir(directory)):
        if not name.endswith("_defconfig"):
            continue
        path = os.path.join(directory, name)
        arches = [a for a in ARCHES if name.startswith(a + "_")] or ARCHES
        for arch in arches:
            kconf = kconfig_for(arch, warn=False)
            kconf.load_config(path)
            problems = dropped_lines(kconf, path)
            with tempfile.NamedTemporaryFile("r", suffix="_defconfig") as tmp:
                kconf.write_min_config(tmp.name, header="")
                saved = significant(open(tmp.name).read().splitlines())
            ours = significant(open(path).read().splitlines())
            if saved != ours:
                problems.append("differs from savedefconfig output:\n    "
                                "savedefconfig: %s\n    file:          %s"
                                % (" ".join(saved), " ".join(ours)))
            checked += 1
            if problems:
                failed += 1
                for p in problems:
                    print("FAIL %s (%s): %s" % (name, arch, p))
            else:
                print("ok   %s (%s)" % (name, arch))
    print("checkdefconfig: %d passed, %d failed" % (checked - failed, failed))
    return 1 if failed else 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "load" and len(argv) == 3:
        cmd_load(argv[2])
    elif cmd == "olddefconfig" and len(argv) == 2:
        cmd_olddefconfig()
    elif cmd == "savedefconfig" and len(argv) == 3:
        cmd_savedefconfig(argv[2])
    elif cmd == "syncconfig" and len(argv) == 4:
        cmd_syncconfig(argv[2], argv[3])
    elif cmd == "allnoconfig":
        cmd_all(False)
    elif cmd == "allyesconfig":
        cmd_all(True)
    elif cmd == "randconfig":
        cmd_randconfig(argv[2] if len(argv) > 2 else None)
    elif cmd == "checkdefconfig" and len(argv) == 3:
        return cmd_checkdefconfig(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
