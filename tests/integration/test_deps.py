"""`make run` installs only what building and running Pigeon need; the test toolchain
(Postfix, NSD, Knot, Unbound, Dovecot, clang, dnsperf...) is installed by `make check` alone
(issue 12). scripts/install-deps.sh holds the two lists; these tests check the lists against
what the build really links (the Makefile's pkg-config modules, each found in its Debian
package with dpkg -S), the Debian package's Build-Depends, the Makefile's rules, and what
the script asks apt for on a machine that has nothing (its own code, run with dpkg-query and
id replaced: an empty machine, not root, so it only lists)."""

import os
import re
import subprocess

import pigeon_harness as H

SCRIPT = H.REPO / "scripts" / "install-deps.sh"
MAKEFILE = (H.REPO / "Makefile").read_text()
CONTROL = (H.REPO / "debian" / "control").read_text()

# What `make run` may install besides the -dev packages of the libraries pigeond links, and
# why each is needed to build or run.
TOOLS = {
    "build-essential": "cc and make",
    "pkg-config": "the Makefile's compiler and linker flags",
    "python3": "scripts/config-man.py makes pigeon.conf(5) for make install",
    "openssl": "OpenSSL's default certificate directory (/usr/lib/ssl/certs)",
    "ca-certificates": "the trust store: MTA-STS policies and verified MX certificates, "
                       "the JMAP image proxy (libcurl), the Web cache's https origins",
    "publicsuffix": "[dkim] psl_file's default, read at start (DMARC)",
}


def package_list(name):
    m = re.search(r'^%s="([^"]*)"' % name, SCRIPT.read_text(), re.M | re.S)
    assert m, "no %s in %s" % (name, SCRIPT)
    return m.group(1).split()


def linked_dev_packages():
    """{pkg-config module: Debian package that ships its .pc file}."""
    mods = re.search(r"^PKGS +:= (.*)$", MAKEFILE, re.M).group(1).split()
    out = {}
    for mod in mods:
        pc = subprocess.run(["pkg-config", "--path", mod], stdout=subprocess.PIPE,
                            check=True).stdout.decode().strip()
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(pc)], stdout=subprocess.PIPE,
                               check=True).stdout.decode()
        out[mod] = owner.split(":", 1)[0].split(",")[0].strip()
    return out


def test_run_list_is_what_building_and_running_need():
    run = package_list("RUN_PACKAGES")
    dev = linked_dev_packages()
    assert len(dev) >= 10, dev
    missing = sorted(set(dev.values()) - set(run))
    assert not missing, "linked but not in RUN_PACKAGES: %s" % missing
    extra = sorted(set(run) - set(dev.values()) - set(TOOLS))
    assert not extra, "RUN_PACKAGES has what neither building nor running needs: %s" % extra
    unused = sorted(set(TOOLS) - set(run))
    assert not unused, unused


def test_debian_build_depends_has_every_linked_library():
    build_deps = re.search(r"^Build-Depends:(.*?)^\S", CONTROL, re.M | re.S).group(1)
    names = {re.split(r"[ (]", d.strip())[0] for d in build_deps.split(",") if d.strip()}
    missing = sorted(set(linked_dev_packages().values()) - names)
    assert not missing, missing
    depends = re.search(r"^Depends:(.*)$", CONTROL, re.M).group(1)
    for runtime in ("ca-certificates", "publicsuffix"):
        assert runtime in depends, depends


def rule(target):
    m = re.search(r"^%s:([^\n]*)\n((?:\t[^\n]*\n)*)" % re.escape(target), MAKEFILE, re.M)
    assert m, "no rule %s" % target
    return m.group(1).split(), m.group(2)


def test_make_run_installs_the_run_list_and_make_check_the_test_list():
    prereqs, _ = rule("run")
    assert "deps" in prereqs and "deps-test" not in prereqs, prereqs
    _, recipe = rule("deps")
    assert recipe.split() == ["@scripts/install-deps.sh", "run"], recipe
    prereqs, _ = rule("check")
    assert "deps-test" in prereqs, prereqs
    _, recipe = rule("deps-test")
    assert recipe.split() == ["@scripts/install-deps.sh", "test"], recipe
    prereqs, _ = rule("install")
    assert not {"deps", "deps-test"} & set(prereqs), prereqs


def test_script_asks_for_exactly_its_list(tmp_path):
    """On a machine without any of the packages, as a user who cannot install, the script
    names what it would install: the run list for `run`, both lists for `test`."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (fake / "id").write_text("#!/bin/sh\necho 1000\n")
    for f in fake.iterdir():
        f.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (fake, os.environ["PATH"]))
    run, test = package_list("RUN_PACKAGES"), package_list("PACKAGES")
    for arg, want in (("run", run), ("test", run + test)):
        p = subprocess.run(["sh", str(SCRIPT), arg], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=60)
        err = p.stderr.decode()
        assert p.returncode == 1, err
        m = re.search(r"^install-deps: missing Debian packages: (.*)$", err, re.M)
        assert m, err
        assert m.group(1).split() == want, (arg, m.group(1))
    assert not {"clang", "postfix", "nsd", "knot", "unbound", "dovecot-imapd", "dnsperf",
                "python3-pytest", "libcmocka-dev", "swaks"} & set(run)
