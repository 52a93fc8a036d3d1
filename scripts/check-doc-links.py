#!/usr/bin/env python3
# Checks the relative links of README.md and docs/*.md: every ](file), ](file#anchor), ](#anchor) and
# <img src="…"> must name a file that exists and, with an anchor, a heading of that file (anchors made
# as GitHub makes them: lower case, punctuation dropped, spaces as hyphens, -1, -2 … for repeats).
# Links inside code blocks and to other sites are not checked. Exits 1 when a link is broken.
#   scripts/check-doc-links.py [REPOSITORY]
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent


def anchors(path):
    found, fenced, seen = set(), False, {}
    for line in path.read_text().split('\n'):
        if line.startswith('```'):
            fenced = not fenced
            continue
        heading = None if fenced else re.match(r'^#{1,6} +(.*?) *#*$', line)
        if not heading:
            continue
        anchor = re.sub(r'[^\w\- ]', '', heading.group(1).lower()).replace(' ', '-')
        repeats = seen.get(anchor, 0)
        seen[anchor] = repeats + 1
        found.add(anchor if repeats == 0 else f'{anchor}-{repeats}')
    return found


checked = broken = 0
for page in [root / 'README.md'] + sorted((root / 'docs').glob('*.md')):
    text = re.sub(r'```.*?```', '', page.read_text(), flags=re.S)
    for link in re.findall(r'\]\(([^)\s]+)\)', text) + re.findall(r'<img src="([^"]+)"', text):
        if re.match(r'[a-z]+:', link):
            continue
        checked += 1
        path, _, anchor = link.partition('#')
        target = page.parent / path if path else page
        if not target.exists():
            print(f'{page.relative_to(root)}: {link}: no file {path}')
            broken += 1
        elif anchor and anchor not in anchors(target):
            print(f'{page.relative_to(root)}: {link}: no heading #{anchor} in {path or page.name}')
            broken += 1
print(f'{checked} links checked, {broken} broken')
sys.exit(1 if broken else 0)
