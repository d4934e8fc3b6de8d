"""Every metric name the Grafana dashboard and the alert rules use must be in a
real /api/metrics scrape. Usage: names.py SCRAPE_FILE DASHBOARD.json RULES.yaml"""
import json
import re
import sys

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "and", "or", "unless", "offset", "inf", "nan", "le"}


def exprs_of_dashboard(path):
    out = []
    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "expr" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(json.load(open(path)))
    return out


def exprs_of_rules(path):
    # The rules file is plain YAML written here: `expr:` either inline or a `|` block.
    out, lines = [], open(path).read().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)expr:\s*(.*)$", lines[i])
        if m:
            indent, rest = len(m.group(1)), m.group(2)
            if rest.strip() == "|":
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i]); i += 1
                out.append("\n".join(block)); continue
            out.append(rest)
        i += 1
    return out


def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # strings
    e = re.sub(r"\{[^}]*\}", " ", e)                        # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                       # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"(?<![A-Za-z_:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", " ", e)  # numbers (1e-9)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word, after = m.group(0), e[m.end():].lstrip()[:1]
        if after == "(" or word.lower() in KEYWORDS or word.startswith("$"):
            continue
        if e[max(0, m.start() - 1)] in "$":
            continue
        if re.fullmatch(r"\d+[smhdwy]?|e\d+", word):
            continue
        names.add(word)
    return names


def exposed(scrape):
    names = set()
    for line in open(scrape):
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            name, kind = m.groups()
            names.add(name)
            if kind in ("histogram", "summary"):
                names.update({name + "_bucket", name + "_sum", name + "_count"})
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, 1)[0])
    return names


def main():
    scrape, dashboard, rules = sys.argv[1:4]
    have = exposed(scrape) | {"up"}  # `up` is Prometheus' own series for every target
    used = {}
    for src, exprs in (("dashboard", exprs_of_dashboard(dashboard)), ("rules", exprs_of_rules(rules))):
        if not exprs:
            print(f"FAIL the {src} has no expressions"); sys.exit(1)
        for e in exprs:
            for n in metric_names(e):
                used.setdefault(n, set()).add(src)
    missing = sorted(n for n in used if n not in have)
    passed = len(used) - len(missing)
    for n in sorted(used):
        print(("ok  " if n in have else "FAIL") + f" {n} ({', '.join(sorted(used[n]))})")
    print(f"{passed} passed, {len(missing)} failed")
    sys.exit(1 if missing or len(used) < 10 else 0)


main()
