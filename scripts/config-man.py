#!/usr/bin/python3
"""Writes pigeon.conf(5) from docs/config.md, so the manual page and the documentation can
never disagree: headings become sections, key tables become tagged paragraphs, code fences
become literal blocks.  Usage: scripts/config-man.py docs/config.md VERSION > pigeon.conf.5"""
import re
import sys


def roff_text(s):
    """Markdown inline text -> roff: `code` in bold, escapes for backslash and leading dots."""
    s = s.replace("\\", "\\e")
    s = re.sub(r"`([^`]*)`", r"\\fB\1\\fR", s)
    s = re.sub(r"\*\*([^*]*)\*\*", r"\\fB\1\\fR", s)
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)  # links: keep the text
    s = s.replace("\\|", "|")
    if s.startswith(".") or s.startswith("'"):
        s = "\\&" + s
    return s


def table_row(line):
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
    return cells


def convert(md, version):
    out = ['.TH PIGEON.CONF 5 "" "Pigeon %s" "Pigeon manual"' % version,
           ".SH NAME", "pigeon.conf \\- configuration file of the Pigeon mail and DNS server",
           ".SH SYNOPSIS", "/etc/pigeon/pigeon.conf", ".SH DESCRIPTION"]
    in_code = False
    header = None
    for line in md.splitlines():
        if line.startswith("```"):
            out.append(".EX" if not in_code else ".EE")
            in_code = not in_code
            continue
        if in_code:
            out.append(line.replace("\\", "\\e"))
            continue
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            out.append('.SH "%s"' % roff_text(line[3:]).upper().replace('"', ""))
            header = None
            continue
        if line.startswith("### "):
            out.append('.SS "%s"' % roff_text(line[4:]).replace('"', ""))
            continue
        if line.startswith("|"):
            cells = table_row(line)
            if header is None:
                header = cells
                continue
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            out.append(".TP")
            if len(cells) >= 3 and cells[1]:
                out.append("%s (default: %s)" % (roff_text(cells[0]), roff_text(cells[1])))
            else:
                out.append(roff_text(cells[0]))
            out.append(roff_text(cells[-1]))
            continue
        header = None
        if not line.strip():
            out.append(".PP")
        elif line.startswith("- "):
            out.append(".IP \\(bu 2")
            out.append(roff_text(line[2:]))
        else:
            out.append(roff_text(line.strip()))
    out += [".SH SEE ALSO", "pigeond(8), pigeon(1)"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: config-man.py CONFIG.md VERSION")
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(convert(f.read(), sys.argv[2]))
